"""The reminder scheduler on a real SQLite store, with a fake clock and a recording poster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.domain import transitions
from bot.domain.models import Playbook
from bot.errors import ChatUnavailable
from bot.scheduler.scheduler import (
    MAX_ATTEMPTS,
    RETRY_AFTER_CAP_MS,
    RETRY_CAP_MS,
    RETRY_MIN_MS,
    RETRY_MS,
    ReminderScheduler,
)
from bot.services.ports import GiveUp
from bot.store.db import Database
from bot.store.incidents import IncidentStore
from bot.store.reminders import Reminder, ReminderState, ReminderStore
from tests.fake_clock import FakeClock

PLAYBOOK = Playbook(id="p" * 26, title="Outage", team_id="t" * 26)


@dataclass
class Poster:
    posted: list[int] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    looked_for: list[int] = field(default_factory=list)
    existing: dict[int, str] = field(default_factory=dict)
    failures: list[Exception] = field(default_factory=list)
    told_failed: list[int] = field(default_factory=list)

    async def post(self, reminder: Reminder) -> str | None:
        if self.failures:
            raise self.failures.pop(0)
        self.posted.append(reminder.id)
        return f"post{reminder.id}"

    async def find(self, reminder: Reminder) -> str | None:
        self.looked_for.append(reminder.id)
        return self.existing.get(reminder.id)

    async def remove(self, reminder: Reminder) -> None:
        self.removed.append(reminder.post_id)

    async def failed(self, reminder: Reminder) -> None:
        self.told_failed.append(reminder.id)


@dataclass
class Rig:
    db: Database
    store: ReminderStore
    clock: FakeClock
    poster: Poster
    scheduler: ReminderScheduler
    incidents: list[str]
    task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.scheduler.run())

    async def tick(self, **delta: float) -> None:
        self.clock.advance(**delta)
        await self.scheduler.caught_up()

    async def add(
        self, incident: int, *, minutes: float, state: ReminderState | None = None
    ) -> int:
        async with self.db.transaction() as tx:
            rid = await self.store.add(
                tx,
                incident_id=self.incidents[incident],
                channel_id="c" * 26,
                due_at=self.clock.now_ms() + int(minutes * 60_000),
                now=self.clock.now_ms(),
            )
            if state is not None:
                await tx.conn.execute("UPDATE reminders SET state = ? WHERE id = ?", (state, rid))
        return rid

    async def state(self, rid: int) -> Reminder:
        found = await self.store.get(rid)
        assert found is not None
        return found


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    db = Database(tmp_path / "w.db")
    await db.open()
    clock = FakeClock()
    ids = []
    for n in range(3):
        incident, _ = transitions.new_incident(
            incident_id=f"{n}" * 26, playbook=PLAYBOOK, team_id="t" * 26,
            channel_id=f"c{n}".ljust(26, "x"), channel_name=f"inc-{n}", name=f"Inc {n}",
            description="", reporter_id="u" * 26, now=clock.now_ms(),
        )  # fmt: skip
        async with db.transaction() as tx:
            await IncidentStore(db).insert(tx, incident)
        ids.append(incident.id)
    store = ReminderStore(db)
    poster = Poster()
    scheduler = ReminderScheduler(db=db, store=store, clock=clock, timer=clock, poster=poster)
    built = Rig(db, store, clock, poster, scheduler, ids)
    yield built
    if built.task is not None:
        built.task.cancel()
        await asyncio.gather(built.task, return_exceptions=True)
    await db.close()


async def test_idle_it_sleeps_once_until_the_earliest_due_time(rig: Rig) -> None:
    for n in range(200):
        await rig.add(n % 3, minutes=10 + n)
    rig.start()
    await rig.scheduler.caught_up()
    await asyncio.sleep(0)  # let the loop's timer task register with the fake clock
    assert rig.clock.sleepers == 1  # one timer, whatever the number of rows
    await rig.tick(minutes=9)
    assert rig.poster.posted == []
    await rig.tick(minutes=1)
    assert rig.poster.posted == [1]
    await rig.tick(minutes=3)
    assert rig.poster.posted == [1, 2, 3, 4]
    await asyncio.sleep(0)
    assert rig.clock.sleepers == 1


async def test_a_nearer_reminder_wakes_the_sleeping_loop(rig: Rig) -> None:
    await rig.add(0, minutes=60)
    rig.start()
    await rig.scheduler.caught_up()
    due = rig.clock.now_ms() + 60_000
    await rig.scheduler.replace(incident_id=rig.incidents[1], channel_id="c" * 26, due_at=due)
    await rig.tick(minutes=1)
    assert len(rig.poster.posted) == 1
    assert (await rig.state(2)).state is ReminderState.POSTED


async def test_caught_up_waits_for_a_pass_that_began_after_it(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule: a pass of the loop already under way when the clock moved (it read the time
    before) does not count as caught up; the pass after it fires what fell due."""
    rig.start()
    await rig.scheduler.caught_up()
    await rig.add(0, minutes=1)
    entered, gate = asyncio.Event(), asyncio.Event()
    real = rig.store.next_due

    async def held() -> int | None:
        monkeypatch.setattr(rig.store, "next_due", real)
        entered.set()
        await gate.wait()
        return await real()

    monkeypatch.setattr(rig.store, "next_due", held)
    rig.scheduler.wake()  # a pass begins: nothing due yet, then held before it goes idle
    await entered.wait()
    rig.clock.advance(minutes=1)
    waiting = asyncio.create_task(rig.scheduler.caught_up())
    await asyncio.sleep(0)
    gate.set()
    await waiting
    assert rig.poster.posted == [1]


