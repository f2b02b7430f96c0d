"""Reads at scale: `list`, `info`, `stats 30`, `timeline` with many incidents in one database.

Run from the repository root:  .venv/bin/python -m bench.bench_scale [--incidents 10000]
[--reads 200] [--sizes 100,1000,10000]

warroom runs in its own process, as a user runs it (``python -m bot run`` configured by
``WARROOM_*`` variables; bench/warroom_process.py), against the Mattermost double served by
this process on loopback. Before it starts, this process seeds the database file with N
incidents (half ongoing, 30 timeline events each, spread over two years, each with its card
and checklist posted in a private channel of the double) and N pending status reminders
through the store's bulk loader. The database is in steady state, as warroom leaves it after
a run: the double's card and checklist posts show what warroom renders for them, and the
render records it keeps of the posts it set (``post_renders``) say so, so the first re-sync
sends none of them again (the summary counts the posts it sent or updated: 0); each
channel's people are recorded as its members since the start (``incident_members``). What
is measured is warroom's usual start-up, not a one-off rewrite of every post. Then it measures,
of warroom's process alone:

- start-up: from spawn to ``/readyz`` answering ready, to every incident channel's members
  listed (``channel_members_resynced``: reads are complete from then on) and to the first
  re-sync finished (``resync_done``);
- each read run ``--reads`` times as a person would (the slash command through the double
  into warroom and back), p50/p99 bot-side: from the double sending the callback to
  warroom's answer read back; and a trivial command (``help``) timed the same way, the
  baseline of what any callback costs (HTTP, parsing, verifying); beside them, warroom's
  own time per command (the ``ms`` of its ``command_answered`` log line), which the
  scheduling of a busy machine touches less;
- the requests warroom made to Mattermost while answering them (goal: none);
- its memory (VmRSS, VmHWM from /proc) once the re-sync is done and after the reads.

One summary line per size (``--sizes``), to show how each read grows with the incidents;
baselines in the line: p99 against the 5 ms goal and p50 against ``help``'s, memory against
the 150 MB goal, start to ready against the 3 s goal.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.warroom_process import (
    SIGNING_KEY,
    Memory,
    Site,
    WarroomFailed,
    WarroomProcess,
    double_site,
    warroom_process,
)
from bot.clock import SystemClock
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
from bot.domain.signing import Signer
from bot.interactions.buttons import Buttons, post_digest
from bot.log import configure
from bot.render import cards
from bot.render import checklist as checklist_text
from bot.render.keys import keyed
from bot.render.views import Names
from bot.services.checklist_posts import checklist_key
from bot.store.bulk import load_incidents, load_members, load_renders
from bot.store.db import Database
from bot.store.memberships import MembershipStore

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
CHUNK = 500
POOL = 50  # people in the team; each channel holds PER_CHANNEL of them and the bot
PER_CHANNEL = 5
GOAL_P99_MS, GOAL_MB, GOAL_READY_S = 5.0, 150.0, 3.0
MEMBERS_WITHIN = 300.0  # s from spawn: reads leave out incidents whose members are unknown


def incident_of(site: Site, n: int, total: int, now: int, channel_id: str) -> Incident:
    """Incident ``n`` of ``total``: the newer half ongoing, the rest ended; over two years."""
    created = now - (total - n) * (730 * DAY_MS // max(total, 1)) - 60_000
    inc, _ = transitions.new_incident(
        incident_id=f"{n:026d}",
        playbook=PLAYBOOK.model_copy(update={"team_id": site.team.id}),
        team_id=site.team.id,
        channel_id=channel_id,
        channel_name=f"scale-{n}",
        name=f"Scale {n}",
        description="",
        reporter_id=site.alice.id,
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


def buttons_of(site: Site) -> Buttons:
    """The buttons warroom makes on this site (its signing key, its action URL)."""
    url = f"http://127.0.0.1:{site.port}/mattermost/action"
    return Buttons(Signer(SIGNING_KEY.encode()), url, SystemClock())


def started(
    site: Site, incident: Incident, buttons: Buttons, now: int
) -> tuple[Incident, list[tuple[str, str, str, int]]]:
    """``incident`` as a finished start leaves it: its card and checklist posted (quietly, in
    the double, as warroom renders them) and their ids saved; and the render records warroom
    keeps of them (post id, incident id, digest, set at ``now``: buttons are renewed 180 days
    after they were set), so that a re-sync finds them up to date
    (``bot/services/rendered.py``) and sends nothing. Only ongoing incidents' posts are
    re-rendered by warroom; an ended one's are placeholders."""
    if incident.status is IncidentStatus.ENDED:  # never re-rendered: placeholders will do
        card_id, checklist_id = site.mm.seed_posts(
            incident.channel_id, site.bot, ["summary card", "checklist"]
        )
        return incident.model_copy(
            update={"card_post_id": card_id, "checklist_post_id": checklist_id}
        ), []
    names = Names({incident.commander_id: site.alice.username})
    card = cards.summary_card(incident, names, buttons, incident.created_at)
    pages = checklist_text.checklist_posts(incident, names, buttons)
    keys = [f"card:{incident.id}", *(checklist_key(incident.id, n) for n in range(len(pages)))]
    shown = [
        (message, keyed(props, key))
        for (message, props), key in zip([card, *pages], keys, strict=True)
    ]
    ids = site.mm.seed_posts(incident.channel_id, site.bot, [m for m, _ in shown])
    for post_id, (_, props) in zip(ids, shown, strict=True):
        site.mm.state.posts[post_id]["props"] = props  # bench-only: as warroom's update set it
    renders = [
        (post_id, incident.id, post_digest(message, props), now)
        for post_id, (message, props) in zip(ids, shown, strict=True)
    ]
    saved = incident.model_copy(
        update={
            "card_post_id": ids[0],
            "checklist_post_id": ids[1],
            "checklist_more_post_ids": tuple(ids[2:]),
        }
    )
    return saved, renders


