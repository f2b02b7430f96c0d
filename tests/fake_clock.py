"""A clock that only moves when a test moves it; also a Timer that waits for it."""

from __future__ import annotations

import asyncio
import heapq
import itertools


class FakeClock:
    """``now_ms()`` for every component; ``sleep_until()`` for the reminder scheduler and
    the Mattermost client's retry waits."""

    def __init__(self, start_ms: int = 1_790_000_000_000, *, autojump_s: float = 0.0) -> None:
        """``autojump_s``: a sleep that ends at most this many seconds ahead moves the clock
        there at once (as if the time passed with nothing else happening), so short waits,
        such as retry backoffs, need no test to move the clock; longer ones still do."""
        self._now = start_ms
        self._autojump_ms = int(autojump_s * 1000)
        self._sleepers: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now_ms(self) -> int:
        return self._now

    async def sleep_until(self, when_ms: int) -> None:
        if when_ms <= self._now:
            return
        if when_ms - self._now <= self._autojump_ms:
            self.set(when_ms)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (when_ms, next(self._order), future))
        await future

    def advance(self, *, seconds: float = 0, minutes: float = 0, hours: float = 0) -> None:
        self.set(self._now + int((seconds + 60 * minutes + 3600 * hours) * 1000))

    def set(self, now_ms: int) -> None:
        self._now = max(self._now, now_ms)
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    @property
    def sleepers(self) -> int:
        """Sleepers still waiting (cancelled ones not counted)."""
        return sum(1 for _, _, f in self._sleepers if not f.done())
