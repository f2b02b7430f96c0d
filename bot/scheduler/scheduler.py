"""Durable reminders: rows with a due time, one sleeping coroutine, exactly-once posts.

One coroutine (:meth:`ReminderScheduler.run`) sleeps until the earliest pending due time
(``min(due_at)`` from an index) and is woken early when a nearer reminder is added. Idle,
it costs one sleeping task whatever the number of pending reminders; nothing polls rows.

Exactly once, also across a SIGKILL:

1. Due rows are claimed ``pending -> firing`` in a transaction before anything is posted.
2. Under the incident's lock the reminder is posted; its post carries the stable key
   ``reminder:<id>`` in its props (``warroom_key``); then ``firing -> posted`` records the
   post id.
3. A kill between 1 and 2 leaves a ``firing`` row. At start every ``firing`` row goes back
   to ``pending`` *marked as attempted*; before posting an attempted reminder the poster
   looks for a post carrying its key among the channel's newest posts (the finder every
   exactly-once post shares, :class:`bot.services.effects.PostFinder`) and records it
   instead of posting again. So a reminder whose post was made (even if warroom died before the
   answer arrived) is never posted twice, and one whose post was not made fires once,
   promptly after start. The same check guards the retry after a failed post whose answer
   was lost (timeout).

A transient failure (Mattermost unreachable, a 429, a 5xx) leaves the row pending with a
later due time (backoff with jitter, at least the ``Retry-After`` asked for), however long
the outage lasts; only a refusal closes it, and the poster tells the commander.

The one gap: a reminder post made in the kill window and then deleted, or pushed out of
the searched window (the newest 200 posts) before warroom comes back, is posted again.

Cancelling (an update, the end of the incident, Dismiss) takes the same per-incident lock,
so it never interleaves with a firing: pending/firing rows close without a post; posted
ones go ``posted -> closing``, their post is deleted, then ``closed`` (a kill in between
is finished at the next start).
"""

from __future__ import annotations

import asyncio
import random

from bot.clock import Clock
from bot.domain.reminders import Reminder, ReminderState
from bot.errors import ChatUnavailable
from bot.log import get_logger
from bot.services.locks import KeyedLocks
from bot.services.ports import (
    GiveUp,
    ReminderPoster,
    ReminderRows,
    Timer,
    UnitOfWork,
    sleep_until_or_woken,
)

log = get_logger(__name__)

BATCH = 256
CONCURRENCY = 32
# After a transient failure (Mattermost unreachable, 429, 5xx) a reminder stays pending and
# is tried again after RETRY_MIN_MS plus a random part of a window that doubles per attempt
# (RETRY_MS, 2*RETRY_MS, ... up to RETRY_CAP_MS), and never before the Retry-After
# Mattermost asked for (honoured up to RETRY_AFTER_CAP_MS). It is never closed for that.
RETRY_MIN_MS = 5_000
RETRY_MS = 30_000
RETRY_CAP_MS = 10 * 60_000
RETRY_AFTER_CAP_MS = 15 * 60_000
MAX_ATTEMPTS = 6  # unexpected errors (bugs) only: then the reminder is closed and logged