async def seed(site: Site, total: int) -> tuple[list[Incident], list[list[str]]]:
    """Write the database file warroom will start on, and the double's channels: the
    incidents (oldest first) and each one's channel members."""
    now = int(time.time() * 1000)
    people = [site.alice.id] + [
        site.mm.add_user(f"person{p}", teams=[site.team.id]).id for p in range(POOL - 1)
    ]
    incidents: list[Incident] = []
    listings: list[list[str]] = []
    db = Database(site.db_path)
    await db.open()
    try:
        store = MembershipStore(db)
        buttons = buttons_of(site)
        for first in range(0, total, CHUNK):
            chunk, members, renders = [], [], []
            for n in range(first, min(total, first + CHUNK)):
                members.append([site.bot.id, *members_of(n, people)])
                channel = site.mm.add_channel(
                    site.team.id, f"scale-{n}", private=True, members=members[-1]
                )
                incident, shown = started(
                    site, incident_of(site, n, total, now, channel.id), buttons, now
                )
                chunk.append(incident)
                renders += shown
            events = [
                [
                    TimelineEvent(
                        kind=EventKind.TASK_CHECKED,
                        at=inc.created_at + e,
                        actor_id=site.alice.id,
                        data={"stage": 0, "task": e % 5},
                    )
                    for e in range(EVENTS)
                ]
                for inc in chunk
            ]
            due = [now + 3_600_000 + n for n in range(first, first + len(chunk))]
            await load_incidents(db, chunk, events, reminder_due=due)
            await load_renders(db, renders)
            # Everyone in each channel, as recorded at its start (the review's members).
            await load_members(
                db,
                [
                    (inc.id, user_id, inc.created_at)
                    for inc, people in zip(chunk, members, strict=True)
                    for user_id in people[1:]  # not the bot
                ],
            )
            # As an earlier run's re-sync left them (listed before this start: not current).
            await store.seed_many(
                [(inc.channel_id, m) for inc, m in zip(chunk, members, strict=True)], at=now
            )
            incidents += chunk
            listings += members
    finally:
        await db.close()
    return incidents, listings


def time_callbacks(site: Site) -> list[float]:
    """Bot-side times (ms): the double's call of warroom's callback URL, from sending the
    request to the whole answer read; appended to the returned list as they happen."""
    core = site.mm._core  # bench-only instrumentation of the double
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


async def read_many(site: Site, texts: dict[str, str], reads: int) -> dict[str, list[float]]:
    """Each command of ``texts`` ``reads`` times, interleaved; bot-side ms per command."""
    times: dict[str, list[float]] = {k: [] for k in texts}
    bot_side = time_callbacks(site)
    for _ in range(reads):
        for kind, text in texts.items():
            bot_side.clear()
            await site.mm.run_command(site.alice, site.town.id, text, trigger="incident")
            times[kind].append(bot_side[-1])
    return times


async def own_times(
    warroom: WarroomProcess, kinds: list[str], reads: int
) -> dict[str, list[float]] | None:
    """warroom's own time per command (ms) from its ``command_answered`` log lines, collected
    since before the warm-up (one command of each kind) and in the order the commands were
    sent, one at a time; None if the lines do not add up."""
    expected = len(kinds) * (reads + 1)
    await warroom.wait_collected("command_answered", expected)
    answered = warroom.collect("command_answered")[len(kinds) :]
    if len(answered) != len(kinds) * reads:
        return None
    own: dict[str, list[float]] = {k: [] for k in kinds}
    for n, fields in enumerate(answered):
        own[kinds[n % len(kinds)]].append(float(fields["ms"]))
    return own


