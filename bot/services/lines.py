"""The lines a change says in its channel: posted after the answer, in order, batched, once.

A change (a task checked, the stage moved, the commander changed …) records its lines in the
outbox in its own transaction (:meth:`IncidentService.mutate`): from that commit on it is
durable, and the person who made it is answered without waiting for Mattermost. The lines are
then posted here, in the background, one channel at a time:

- In order per channel: one worker per channel takes its lines oldest first.
- Batched: the lines that wait while a post is in flight go out together in the next post,
  one line each (at most :data:`MAX_LINES`, and within Mattermost's limits), after a short
  pause (:data:`BURST_GAP_S`) that lets the burst go on: a burst of changes costs a few
  posts a second, not one each. A lone change is posted at once.
- Exactly once: the post carries every line's key (:func:`bot.render.keys.keyed_many`);
  whenever an earlier attempt's outcome is unknown (a lost answer, a kill) the channel's
  newest posts are searched for the keys first (:meth:`PostFinder.find_keys`), and only the
  lines not found are posted. The re-sync hands over what a kill left pending
  (:meth:`Outbox.flush` → :meth:`ChangeLines.resume`), also those of a post made and not
  yet recorded.
- Failures are told: a refused post, or one that never got through after the retries, is
  told to who made each change (``report``), once per change; the lines of a post that
  never got through stay pending and the next re-sync tries them again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from bot.crashpoints import crash_point
from bot.domain.outbox import Effect
from bot.log import get_logger
from bot.render.keys import keyed_many
from bot.render.post_size import MESSAGE_MAX_RUNES
from bot.services import effects
from bot.services.effects import Outbox
from bot.services.ports import ChatClient, ChatRefused
from bot.tasks import Report, Spawn

log = get_logger(__name__)

KIND = "change"  # the outbox kind of these lines (crash point ``posted.change``)
# In a burst (lines came while a post was in flight) the next post waits this long first, so
# a sustained burst costs a few posts a second per channel, not one per change.
BURST_GAP_S = 0.25
MAX_LINES = 50  # lines per post: 50 keys are ~3,200 of the 8,000 runes props may hold


@dataclass
class Line:
    """One recorded line waiting for its post. ``fresh``: recorded by this process and not
    tried yet, so there is nothing to look for before posting it."""

    key: str
    message: str
    report: Report | None
    fresh: bool


class ChangeLines:
    """One background worker per channel with lines waiting (see the module docstring)."""

    def __init__(self, *, outbox: Outbox, chat: ChatClient, spawn: Spawn) -> None:
        self._outbox = outbox
        self._chat = chat
        self._spawn = spawn
        self._queues: dict[str, deque[Line]] = {}
        self._waiting: set[str] = set()  # keys queued or in flight, in this process
        self._wake: dict[str, asyncio.Event] = {}  # a worker backing off, woken by a re-sync
        outbox.batched(KIND, self.resume)

    def post(
        self, channel_id: str, lines: Sequence[tuple[str, str]], *, report: Report | None
    ) -> None:
        """Post ``lines`` ((key, message), recorded just now in the outbox and committed) in
        ``channel_id`` after those already waiting there; ``report`` tells who made the
        change if they cannot be posted. Returns at once."""
        self._queue(channel_id, [Line(k, m, report, fresh=True) for k, m in lines])

    def resume(self, pending: Sequence[Effect]) -> None:
        """Take over pending lines a kill or an outage left (oldest first, from the outbox):
        they go before the lines of newer changes, and are looked for before posting."""
        by_channel: dict[str, list[Line]] = {}
        for effect in pending:
            if effect.key not in self._waiting:
                line = Line(effect.key, effect.message, None, fresh=False)
                by_channel.setdefault(effect.channel_id, []).append(line)
        for channel_id, lines in by_channel.items():
            self._queue(channel_id, lines, first=True)
        for wake in self._wake.values():
            wake.set()  # a re-sync: the network may be back, try now

    def _queue(self, channel_id: str, lines: list[Line], *, first: bool = False) -> None:
        queue = self._queues.get(channel_id)
        started = queue is not None
        if queue is None:
            queue = self._queues[channel_id] = deque()
        if first:
            queue.extendleft(reversed(lines))
        else:
            queue.extend(lines)
        self._waiting.update(line.key for line in lines)
        if started:
            return
        try:
            self._spawn(
                f"change-lines-{channel_id}", self._work(channel_id, queue), report=_told(queue)
            )
        except RuntimeError:  # shutting down: they stay pending, for the re-sync at start
            self._forget(channel_id, queue)

    async def _work(self, channel_id: str, queue: deque[Line]) -> None:
        """Post the channel's lines until none wait; back off while Mattermost fails."""
        delays = iter(effects.RETRY_DELAYS_S)
        try:
            while queue:
                batch = _take(queue)
                try:
                    await self._deliver(channel_id, batch)
                except ChatRefused as exc:
                    log.warning(
                        "change_lines_refused", channel_id=channel_id, error_id=exc.error_id
                    )
                    self._done(queue, batch)
                    await _tell(batch, exc)
                except Exception as exc:
                    log.warning("change_lines_unknown", channel_id=channel_id, error=repr(exc))
                    for line in batch:
                        line.fresh = False
                    delay = next(delays, None)
                    if delay is None:  # pending still: the next re-sync tries again
                        given_up = list(queue)
                        self._done(queue, given_up)
                        await _tell(given_up, exc)
                        # Lines queued while their authors were told are this worker's
                        # still (a new one starts only for an empty channel): they get
                        # their own tries.
                        delays = iter(effects.RETRY_DELAYS_S)
                        continue
                    await self._back_off(channel_id, delay)
                else:
                    self._done(queue, batch)
                    delays = iter(effects.RETRY_DELAYS_S)
                    if queue:  # more came while it was in flight: a burst, gather it a moment
                        await asyncio.sleep(BURST_GAP_S)
        finally:  # cancelled at shutdown, or failed: pending still, for the next re-sync
            self._forget(channel_id, queue)

    def _forget(self, channel_id: str, queue: deque[Line]) -> None:
        self._waiting.difference_update(line.key for line in queue)
        if self._queues.get(channel_id) is queue:
            del self._queues[channel_id]

    async def _deliver(self, channel_id: str, batch: list[Line]) -> None:
        """Post ``batch`` as one post, but first find those an earlier attempt posted."""
        rest = batch
        if not all(line.fresh for line in batch):
            found: dict[str, str] = {}
            with contextlib.suppress(ChatRefused):  # posting says so, and fails them
                found = await self._outbox.finder.find_keys(channel_id, [x.key for x in batch])
            for post_id in dict.fromkeys(found.values()):
                log.info("change_lines_found", channel_id=channel_id, post_id=post_id)
                await self._outbox.settle([k for k, p in found.items() if p == post_id], post_id)
            rest = [line for line in batch if line.key not in found]
        if not rest:
            return
        keys = [line.key for line in rest]
        try:
            post = await self._chat.create_post(
                channel_id, "\n".join(line.message for line in rest), props=keyed_many(None, keys)
            )
        except ChatRefused:
            await self._outbox.refused(keys)
            raise
        except Exception:
            await self._outbox.store.attempted_all(keys)  # the post may exist: look next time
            raise
        crash_point(f"posted.{KIND}")
        await self._outbox.settle(keys, post.id)

    async def _back_off(self, channel_id: str, seconds: float) -> None:
        wake = self._wake[channel_id] = asyncio.Event()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), seconds)
        finally:
            self._wake.pop(channel_id, None)

    def _done(self, queue: deque[Line], lines: list[Line]) -> None:
        """Lines that need nothing more from this worker (posted, refused, or given up)."""
        keys = {line.key for line in lines}
        kept = [line for line in queue if line.key not in keys]
        queue.clear()
        queue.extend(kept)
        self._waiting.difference_update(keys)


def _take(queue: deque[Line]) -> list[Line]:
    """The oldest lines that fit in one post (at least one)."""
    batch: list[Line] = []
    runes = -1
    for line in queue:
        runes += len(line.message) + 1
        if batch and (len(batch) == MAX_LINES or runes > MESSAGE_MAX_RUNES):
            break
        batch.append(line)
    return batch


async def _tell(lines: list[Line], exc: BaseException) -> None:
    """Tell each change's author once (a change's lines share one ``report``)."""
    for report in dict.fromkeys(line.report for line in lines if line.report is not None):
        try:
            await report(exc)
        except Exception:
            log.exception("change_lines_failure_not_told")


def _told(queue: deque[Line]) -> Report:
    """If a worker fails, tell who made the changes whose lines were still waiting."""

    async def report(exc: BaseException) -> None:
        await _tell(list(queue), exc)

    return report
