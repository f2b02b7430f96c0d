"""Hand queued websocket events to their handlers without ever blocking intake.

Events of one channel are handled in arrival order by one worker task for that channel
(spawned on the :class:`TaskTracker` while the channel has pending events); events of
different channels run concurrently, at most ``concurrency`` handlers at a time. Events
without a channel (``hello``) each get their own task. A handler that fails or times out
is logged once with the event's ids; the next event goes on.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from bot.log import get_logger
from bot.tasks import TaskTracker
from bot.transport.events import Event

log = get_logger(__name__)

EventT = TypeVar("EventT", bound=Event)
Handler = Callable[[Any], Awaitable[None]]

CONCURRENCY = 32
HANDLER_TIMEOUT = 60.0


class EventDispatcher:
    def __init__(
        self,
        queue: asyncio.Queue[Event],
        tasks: TaskTracker,
        *,
        concurrency: int = CONCURRENCY,
        handler_timeout: float = HANDLER_TIMEOUT,
    ) -> None:
        self._queue = queue
        self._tasks = tasks
        self._slots = asyncio.Semaphore(concurrency)
        self._timeout = handler_timeout
        self._handlers: dict[type[Any], list[Handler]] = {}
        self._pending: dict[str, deque[Event]] = {}
        self._workers: set[asyncio.Task[Any]] = set()
        self._run_task: asyncio.Task[Any] | None = None
        self._closing = False

    def register(
        self, event_type: type[EventT], handler: Callable[[EventT], Awaitable[None]]
    ) -> None:
        """Call ``handler`` for every event of exactly ``event_type`` (in registration order)."""
        self._handlers.setdefault(event_type, []).append(handler)

    def handled_kinds(self) -> set[type[Any]]:
        """The event classes that have at least one handler."""
        return {kind for kind, handlers in self._handlers.items() if handlers}

    def depth(self) -> float:
        """Events waiting to be handed out (for a gauge)."""
        return float(self._queue.qsize())

    async def run(self) -> None:
        """Take events off the queue until :meth:`close`."""
        self._run_task = asyncio.current_task()
        try:
            while not self._closing:
                event = await self._queue.get()
                try:
                    self.submit(event)
                finally:
                    self._queue.task_done()
        finally:
            self._run_task = None

    def submit(self, event: Event) -> None:
        """Schedule ``event``; returns at once."""
        if not self._handlers.get(type(event)) or self._closing:
            return
        key = event.channel_id
        if not key:
            self._spawn(f"event:{event.name}:{event.seq}", self._handle(event))
            return
        pending = self._pending.get(key)
        if pending is not None:  # a worker is already going through this channel
            pending.append(event)
            return
        self._pending[key] = deque([event])
        self._spawn(f"events:{key}", self._drain_channel(key))

    async def close(self, drain_timeout: float = 10.0) -> None:
        """Stop taking events, wait up to ``drain_timeout`` for in-flight ones, cancel the rest."""
        self._closing = True
        run_task = self._run_task
        if run_task is not None and run_task is not asyncio.current_task():
            run_task.cancel()
            await asyncio.gather(run_task, return_exceptions=True)
        if self._workers:
            await asyncio.wait(set(self._workers), timeout=drain_timeout)
        left = [t for t in self._workers if not t.done()]
        for task in left:
            task.cancel()
        if left:
            await asyncio.gather(*left, return_exceptions=True)
            log.warning("dispatcher_closed_with_pending", cancelled=len(left))

    # ---- workers -------------------------------------------------------------------
    def _spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        # No report here: _handle logs each handler's failure, and a handler that acts for a
        # person (a reaction, a membership) tells that person itself.
        task = self._tasks.spawn(name, coro, report=None)
        self._workers.add(task)
        task.add_done_callback(self._workers.discard)

    async def _drain_channel(self, key: str) -> None:
        pending = self._pending[key]
        try:
            while pending:
                await self._handle(pending[0])
                pending.popleft()
        finally:
            if self._pending.get(key) is pending:
                del self._pending[key]

    async def _handle(self, event: Event) -> None:
        for handler in self._handlers.get(type(event), []):
            async with self._slots:
                started = time.monotonic()
                try:
                    async with asyncio.timeout(self._timeout):
                        await handler(event)
                except TimeoutError:
                    log.error(
                        "event_handler_timeout",
                        ws_event=event.name,
                        seq=event.seq,
                        handler=_name(handler),
                        timeout=self._timeout,
                        **event.log_ids(),
                    )
                except Exception:
                    log.exception(
                        "event_handler_failed",
                        ws_event=event.name,
                        seq=event.seq,
                        handler=_name(handler),
                        **event.log_ids(),
                    )
                else:
                    log.debug(
                        "event_handled",
                        ws_event=event.name,
                        seq=event.seq,
                        handler=_name(handler),
                        ms=round((time.monotonic() - started) * 1000, 1),
                        **event.log_ids(),
                    )


def _name(handler: Handler) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)