async def test_replace_closes_the_pending_one_and_removes_a_posted_one(rig: Rig) -> None:
    posted = await rig.add(0, minutes=1)
    pending = await rig.add(1, minutes=30)
    rig.start()
    await rig.tick(minutes=1)
    assert (await rig.state(posted)).post_id == f"post{posted}"
    await rig.scheduler.cancel(rig.incidents[0])
    await rig.scheduler.cancel(rig.incidents[1])
    assert rig.poster.removed == [f"post{posted}"]
    assert (await rig.state(posted)).state is ReminderState.CLOSED
    assert (await rig.state(pending)).state is ReminderState.CLOSED
    await rig.tick(hours=1)
    assert rig.poster.posted == [posted]


async def test_kill_after_posting_the_row_firing_the_post_made_is_recorded_not_repeated(
    rig: Rig,
) -> None:
    rid = await rig.add(0, minutes=-5, state=ReminderState.FIRING)
    rig.poster.existing[rid] = "madebeforethekill"
    rig.start()
    await rig.scheduler.caught_up()
    assert rig.poster.posted == []
    assert rig.poster.looked_for == [rid]
    found = await rig.state(rid)
    assert (found.state, found.post_id) == (ReminderState.POSTED, "madebeforethekill")


async def test_kill_after_the_claim_before_posting_fires_once_after_start(rig: Rig) -> None:
    rid = await rig.add(0, minutes=-5, state=ReminderState.FIRING)
    rig.start()
    await rig.scheduler.caught_up()
    assert rig.poster.posted == [rid]
    assert (await rig.state(rid)).state is ReminderState.POSTED
    await rig.tick(hours=1)
    assert rig.poster.posted == [rid]


async def test_kill_while_removing_a_post_is_finished_at_start(rig: Rig) -> None:
    rid = await rig.add(0, minutes=-5, state=ReminderState.CLOSING)
    async with rig.db.transaction() as tx:
        await tx.conn.execute("UPDATE reminders SET post_id = 'p' WHERE id = ?", (rid,))
    rig.start()
    await rig.scheduler.caught_up()
    assert rig.poster.removed == ["p"]
    assert (await rig.state(rid)).state is ReminderState.CLOSED


async def test_a_failed_post_is_retried_later_and_looked_for_first(rig: Rig) -> None:
    rid = await rig.add(0, minutes=1)
    rig.poster.failures.append(ChatUnavailable("create_post", outcome_unknown=True))
    rig.start()
    await rig.tick(minutes=1)
    retry = await rig.state(rid)
    assert (retry.state, retry.attempts) == (ReminderState.PENDING, 1)
    assert retry.due_at >= rig.clock.now_ms() + RETRY_MIN_MS
    await rig.tick(seconds=(RETRY_MIN_MS + RETRY_MS) / 1000)
    assert rig.poster.looked_for == [rid]
    assert rig.poster.posted == [rid]


async def test_a_transient_failure_never_closes_a_reminder_however_long_it_lasts(
    rig: Rig,
) -> None:
    rid = await rig.add(0, minutes=1)
    rig.poster.failures.extend(ChatUnavailable("create_post") for _ in range(3 * MAX_ATTEMPTS))
    rig.start()
    for _ in range(3 * MAX_ATTEMPTS):
        await rig.tick(seconds=(RETRY_MIN_MS + RETRY_CAP_MS) / 1000)
        assert (await rig.state(rid)).state is ReminderState.PENDING
    await rig.tick(seconds=(RETRY_MIN_MS + RETRY_CAP_MS) / 1000)
    assert rig.poster.posted == [rid]
    assert (await rig.state(rid)).state is ReminderState.POSTED


async def test_a_retry_waits_at_least_the_retry_after_mattermost_asked_for(rig: Rig) -> None:
    rid = await rig.add(0, minutes=1)
    rig.poster.failures.append(ChatUnavailable("create_post", retry_after=3600))
    rig.start()
    await rig.tick(minutes=1)
    retry = await rig.state(rid)
    assert retry.state is ReminderState.PENDING
    assert retry.due_at >= rig.clock.now_ms() + min(3600_000, RETRY_AFTER_CAP_MS)
    assert retry.due_at <= rig.clock.now_ms() + max(RETRY_CAP_MS, RETRY_AFTER_CAP_MS) + RETRY_MIN_MS


async def test_a_reminder_that_can_never_be_posted_is_given_up(rig: Rig) -> None:
    rid = await rig.add(0, minutes=1)
    rig.poster.failures.append(GiveUp("403 channel gone"))
    rig.start()
    await rig.tick(minutes=10)
    assert (await rig.state(rid)).state is ReminderState.CLOSED
    assert rig.poster.posted == []
    assert rig.poster.told_failed == []  # a refusal is told by the poster itself (GiveUp)


async def test_a_reminder_that_keeps_failing_is_given_up_and_told(rig: Rig) -> None:
    rid = await rig.add(0, minutes=1)
    rig.poster.failures.extend(RuntimeError("500") for _ in range(MAX_ATTEMPTS))
    rig.start()
    for _ in range(MAX_ATTEMPTS + 1):
        await rig.tick(minutes=60)
    assert (await rig.state(rid)).state is ReminderState.CLOSED
    assert rig.poster.told_failed == [rid]


async def test_dismiss_only_acts_on_a_posted_reminder(rig: Rig) -> None:
    rid = await rig.add(0, minutes=1)
    rig.start()
    await rig.scheduler.caught_up()
    assert not await rig.scheduler.dismiss(rid)
    await rig.tick(minutes=1)
    assert await rig.scheduler.dismiss(rid)
    assert not await rig.scheduler.dismiss(rid)
    assert rig.poster.removed == [f"post{rid}"]
    assert not await rig.scheduler.dismiss(999)