async def resynced(warroom: WarroomProcess, within: float) -> float | None:
    """Seconds from spawn to the first re-sync done; None if it is not done ``within`` s
    after spawn (the reads then run beside it)."""
    left = within - (time.perf_counter() - warroom.spawned)
    try:
        return await warroom.wait_logged("resync_done", max(left, 0.001))
    except WarroomFailed:
        if warroom.process.returncode is not None:
            raise
        return None


async def one_size(total: int, reads: int, resync_within: float) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        async with double_site(Path(tmp)) as site:
            incidents, listings = await seed(site, total)
            seeded = len(site.mm.requests)
            async with warroom_process(site.environment()) as warroom:
                # Reads are complete once every channel's members are listed: wait for that.
                members_s = await warroom.wait_logged("channel_members_resynced", MEMBERS_WITHIN)
                resync_s = await resynced(warroom, resync_within)
                loaded = warroom.memory()
                resent = sum(
                    r.method in ("PUT", "POST") and "/posts" in r.path
                    for r in site.mm.requests[seeded:]
                )
                newest = next(
                    i
                    for i, m in zip(reversed(incidents), reversed(listings), strict=True)
                    if site.alice.id in m
                )
                texts = {
                    "list": "list",
                    "info": f"info ~{newest.channel_name}",
                    "stats 30": "stats 30",
                    "timeline": f"timeline ~{newest.channel_name}",
                    "help": "help",
                }
                warroom.collect("command_answered")  # warroom's own times, from here on
                answers = {}  # warm: the caller's name and roles, read once
                for kind, text in texts.items():
                    reply = await site.mm.run_command(
                        site.alice, site.town.id, text, trigger="incident"
                    )
                    answers[kind] = str(reply.get("text", ""))
                check(answers, newest)
                before = len(site.mm.requests)
                times = await read_many(site, texts, reads)
                own = await own_times(warroom, list(texts), reads)
                # Beside a re-sync still running, its requests cannot be told from the reads'.
                calls = len(site.mm.requests) - before if resync_s is not None else None
                after = warroom.memory()
    start = (warroom.ready_s, members_s, resync_s)
    return summary(total, times, own, calls, (loaded, after), start, resent)


def summary(
    total: int,
    times: dict[str, list[float]],
    own: dict[str, list[float]] | None,
    calls: int | None,
    memory: tuple[Memory, Memory],
    start: tuple[float, float, float | None],
    resent: int,
) -> str:
    """The one line of a size (see the module)."""
    loaded, after = memory
    help50, help99 = quantile(times["help"], 0.5), quantile(times["help"], 0.99)
    parts = []
    for kind in READS:
        p50, p99 = quantile(times[kind], 0.5), quantile(times[kind], 0.99)
        parts.append(
            f"{kind} p50 {p50:.1f} ms p99 {p99:.1f} ms ({p99 / GOAL_P99_MS:.2f}x goal, "
            f"{p50 / help50:.1f}x help)"
        )
    ready_s, members_s, resync_s = start
    peak = max(loaded.peak, after.peak)
    return (
        f"scale {total:,} incidents ({total // 2:,} ongoing, {EVENTS} events each, "
        f"{total:,} reminders), warroom in its own process: " + "; ".join(parts)
        + f"; help p50 {help50:.1f} ms p99 {help99:.1f} ms"
        + "; warroom's own p50/p99 (its log): " + (", ".join(
            f"{kind} {quantile(ms, 0.5):.1f}/{quantile(ms, 0.99):.1f} ms" for kind, ms in own.items()
        ) if own is not None else "n/a")
        + f"; Mattermost requests while reading: {'n/a' if calls is None else calls}"
        f"; warroom RSS {loaded.rss:.0f} MB before the reads, {after.rss:.0f} MB after, "
        f"peak {peak:.0f} MB ({peak / GOAL_MB:.2f}x goal)"
        f"; start to ready {ready_s:.2f} s ({ready_s / GOAL_READY_S:.2f}x goal), "
        f"members listed {members_s:.2f} s, "
        + (f"re-sync done {resync_s:.2f} s" if resync_s is not None
           else "re-sync not done by the reads (they ran beside it)")
        + f" ({resent} posts sent or updated by then)"
    )  # fmt: skip


def main(argv: list[str] | None = None) -> str:
    """Run the benchmark; print and return the summary line (one per size with --sizes)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--sizes", default="", help="comma separated, e.g. 100,1000,10000")
    parser.add_argument(
        "--resync-within",
        type=float,
        default=60.0,
        help="seconds from spawn to wait for the first re-sync before reading",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s] or [args.incidents]
    lines = [asyncio.run(one_size(size, args.reads, args.resync_within)) for size in sizes]
    for line in lines:
        print(line)
    return "\n".join(lines)


if __name__ == "__main__":
    configure("warning", "console")  # here, not in main(): tests keep their own logging
    main()
