"""Reads at scale: `list`, `info`, `stats 30`, `timeline` with many incidents in one database.

Run from the repository root:  .venv/bin/python -m bench.bench_scale [--incidents 10000]
[--reads 200] [--sizes 100,1000,10000]

Seeds N incidents (half ongoing, 30 timeline events each, spread over two years, private
channels in the test double) and N pending status reminders through the store's bulk loader,
has warroom list every incident channel's members once (as its re-sync does), then runs each
read ``--reads`` times as a person would (the slash command through the double into warroom's
real aiohttp app and back) and prints one summary line: p50/p99 per read bot-side (from the
double sending the callback to warroom's answer read back), the requests warroom
made to Mattermost while answering them (goal: none), the process's RSS with everything
loaded (double included: an upper bound for warroom) and the time from start to ready (the
event stream connected) on that database after a restart. Baselines in the line: p99 against
the 5 ms goal, and the read time against a trivial command (`help`) measured the same way in
the same run (what any callback costs: HTTP, parsing, verifying). ``--sizes`` prints one such line per size,
to show how each read grows with the number of incidents.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.domain import transitions
from bot.domain.models import (
    EventKind,
    Incident,
    IncidentStatus,
    Playbook,
    StageTemplate,
    TaskTemplate,
    TimelineEvent,
)
from bot.log import configure
from bot.store.bulk import load_incidents
from bot.store.memberships import MembershipStore
from tests.scenarios.harness import World, world

DAY_MS = 86_400_000
EVENTS = 30
PLAYBOOK = Playbook(
    id="p" * 26,
    title="Outage",
    team_id="",
    stages=tuple(
        StageTemplate(title=f"Stage {s}", tasks=tuple(TaskTemplate(title=f"Task {t}") for t in range(5)))
        for s in range(3)
    ),
)  # fmt: skip
READS = ("list", "info", "stats 30", "timeline")
LISTED = 200  # channels whose members are listed through the double, timed
DEBUG = False
CHUNK = 250
POOL = 50  # people in the team; each channel holds PER_CHANNEL of them and the bot
PER_CHANNEL = 5


def rss_mb() -> float:
    """The process's resident set now (MB), from /proc."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * 4096 / 1e6


