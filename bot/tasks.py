"""Named, tracked background tasks: every failure is logged and reported to a person.

Whatever warroom does in the background for a person (a post, an announcement, a broadcast
copy, an invite, a card or checklist refresh, a command's late reply) may fail after that
person got their answer. :meth:`TaskTracker.spawn` therefore takes ``report``: how to tell a
person who can act on the failure (the actor, the commander, or the incident channel), in
words that say what to do. It is a required keyword so that every new background effect
decides who is told; ``None`` is only for work done for nobody in particular (the re-sync,
the event dispatcher whose handlers report for themselves), with the reason at the call site.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, Protocol

from bot.deadline import free_context
from bot.log import get_logger

log = get_logger(__name__)

Report = Callable[[BaseException], Awaitable[None]]


class Spawn(Protocol):
    """:meth:`TaskTracker.spawn`, as the services receive it."""

    def __call__(
        self, name: str, coro: Coroutine[Any, Any, Any], *, report: Report | None
    ) -> asyncio.Task[Any]: ...


Turn = Callable[[], Awaitable[None]]
""":meth:`Foreground.turn`, as the walks of the re-sync receive it."""


async def no_wait() -> None:
    """A :data:`Turn` that never waits (tests, tools)."""


class Foreground:
    """People's requests in flight (commands, buttons, dialogs). A background walk over many
    incidents (the re-sync) takes :meth:`turn` before each step, so a person's request is
    not queued on the event loop behind the walk's work: the walk pauses while one is
    served, for at most ``at_most_s`` at a time (a steady stream of requests slows the walk
    down, never stops it)."""

    def __init__(self, at_most_s: float = 0.05) -> None:
        self._serving = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._at_most_s = at_most_s

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        """While a person's request is served."""
        self._serving += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._serving -= 1
            if not self._serving:
                self._idle.set()

    async def turn(self) -> None:
        """Return at once when nobody is served, else once they are (or ``at_most_s`` on)."""
        if self._idle.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), self._at_most_s)


class TaskTracker:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self.reported = 0  # failures reported to a person (a metric)
        self.foreground = Foreground()  # what background walks give way to

    def spawn(
        self, name: str, coro: Coroutine[Any, Any, Any], *, report: Report | None
    ) -> asyncio.Task[Any]:
        """Run ``coro`` as a tracked task named ``name``.

        If it fails, the failure is logged and, given ``report``, ``report(exc)`` tells a
        person (a failure to tell is logged too); the task then ends quietly. Without
        ``report`` the exception stays on the task (for a caller that awaits it) and is logged.
        It runs without the deadline of the callback that spawned it (bot/deadline.py): it
        goes on after that callback was answered. Raises RuntimeError after :meth:`close`.
        """
        if self._closing:
            coro.close()
            raise RuntimeError("task tracker is closed")
        work = coro if report is None else self._reported(name, coro, report)
        task = asyncio.create_task(work, name=name, context=free_context())
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    async def _reported(self, name: str, coro: Coroutine[Any, Any, Any], report: Report) -> Any:
        try:
            return await coro
        except Exception as exc:
            log.error("task_failed", task=name, exc_info=exc)
            try:
                await report(exc)
            except Exception:
                log.exception("task_failure_not_told", task=name)
            else:
                self.reported += 1
            return None

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("task_failed", task=task.get_name(), exc_info=exc)

    def __len__(self) -> int:
        return len(self._tasks)

    async def drain(self, seconds: float) -> None:
        """Wait for in-flight work to finish, up to ``seconds``."""
        pending = set(self._tasks)
        if pending:
            await asyncio.wait(pending, timeout=seconds)

    async def close(self, drain_timeout: float = 10.0) -> None:
        self._closing = True
        await self.drain(drain_timeout)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
