"""Task toggles at a sustained rate: `/incident check 1 1` offered N times a second.

Run from the repository root:  .venv/bin/python -m bench.bench_toggles [--rate 1000]
[--seconds 5] [--incidents 5]

warroom runs as its own process (``warroom run``, :mod:`bench.warroom_process`) beside the
Mattermost double in this one, so what is timed is warroom's, not the double's. The benchmark
starts a few incidents, runs one `/incident check 1 1` (a toggle) in each through the double
and keeps the request the double sent warroom, then sends those requests itself, in turn over
the incidents, at ``--rate`` per second for ``--seconds`` (each its own HTTP request: the
double's own work per command would otherwise limit the rate, in this process). The double
still serves everything warroom asks of Mattermost. It prints one summary line:

- the rate answered, against the offered one;
- p50/p99 bot-side (from sending the callback to warroom's whole answer read), against the
  20 ms goal;
- warroom's CPU time per toggle while they were offered (answers and the background work
  meanwhile: posts, card refreshes, its own websocket events), read from /proc, and the rate
  that makes on one core of its own (steadier than the rate on a shared machine);
- durable: warroom is killed (SIGKILL) right after the last answer, and every answered
  toggle must be in the database (one timeline event each);
- lines: warroom is started again on that database; its re-sync posts what the kill left
  pending, and every answered toggle's line must be in its channel exactly once. How many
  posts said them (a burst is said in few posts, several lines each).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sqlite3
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.warroom_process import PLAYBOOKS, Site, double_site, warroom_process
from bot.log import configure
from bot.render.keys import keys_of

GOAL_P99_MS = 20.0


@dataclass(frozen=True)
class Callback:
    """The slash command request the double sends warroom for one `/incident check 1 1`."""

    url: str
    body: bytes
    headers: dict[str, str]


async def captured(site: Site, channel_id: str) -> Callback:
    """Run one toggle through the double and keep the request it sent warroom, byte for byte
    (the benchmark then sends it again itself: the double's own work per command would
    otherwise be what limits the rate, in this process)."""
    core = site.mm._core  # bench-only instrumentation of the double
    original = core.call_integration
    seen: list[Callback] = []

    async def capture(url: str, body: bytes | None, **kwargs: Any) -> Any:
        headers = {**kwargs.get("headers", {}), "Content-Type": kwargs["content_type"]}
        seen.append(Callback(url, body or b"", headers))
        return await original(url, body, **kwargs)

    core.call_integration = capture  # type: ignore[method-assign]
    try:
        reply = await site.mm.run_command(site.alice, channel_id, "check 1 1")
    finally:
        core.call_integration = original  # type: ignore[method-assign]
    assert not reply.get("text") and len(seen) == 1, reply
    return seen[0]


async def start(site: Site, name: str) -> str:
    """Start an incident with the one-line start; its channel id once its checklist is up."""
    reply = await site.mm.run_command(site.alice, site.town.id, f'start "{name}" with "Outage"')
    assert not reply.get("text") or "open" in str(reply.get("text")), reply

    def channel() -> str:
        for found in site.mm.state.channels.values():
            if found.display_name == name:
                posts = site.mm.posts(found.id)
                if any(k.startswith("checklist:") for p in posts for k in keys_of(p["props"])):
                    return str(found.id)
        return ""

    await site.mm.wait_until(channel, within=30)
    return channel()


async def offer(
    callbacks: list[Callback], rate: int, seconds: float
) -> tuple[list[float], int, float]:
    """Send the toggles on schedule, each its own request; (bot-side ms of each, from sending
    it to warroom's whole answer read; how many were refused; seconds first to last)."""
    spent: list[float] = []
    refused = 0

    async def one(http: aiohttp.ClientSession, callback: Callback) -> None:
        nonlocal refused
        began = time.perf_counter()
        async with http.post(callback.url, data=callback.body, headers=callback.headers) as resp:
            answer = await resp.read()
        spent.append((time.perf_counter() - began) * 1000)
        if resp.status != 200 or json.loads(answer).get("text"):  # a toggle says nothing
            refused += 1

    total = int(rate * seconds)
    pending: list[asyncio.Task[None]] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        began = time.perf_counter()
        for n in range(total):
            delay = began + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            pending.append(asyncio.create_task(one(http, callbacks[n % len(callbacks)])))
        await asyncio.gather(*pending)
        elapsed = time.perf_counter() - began
    return spent, refused, elapsed


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process ``pid`` has used so far, in seconds (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def recorded(db_path: Path) -> int:
    """Toggles on the timelines (read from the database file warroom left)."""
    with sqlite3.connect(db_path) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM timeline_events WHERE kind IN ('task_checked', 'task_unchecked')"
        ).fetchone()
    return int(count)


def unposted(db_path: Path) -> int:
    """Change lines recorded and not yet posted."""
    with sqlite3.connect(db_path) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM effects WHERE kind = 'change' AND state = 'pending'"
        ).fetchone()
    return int(count)


