"""Named, tracked background tasks: failures are logged, all are cancelled and awaited on close."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from bot.log import get_logger

log = get_logger(__name__)


class TaskTracker:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    def spawn(self, name: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        if self._closing:
            coro.close()
            raise RuntimeError("task tracker is closed")
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

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
