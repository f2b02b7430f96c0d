"""The re-sync after a reconnect: REST calls and time with many ongoing incidents.

Run from the repository root:  .venv/bin/python -m bench.bench_resync [--incidents 1000]
[--changed 10]

Seeds N ongoing incidents (one stage of five tasks each, a private channel in the test
double), lets a first re-sync post their cards and checklists, then times three re-syncs of
the cards and checklists (``Resync.catch_up_posts``, the step this benchmark is about) and
counts the post requests each made: with every incident unchanged; with ``--changed`` of
them changed in the store while their refresh was lost; and the baseline, every post sent
as every re-sync did before issue 12 (its records dropped first). Then one whole re-sync
(every hook: channels, members, status posts, pins…) with nothing changed, for scale.
Prints one summary line.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bot.domain import transitions
from bot.domain.models import Incident, Playbook, StageTemplate, TaskTemplate, TimelineEvent
from bot.log import configure
from bot.store.bulk import load_incidents
from tests.scenarios.harness import World, world

PLAYBOOK = Playbook(
    id="p" * 26,
    title="Outage",
    team_id="",
    stages=(StageTemplate(title="Triage", tasks=tuple(TaskTemplate(title=f"Task {t}") for t in range(5))),),
)  # fmt: skip
CHUNK = 250


async def seed(w: World, total: int) -> list[Incident]:
    """``total`` ongoing incidents commanded by alice, in private channels of the double."""
    now = w.app.services.clock.now_ms()
    made: list[Incident] = []
    for first in range(0, total, CHUNK):
        chunk = []
        for n in range(first, min(total, first + CHUNK)):
            channel = w.mm.add_channel(
                w.team.id, f"resync-{n}", private=True, members=[w.bot.id, w.alice.id]
            )
            incident, _ = transitions.new_incident(
                incident_id=f"{n:026d}",
                playbook=PLAYBOOK.model_copy(update={"team_id": w.team.id}),
                team_id=w.team.id,
                channel_id=channel.id,
                channel_name=f"resync-{n}",
                name=f"Resync {n}",
                description="",
                reporter_id=w.alice.id,
                now=now - 60_000,
            )
            chunk.append(incident)
        await load_incidents(w.app.services.db, chunk, [[] for _ in chunk])
        made += chunk
    return made


async def timed_catch_up(w: World) -> tuple[int, float]:
    """(post requests, seconds) of one catch-up of every ongoing incident's posts."""
    before = len(w.mm.requests)
    began = time.perf_counter()
    await w.app.resync.catch_up_posts()
    elapsed = time.perf_counter() - began
    posts = [r for r in w.mm.requests[before:] if r.path.startswith("/api/v4/posts")]
    return len(posts), elapsed


async def change(w: World, incident: Incident) -> None:
    """Change what the card shows, as saved, with no refresh (as if it was lost)."""

    def severity(cur: Incident) -> tuple[Incident, list[TimelineEvent]]:
        return cur.model_copy(update={"severity": "SEV1"}), []

    await w.app.services.incidents.mutate(incident.id, severity)


async def run(total: int, changed: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        async with world(Path(tmp)) as w:
            await w.listening()
            await seed(w, total)
            await w.app.resync.catch_up_posts()  # posts every card and checklist
            await w.settle()
            ongoing = await w.app.services.incidents.store.list_ongoing()
            posted = sum(1 for i in ongoing if i.card_post_id and i.checklist_post_id)
            same_calls, same_s = await timed_catch_up(w)
            for incident in ongoing[:changed]:
                await change(w, incident)
            changed_calls, changed_s = await timed_catch_up(w)
            every = [p for i in ongoing for p in (i.card_post_id, *i.checklist_post_ids)]
            await w.app.services.incidents.rendered.forget(every)
            all_calls, all_s = await timed_catch_up(w)
            before = len(w.mm.requests)
            began = time.perf_counter()
            await w.app.resync.run()
            whole_s = time.perf_counter() - began
            whole_calls = len(w.mm.requests) - before
    return (
        f"resync: {total:,} ongoing ({posted:,} with posts); unchanged: {same_calls:,} post "
        f"calls in {same_s:.2f} s; {changed} changed: {changed_calls:,} post calls in "
        f"{changed_s:.2f} s; every post sent (before issue 12): {all_calls:,} calls in "
        f"{all_s:.2f} s ({changed_calls / max(all_calls, 1):.3f}x the calls, "
        f"{changed_s / max(all_s, 1e-9):.2f}x the time); whole re-sync, nothing changed: "
        f"{whole_calls:,} calls in {whole_s:.2f} s"
    )


def main(argv: list[str] | None = None) -> str:
    """Run the benchmark; print and return its summary line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--changed", type=int, default=10)
    args = parser.parse_args(argv)
    line = asyncio.run(run(args.incidents, args.changed))
    print(line)
    return line


if __name__ == "__main__":
    configure("warning", "console")  # here, not in main(): tests keep their own logging
    main()