def said(site: Site, channels: list[str]) -> tuple[Counter[str], int]:
    """How many times each change line's key is in its channel, and how many posts said them."""
    keys: Counter[str] = Counter()
    posts = 0
    for channel_id in channels:
        for post in site.mm.posts(channel_id):
            found = [k for k in keys_of(post["props"]) if k.startswith("notice:")]
            keys.update(found)
            posts += bool(found)
    return keys, posts


async def run(rate: int, seconds: float, count: int, log_level: str = "warning") -> str:
    with tempfile.TemporaryDirectory() as tmp:
        async with double_site(Path(tmp), PLAYBOOKS) as site:
            env = site.environment(WARROOM_LOG_LEVEL=log_level)
            async with warroom_process(env) as proc:
                channels = [await start(site, f"Toggle {n}") for n in range(count)]
                callbacks = [await captured(site, c) for c in channels]  # a toggle each
                cpu = cpu_seconds(proc.pid)
                spent, refused, elapsed = await offer(callbacks, rate, seconds)
                cpu = cpu_seconds(proc.pid) - cpu  # answers and the background work meanwhile
                logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # cut short
                proc.process.kill()  # right after the last answer: only what was committed
                await proc.process.wait()
            answered = len(spent) - refused + len(callbacks)  # with the captured ones
            durable = recorded(site.db_path)
            left = unposted(site.db_path)
            async with warroom_process(env):  # its re-sync posts what the kill left pending
                await site.mm.wait_until(lambda: unposted(site.db_path) == 0, within=60)
            keys, posts = said(site, channels)
    ordered = sorted(spent)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    per_s = (len(spent) - refused) / elapsed
    cpu_ms = cpu * 1000 / max(1, len(spent))
    once = sum(1 for n in keys.values() if n == 1)
    return (
        f"toggles: {per_s:,.0f}/s answered of {rate:,}/s offered ({per_s / rate:.2f}x) "
        f"for {seconds:g} s over {count} incidents, warroom in its own process; "
        f"p50 {p50:.1f} ms p99 {p99:.1f} ms bot-side ({p99 / GOAL_P99_MS:.2f}x the 20 ms goal); "
        f"warroom's CPU {cpu_ms:.2f} ms per toggle ({1000 / cpu_ms:,.0f}/s on one free core); "
        f"refused {refused}; durable: {durable} of {answered} toggles recorded after kill -9; "
        f"lines: {once} of {answered} posted exactly once ({len(keys) - once} more than once), "
        f"in {posts} posts ({left} left to the re-sync by the kill)"
    )


def main(argv: list[str] | None = None) -> str:
    """Run the benchmark; print and return its summary line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--incidents", type=int, default=5)
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=("debug", "info", "warning"),
        help="warroom's (info: a line per command, as operators usually run it)",
    )
    args = parser.parse_args(argv)
    line = asyncio.run(run(args.rate, args.seconds, args.incidents, args.log_level))
    print(line)
    return line


if __name__ == "__main__":
    configure("warning", "console")  # here, not in main(): tests keep their own logging
    main()
