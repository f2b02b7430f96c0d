"""`/incident start` beside its own REST calls made bare, against the same double, same run.

Run from the repository root:  .venv/bin/python -m bench.bench_start_bare [--starts 30]

Three processes, so that each side's time is its own: warroom runs as a user runs it
(``warroom run``, :mod:`bench.warroom_process`), the Mattermost double is served by this
process, and the bare sequence is sent from a small process of its own
(:mod:`bench.bare_calls`, warroom's client library with nothing around it). Neither side's
CPU is spent on the other's or on the double's, and what warroom makes overlap does overlap.

For each start (after one start to warm up): the start dialog is submitted through the double
and timed, from the moment the double sends the submission to warroom until the last of
warroom's calls is answered by the double: the channel ready (card pinned, checklist posted,
reporter told, the start announced). The double's request log gives warroom's calls (method,
path, query, body, the id each answer carried) and when each came in and was answered. Then
the bare process sends exactly those calls, in the order they came in, one after the other,
and is timed from its first call sent to its last answered (the same two clocks: the sender's
just before sending, the double's answer). The same methods, paths and bodies, so the same
work for the server; only what must differ does: the new channel gets another name of the
same length (names are unique), and the calls on warroom's new channel and posts go to the
bare sequence's own (ids of the same length), since repeated on warroom's they would be
no-ops (adding a member twice, pinning a pinned card). Starts and bare sequences alternate.

The bare sequence is always sent one call after the other, even where warroom overlaps
independent calls (posts in different channels, the pin, the invitations): the ratio is
warroom's way of making the calls against the plainest way of making the same calls, so
warroom's own work (SQLite, rendering, the outbox, its HTTP answer to the dialog) shows
above 1 and the overlap it gains shows below. One summary line: median and p90 of warroom
and of the bare sequence, their ratio (medians; goal <= 1.15), the calls each made per start
(median), and the sequential round trips warroom's calls formed (median: the longest chain of
its calls each sent after the one before was answered, from the double's log; see
:func:`rounds`). And the CPU time (mean, from /proc: steadier than times on a shared
machine) of warroom's process from each submission until it fell quiet
(the work after its last call and its own websocket events included), and of the bare process for each
sequence.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from bench.bench_toggles import cpu_seconds
from bench.warroom_process import Site, double_site, warroom_process
from bot.log import configure
from tests.double.state import RequestRecord
from tests.scenarios.harness import PLAYBOOKS

QUIET_S = 0.2  # no call from warroom for this long after the checklist: its start is done


@dataclass
class Figures:
    """Per start: seconds warroom took and the bare sequence took; calls; round trips."""

    ready: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    rounds: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # warroom's CPU seconds per start
    cpu_bare: list[float] = field(default_factory=list)  # the bare process's per sequence
    refused: list[str] = field(default_factory=list)


def rounds(calls: list[RequestRecord], apart: float) -> int:
    """Sequential round trips the calls formed: the longest chain of calls each sent after
    the one before it was answered (earliest answered first, greedily).

    The double serves one request at a time, so calls sent together come in one after the
    other: a call is taken as sent after another only when it came in more than ``apart``
    seconds after that one was answered (the benchmark passes half the typical such gap of the
    bare sequence, whose every call waits for the answer before: an estimate, since what
    warroom sends together its one thread also prepares one call after the other)."""
    count, free_at = 0, float("-inf")
    for call in sorted(calls, key=lambda c: c.answered):
        if call.began > free_at + apart:
            count, free_at = count + 1, call.answered
    return count


def typical_gap(calls: list[RequestRecord]) -> float:
    """The median time from one call answered to the next coming in, in seconds."""
    ordered = sorted(calls, key=lambda c: c.began)
    return statistics.median([b.began - a.answered for a, b in pairwise(ordered)] or [0])


def replayable(call: RequestRecord) -> dict[str, Any]:
    """A call as :mod:`bench.bare_calls` sends it again (the JSON body, the query, the id its
    answer carried)."""
    try:
        made = json.loads(call.answer) if call.answer else None
    except ValueError:
        made = None
    return {
        "method": call.method.lower(),
        "endpoint": call.path,
        "options": json.loads(call.body) if call.body else None,
        "params": dict(parse_qsl(call.query)),
        "made_id": str(made.get("id", "")) if isinstance(made, dict) else "",
    }


@asynccontextmanager
async def bare_process(site: Site) -> AsyncIterator[asyncio.subprocess.Process]:
    """:mod:`bench.bare_calls` running as the bot (warroom's token), connected; ended on exit."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.bare_calls", site.mm.url, site.bot.token,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    try:
        first = await asyncio.wait_for(process.stdout.readline(), 30)
        assert json.loads(first or b"{}").get("ready"), f"bench.bare_calls: {first!r}"
        yield process
    finally:
        process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


async def send_bare(process: asyncio.subprocess.Process, calls: list[dict[str, Any]]) -> Any:
    """One sequence sent by the bare process; its report (see :mod:`bench.bare_calls`)."""
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(json.dumps(calls).encode() + b"\n")
    await process.stdin.drain()
    return json.loads(await asyncio.wait_for(process.stdout.readline(), 60))


def of_bot(site: Site, since: float) -> list[RequestRecord]:
    """The REST calls the bot's token made (warroom's or the bare process's) since ``since``."""
    return [
        r
        for r in site.mm.requests
        if r.user_id == site.bot.id and r.status != 101 and r.began >= since
    ]


async def quiet(site: Site, since: float, name: str) -> None:
    """Until the incident ``name`` shows its checklist and the bot has made no call for
    :data:`QUIET_S` (its background work is done)."""

    def checklist_up() -> bool:
        for channel in site.mm.state.channels.values():
            if channel.display_name == name:
                return any("checklist" in str(p["props"]) for p in site.mm.posts(channel.id))
        return False

    await site.mm.wait_until(checklist_up, within=30)
    while True:
        last = max((r.answered for r in of_bot(site, since)), default=since)
        if time.perf_counter() - last >= QUIET_S:
            return
        await asyncio.sleep(QUIET_S / 4)


async def one_start(site: Site, name: str, pid: int) -> tuple[float, list[RequestRecord], float]:
    """Start ``name`` with the Outage playbook through the dialog; (when the double sent the
    submission, warroom's calls until it was done, the CPU seconds warroom's process ``pid``
    used from the submission until then)."""
    reply = await site.mm.run_command(site.alice, site.town.id, "start")
    assert not reply.get("text"), reply
    dialog = site.mm.dialogs(site.alice.id)[-1]
    element = next(e for e in dialog["dialog"]["elements"] if e["name"] == "playbook")
    playbook = next(o["value"] for o in element["options"] if o["text"] == "Outage")
    core = site.mm._core  # bench-only instrumentation of the double: when it sends
    original = core.call_integration
    sent: list[float] = []

    async def timed(url: str, body: bytes | None, **kwargs: Any) -> Any:
        sent.append(time.perf_counter())
        return await original(url, body, **kwargs)

    core.call_integration = timed  # type: ignore[method-assign]
    cpu = cpu_seconds(pid)
    try:
        result = await site.mm.submit_dialog(
            site.alice,
            dialog,
            {"playbook": playbook, "name": name},
            channel_id=site.town.id,
            team_id=site.team.id,
        )
    finally:
        core.call_integration = original  # type: ignore[method-assign]
    assert result == {}, result
    await quiet(site, sent[0], name)
    return sent[0], of_bot(site, sent[0]), cpu_seconds(pid) - cpu


async def run(starts: int) -> Figures:
    figures = Figures()
    with tempfile.TemporaryDirectory() as tmp:
        async with double_site(Path(tmp), PLAYBOOKS) as site:
            # What the harness's Outage playbook needs: its broadcast channel, carol.
            site.mm.add_user("carol", teams=[site.team.id])
            site.mm.add_channel(site.team.id, "ops-alerts", private=False, members=[site.bot.id])
            site.mm.keep_bodies = True
            env = site.environment(WARROOM_LOG_LEVEL="warning")
            async with warroom_process(env) as proc, bare_process(site) as bare:
                await site.mm.wait_until(lambda: site.mm.connections(site.bot.id) > 0, within=30)
                for n in range(starts + 1):  # the first to warm up (direct channels made)
                    site.mm.requests.clear()
                    began, calls, cpu = await one_start(site, f"Bench {n}", proc.pid)
                    since, cpu_bare = time.perf_counter(), cpu_seconds(bare.pid)
                    report = await send_bare(bare, [replayable(c) for c in calls])
                    cpu_bare = cpu_seconds(bare.pid) - cpu_bare
                    replayed = of_bot(site, since)
                    if n == 0:
                        continue
                    figures.ready.append(max(c.answered for c in calls) - began)
                    figures.bare.append(max(c.answered for c in replayed) - report["began"])
                    figures.calls.append(len(calls))
                    figures.sent.append(len(replayed))
                    figures.rounds.append(rounds(calls, typical_gap(replayed) / 2))
                    figures.cpu.append(cpu)
                    figures.cpu_bare.append(cpu_bare)
                    figures.refused.extend(report["refused"])
    return figures


def p90(seconds: list[float]) -> float:
    """The 90th percentile (nearest rank), in ms."""
    ranked = sorted(seconds)
    return ranked[min(len(ranked) - 1, int(0.9 * len(ranked)))] * 1000


def summary(f: Figures) -> str:
    """The one summary line."""
    ours, theirs = statistics.median(f.ready) * 1000, statistics.median(f.bare) * 1000
    return (
        f"start: dialog submit to channel ready median {ours:.1f} ms p90 {p90(f.ready):.1f} ms, "
        f"{statistics.median(f.calls):.0f} REST calls in {statistics.median(f.rounds):.0f} "
        f"sequential round trips, warroom in its own process; the same calls made bare one "
        f"after another from a process of their own median {theirs:.1f} ms p90 "
        f"{p90(f.bare):.1f} ms, {statistics.median(f.sent):.0f} calls; ratio "
        f"{ours / theirs:.2f}x (goal <= 1.15x) over {len(f.ready)} starts; CPU per start "
        f"warroom {statistics.mean(f.cpu) * 1000:.1f} ms, bare "
        f"{statistics.mean(f.cpu_bare) * 1000:.1f} ms; bare calls refused {len(f.refused)}"
    )


def main(argv: list[str] | None = None) -> str:
    """Run the benchmark; print and return its summary line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--starts", type=int, default=30)
    args = parser.parse_args(argv)
    line = summary(asyncio.run(run(args.starts)))
    print(line)
    return line


if __name__ == "__main__":
    configure("warning", "console")  # here, not in main(): tests keep their own logging
    main()