class ReminderScheduler:
    def __init__(
        self,
        *,
        db: UnitOfWork,
        store: ReminderRows,
        clock: Clock,
        timer: Timer,
        poster: ReminderPoster,
        concurrency: int = CONCURRENCY,
        rng: random.Random | None = None,
    ) -> None:
        self._db = db
        self.store = store
        self._clock = clock
        self._timer = timer
        self._poster = poster
        self._rng = rng or random.Random()
        self._locks = KeyedLocks()
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._wakes = 0  # wake() calls so far: a pass is idle only if none came during it
        self._armed: int | None = None  # the due time the sleeping loop waits for
        self._claimed: set[int] = set()  # rows this process moved to firing, not yet handled
        self._records: list[tuple[int, str | None, asyncio.Future[None]]] = []
        self._flushing = asyncio.Lock()
        self.fired = 0

    # ---- what the services call -------------------------------------------------------

    async def replace(self, *, incident_id: str, channel_id: str, due_at: int | None) -> None:
        """Close the incident's open reminder (and its post); schedule ``due_at`` if given."""
        async with self._locks.hold(incident_id):
            await self._close_open(incident_id)
            if due_at is None:
                return
            async with self._db.transaction() as tx:
                await self.store.add(
                    tx,
                    incident_id=incident_id,
                    channel_id=channel_id,
                    due_at=due_at,
                    now=self._clock.now_ms(),
                )
        self._nearer(due_at)

    async def cancel(self, incident_id: str) -> None:
        await self.replace(incident_id=incident_id, channel_id="", due_at=None)

    async def dismiss(self, reminder_id: int) -> bool:
        """Remove a posted reminder (its post); False if it was no longer posted."""
        reminder = await self.store.get(reminder_id)
        if reminder is None:
            return False
        async with self._locks.hold(reminder.incident_id):
            current = await self.store.get(reminder_id)
            if current is None or current.state is not ReminderState.POSTED:
                return False
            await self._close_posted(current)
            return True

    def wake(self) -> None:
        """Re-read the earliest due time now (a nearer reminder was added, tests moved time)."""
        self._wakes += 1
        self._idle.clear()
        self._wake.set()

    async def caught_up(self) -> None:
        """Wait until everything due by the clock's current time has been handled (by a pass
        of the loop that began after this call: one already under way may have read the
        clock before it moved)."""
        self.wake()
        await self._idle.wait()

    # ---- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            await self._recover()
        except Exception:
            log.exception("reminder_recovery_failed")  # the rows stay as they are for next time
        while True:
            try:
                await self._step()
            except Exception:
                log.exception("reminder_loop_failed")
                await asyncio.sleep(1.0)

    async def _step(self) -> None:
        self._wake.clear()
        wakes = self._wakes
        batch = await self.store.due(self._clock.now_ms(), BATCH)
        if batch:
            self._armed = None
            await self._fire_batch(batch)
            return
        self._armed = await self.store.next_due()
        if wakes == self._wakes:  # else woken meanwhile: the sleep below returns at once
            self._idle.set()
        await self._sleep(self._armed)

    async def _sleep(self, until: int | None) -> None:
        await sleep_until_or_woken(self._timer, self._wake, until)

    def _nearer(self, due_at: int) -> None:
        if self._armed is None or due_at < self._armed:
            self.wake()

    async def _recover(self) -> None:
        """Settle rows a stop or a kill interrupted. Needs no Mattermost call for firing rows."""
        for reminder in await self.store.unsettled():
            if reminder.state is ReminderState.FIRING:
                async with self._db.transaction() as tx:
                    await self.store.move(
                        tx, reminder.id, ReminderState.FIRING, ReminderState.PENDING, attempt=True
                    )
                log.info("reminder_rearmed_after_interruption", reminder_id=reminder.id)
            else:
                async with self._locks.hold(reminder.incident_id):
                    await self._finish_closing(reminder)

    async def _fire_batch(self, batch: list[Reminder]) -> None:
        async with self._db.transaction() as tx:
            claimed = set(await self.store.claim(tx, [r.id for r in batch]))
        # Every firing row at run time was claimed here (start turns old ones back to pending),
        # so this set, kept under the incident locks, says whether a cancel overtook a claim.
        self._claimed |= claimed
        results = await asyncio.gather(
            *(self._fire(r) for r in batch if r.id in claimed), return_exceptions=True
        )
        for result in results:
            if isinstance(result, Exception):
                log.error("reminder_fire_failed", exc_info=result)

    async def _fire(self, reminder: Reminder) -> None:
        async with self._slots, self._locks.hold(reminder.incident_id):
            if reminder.id not in self._claimed:
                return  # cancelled between the claim and now
            try:
                post_id = await self._deliver(reminder)
            except GiveUp as exc:
                log.warning("reminder_given_up", reminder_id=reminder.id, reason=str(exc))
                post_id = None
            except ChatUnavailable as exc:
                log.warning(
                    "reminder_post_failed_transiently",
                    reminder_id=reminder.id,
                    operation=exc.operation,
                    retry_after=exc.retry_after,
                )
                await self._retry_later(reminder, transient=True, retry_after=exc.retry_after)
                return
            except Exception:
                log.exception("reminder_post_failed", reminder_id=reminder.id)
                await self._retry_later(reminder, transient=False)
                return
            finally:
                self._claimed.discard(reminder.id)
            await self._record(reminder.id, post_id)
            if post_id is not None:
                self.fired += 1
                log.info(
                    "reminder_fired", reminder_id=reminder.id, incident_id=reminder.incident_id
                )

    async def _record(self, reminder_id: int, post_id: str | None) -> None:
        """firing -> posted (or closed), committed together with the others waiting (one
        transaction for many reminders under load); returns once this one is committed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._records.append((reminder_id, post_id, done))
        async with self._flushing:
            if not done.done():
                batch, self._records = self._records, []
                try:
                    async with self._db.transaction() as tx:
                        for rid, pid, _ in batch:
                            new = ReminderState.CLOSED if pid is None else ReminderState.POSTED
                            await self.store.move(tx, rid, ReminderState.FIRING, new, post_id=pid)
                except Exception as exc:
                    for _, _, waiting in batch:
                        waiting.set_exception(exc)
                else:
                    for _, _, waiting in batch:
                        waiting.set_result(None)
        await done

    async def _deliver(self, reminder: Reminder) -> str | None:
        if reminder.attempts:
            earlier = await self._poster.find(reminder)
            if earlier:
                log.info("reminder_post_found", reminder_id=reminder.id, post_id=earlier)
                return earlier
        return await self._poster.post(reminder)

    async def _retry_later(
        self, reminder: Reminder, *, transient: bool, retry_after: float | None = None
    ) -> None:
        """firing -> pending with the next attempt's due time; after MAX_ATTEMPTS failures
        that were not transient (bugs), closed instead."""
        give_up = not transient and reminder.attempts + 1 >= MAX_ATTEMPTS
        due = self._clock.now_ms() + self._retry_delay_ms(reminder.attempts, retry_after)
        if give_up:
            log.error("reminder_closed_after_failures", reminder_id=reminder.id)
        self._claimed.discard(reminder.id)
        async with self._db.transaction() as tx:
            await self.store.move(
                tx,
                reminder.id,
                ReminderState.FIRING,
                ReminderState.CLOSED if give_up else ReminderState.PENDING,
                due_at=None if give_up else due,
                attempt=True,
            )
        if give_up:
            await self._tell_failed(reminder)
        else:
            self._nearer(due)

    def _retry_delay_ms(self, attempts: int, retry_after: float | None) -> int:
        window = min(RETRY_CAP_MS, RETRY_MS * 2 ** min(attempts, 16))
        jittered = RETRY_MIN_MS + int(self._rng.uniform(0, window))
        asked = min(RETRY_AFTER_CAP_MS, int((retry_after or 0) * 1000))
        return max(jittered, asked)

    async def _tell_failed(self, reminder: Reminder) -> None:
        try:
            await self._poster.failed(reminder)
        except Exception:
            log.exception("reminder_failure_not_told", reminder_id=reminder.id)

    # ---- closing (callers hold the incident's lock) -----------------------------------------

    async def _close_open(self, incident_id: str) -> None:
        for reminder in await self.store.open_for(incident_id):
            if reminder.state in (ReminderState.PENDING, ReminderState.FIRING):
                async with self._db.transaction() as tx:
                    await self.store.move(tx, reminder.id, reminder.state, ReminderState.CLOSED)
                self._claimed.discard(reminder.id)
                if reminder.due_at == self._armed:
                    self.wake()  # the loop slept for this one: let it sleep for the next instead
            elif reminder.state is ReminderState.POSTED:
                await self._close_posted(reminder)
            else:
                await self._finish_closing(reminder)

    async def _close_posted(self, reminder: Reminder) -> None:
        async with self._db.transaction() as tx:
            await self.store.move(tx, reminder.id, ReminderState.POSTED, ReminderState.CLOSING)
        await self._finish_closing(reminder)

    async def _finish_closing(self, reminder: Reminder) -> None:
        try:
            await self._poster.remove(reminder)
        except Exception:
            log.exception("reminder_post_not_removed", reminder_id=reminder.id)
            return  # stays closing: the next start or change of the incident tries again
        async with self._db.transaction() as tx:
            await self.store.move(tx, reminder.id, ReminderState.CLOSING, ReminderState.CLOSED)
