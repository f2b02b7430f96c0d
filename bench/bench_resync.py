"""The re-sync after a reconnect: REST calls and time with many ongoing incidents.

Run from the repository root:  .venv/bin/python -m bench.bench_resync [--incidents 1000]
[--changed 10]

Seeds N ongoing incidents (one stage of five tasks each, a private channel in the test
double holding the bot's card and checklist posts, whose content warroom has no record of),
then times three catch-ups of the cards and checklists (``Resync.catch_up_posts``, the step
of the re-sync this benchmark is about) and counts the post requests each made: the first
sends every post (the baseline: what every re-sync did before issue 12); the second, with
every incident unchanged, none; the third, with ``--changed`` of them changed in the store
while their refresh was lost, one per changed post. Then warroom is restarted on the same
database and its whole first re-sync (every hook: channels, members, status posts, pins…) is
counted: no post call (the records are durable; every incident is re-rendered locally once),
and all the calls of the other hooks, for scale. Prints one summary line.
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
            card, checklist = w.mm.seed_posts(channel.id, w.bot, ["", ""])
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
            ids = {"card_post_id": card, "checklist_post_id": checklist}
            chunk.append(incident.model_copy(update=ids))
        await load_incidents(w.app.db, chunk, [[] for _ in chunk])
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
            await w.mm.wait_until(lambda: w.app.resync.runs >= 1)  # the one at the connect
            ongoing = await seed(w, total)
            await w.settle()
            all_calls, all_s = await timed_catch_up(w)
            same_calls, same_s = await timed_catch_up(w)
            for incident in ongoing[:changed]:
                await change(w, incident)
            changed_calls, changed_s = await timed_catch_up(w)
            await w.stop_app()
            before = len(w.mm.requests)
            began = time.perf_counter()
            await w.start_app()
            await w.mm.wait_until(lambda: w.app.resync.runs >= 1, within=120)
            restart_s = time.perf_counter() - began
            after = w.mm.requests[before:]
            restart_posts = sum(1 for r in after if r.path.startswith("/api/v4/posts"))
    return (
        f"resync: {total:,} ongoing incidents; unchanged: {same_calls:,} post calls in "
        f"{same_s:.2f} s; {changed} changed: {changed_calls:,} post calls in "
        f"{changed_s:.2f} s; every post sent (every re-sync before issue 12): {all_calls:,} "
        f"calls in {all_s:.2f} s ({changed_calls / max(all_calls, 1):.3f}x the calls, "
        f"{changed_s / max(all_s, 1e-9):.2f}x the time); after a restart: {restart_posts:,} "
        f"post calls (whole first re-sync, every hook: {len(after):,} calls, start to done "
        f"{restart_s:.2f} s)"
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
