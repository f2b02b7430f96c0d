"""The real :class:`bot.services.ports.Timer`: asyncio sleeps measured against the clock."""

from __future__ import annotations

import asyncio

from bot.clock import Clock

# Wake at least this often while sleeping toward a far due time, so that a wall-clock step
# (NTP, a suspended VM) delays a reminder by at most this much. One wake a minute is free.
MAX_NAP_S = 60.0


class SystemTimer:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def sleep_until(self, when_ms: int) -> None:
        while True:
            delay = (when_ms - self._clock.now_ms()) / 1000
            if delay <= 0:
                return
            await asyncio.sleep(min(delay, MAX_NAP_S))