def incident_of(w: World, n: int, total: int, now: int, channel_id: str) -> Incident:
    """Incident ``n`` of ``total``: the newer half ongoing, the rest ended; over two years."""
    created = now - (total - n) * (730 * DAY_MS // max(total, 1)) - 60_000
    inc, _ = transitions.new_incident(
        incident_id=f"{n:026d}",
        playbook=PLAYBOOK.model_copy(update={"team_id": w.team.id}),
        team_id=w.team.id,
        channel_id=channel_id,
        channel_name=f"scale-{n}",
        name=f"Scale {n}",
        description="",
        reporter_id=w.alice.id,
        now=created,
        severity=("SEV1", "SEV2", "SEV3")[n % 3],
    )
    if n < total // 2:
        inc = inc.model_copy(
            update={"status": IncidentStatus.ENDED, "ended_at": created + 3_600_000}
        )
    return inc


def members_of(n: int, people: list[str]) -> list[str]:
    """Channel ``n``'s people: 5 of the pool, so each person is in about 1 channel in 10."""
    return [people[(n + k * 7) % len(people)] for k in range(PER_CHANNEL)]


async def seed(w: World, total: int) -> tuple[list[Incident], list[list[str]]]:
    """The incidents (oldest first) and each one's channel members."""
    now = w.app.services.clock.now_ms()
    people = [w.alice.id] + [
        w.mm.add_user(f"person{p}", teams=[w.team.id]).id for p in range(POOL - 1)
    ]
    incidents: list[Incident] = []
    listings: list[list[str]] = []
    store = MembershipStore(w.app.db)
    for first in range(0, total, CHUNK):  # in chunks: the event loop keeps serving meanwhile
        chunk, members = [], []
        for n in range(first, min(total, first + CHUNK)):
            members.append([w.bot.id, *members_of(n, people)])
            channel = w.mm.add_channel(w.team.id, f"scale-{n}", private=True, members=members[-1])
            chunk.append(incident_of(w, n, total, now, channel.id))
        events = [
            [
                TimelineEvent(
                    kind=EventKind.TASK_CHECKED,
                    at=inc.created_at + e,
                    actor_id=w.alice.id,
                    data={"stage": 0, "task": e % 5},
                )
                for e in range(EVENTS)
            ]
            for inc in chunk
        ]
        due = [now + 3_600_000 + n for n in range(first, first + len(chunk))]
        await load_incidents(w.app.db, chunk, events, reminder_due=due)
        # As the re-sync would have listed them (one listing per channel is timed on a sample).
        await store.seed_many(
            [(inc.channel_id, m) for inc, m in zip(chunk, members, strict=True)], at=now
        )
        incidents += chunk
        listings += members
        await asyncio.sleep(0)
    return incidents, listings


def time_callbacks(w: World) -> list[float]:
    """Bot-side times (ms): the double's call of warroom's callback URL, from sending the
    request to the whole answer read; appended to the returned list as they happen."""
    core = w.mm._core  # bench-only instrumentation of the double
    original = core.call_integration
    spent: list[float] = []

    async def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            spent.append((time.perf_counter() - began) * 1000)

    core.call_integration = timed  # type: ignore[method-assign]
    return spent


def check(answers: dict[str, str], newest: Incident) -> None:
    """The reads answer what they should (a refusal or an error would be fast too)."""
    assert f"scale-{newest.channel_name.split('-')[1]}" in answers["list"], answers["list"]
    assert "| **All** |" in answers["stats 30"], answers["stats 30"]
    assert newest.name in answers["info"], answers["info"]
    assert "Task checked" in answers["timeline"] or newest.name in answers["timeline"], answers[
        "timeline"
    ]


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def one_size(total: int, reads: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        async with world(Path(tmp)) as w:
            await w.listening()
            incidents, listings = await seed(w, total)
            await w.app.services.memberships.recheck()
            sample = incidents[-min(total, LISTED) :]
            began = time.perf_counter()
            await asyncio.gather(*(w.app.services.memberships.seed(i.channel_id) for i in sample))
            listing_ms = (time.perf_counter() - began) * 1000 / len(sample)
            newest = next(
                i
                for i, m in zip(reversed(incidents), reversed(listings), strict=True)
                if w.alice.id in m
            )
            texts = {
                "list": "list",
                "info": f"info ~{newest.channel_name}",
                "stats 30": "stats 30",
                "timeline": f"timeline ~{newest.channel_name}",
                "help": "help",
            }
            answers = {}  # warm: the caller's name and roles, read once
            for kind, text in texts.items():
                reply = await w.mm.run_command(w.alice, w.town.id, text, trigger="incident")
                answers[kind] = str(reply.get("text", ""))
            check(answers, newest)
            await w.settle()
            before = len(w.mm.requests)
            times: dict[str, list[float]] = {k: [] for k in texts}
            bot_side = time_callbacks(w)
            for _ in range(reads):
                for kind, text in texts.items():
                    bot_side.clear()
                    await w.mm.run_command(w.alice, w.town.id, text, trigger="incident")
                    times[kind].append(bot_side[-1])
            calls = len(w.mm.requests) - before
            if calls and DEBUG:
                from collections import Counter

                print(Counter(r.path[:40] for r in w.mm.requests[before:]).most_common(5))
                print("connections", w.app.listener.connections)
            rss = rss_mb()
            await w.stop_app()
            started = time.perf_counter()
            await w.start_app()
            ready_s = time.perf_counter() - started
            rss = max(rss, rss_mb())
    base = quantile(times["help"], 0.5)
    parts = []
    for kind in READS:
        p50, p99 = quantile(times[kind], 0.5), quantile(times[kind], 0.99)
        parts.append(
            f"{kind} p50 {p50:.1f} ms p99 {p99:.1f} ms ({p99 / 5:.2f}x goal, {p50 / base:.1f}x help)"
        )
    return (
        f"scale {total:,} incidents ({total // 2:,} ongoing, {EVENTS} events each, "
        f"{total:,} reminders): " + "; ".join(parts)
        + f"; Mattermost requests while reading: {calls}; re-sync member listing {listing_ms:.1f} ms per channel; "
        f"RSS {rss:.0f} MB ({rss / 150:.2f}x goal, double included); "
        f"start to ready {ready_s:.2f} s ({ready_s / 3:.2f}x goal)"
    )  # fmt: skip


def main(argv: list[str] | None = None) -> str:
    """Run the benchmark; print and return the summary line (one per size with --sizes)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--sizes", default="", help="comma separated, e.g. 100,1000,10000")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s] or [args.incidents]
    lines = [asyncio.run(one_size(size, args.reads)) for size in sizes]
    for line in lines:
        print(line)
    return "\n".join(lines)


if __name__ == "__main__":
    configure("warning", "console")  # here, not in main(): tests keep their own logging
    main()
