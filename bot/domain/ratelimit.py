"""A per-person token bucket for chat commands: pure, the caller passes the time."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

BURST = 6  # commands in a row
REFILL_MS = 10_000  # one more every 10 s: 6 a minute sustained


class Verdict(Enum):
    ALLOW = "allow"
    TELL = "tell"  # the first refusal: answer politely once
    QUIET = "quiet"  # further refusals until a command is allowed again: no answer (no loop)


@dataclass
class _Bucket:
    tokens: float
    at: int
    told: bool = False


class RateLimiter:
    """``take(key, now)`` -> :class:`Verdict`. ``now`` in ms; buckets of idle keys expire."""

    def __init__(self, *, burst: int = BURST, refill_ms: int = REFILL_MS) -> None:
        self.burst = burst
        self.refill_ms = refill_ms
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, now: int) -> Verdict:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > 10_000:
                self._expire(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        elapsed = max(0, now - bucket.at)
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed / self.refill_ms)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.told = False
            return Verdict.ALLOW
        if bucket.told:
            return Verdict.QUIET
        bucket.told = True
        return Verdict.TELL

    def wait_s(self, key: str) -> int:
        """Seconds until ``key`` may send again (rounded up, at least 1)."""
        bucket = self._buckets.get(key)
        missing = 1.0 - (bucket.tokens if bucket else 1.0)
        return max(1, -(-int(missing * self.refill_ms) // 1000))

    def _expire(self, now: int) -> None:
        full_after = self.burst * self.refill_ms
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.at < full_after}


MISSES_IN_A_ROW = 3  # answers to messages that are no command, before warroom goes quiet
MISS_QUIET_MS = 60 * 60 * 1000  # and how long it stays quiet to them without a command


class MissStreak:
    """Loop breaker: how many messages in a row from one person were no command.

    ``miss(key, now)`` for a message that is no command -> :class:`Verdict`: ``ALLOW`` (answer
    with the pointer), ``TELL`` for the last answer before going quiet (say so), ``QUIET``
    after that, until ``hit(key)`` (a command) or :data:`MISS_QUIET_MS` after the last
    answer. A person reads three pointers and learns; something answering every answer
    (an auto-reply on a person's account) stops getting any, so the exchange ends.
    """

    def __init__(self, *, limit: int = MISSES_IN_A_ROW, quiet_ms: int = MISS_QUIET_MS) -> None:
        self.limit = limit
        self.quiet_ms = quiet_ms
        self._streaks: dict[str, tuple[int, int]] = {}  # key -> (answers given, last at ms)

    def miss(self, key: str, now: int) -> Verdict:
        count, at = self._streaks.get(key, (0, now))
        if now - at >= self.quiet_ms:
            count = 0
        if count >= self.limit:
            return Verdict.QUIET
        if len(self._streaks) > 10_000:
            self._streaks = {k: v for k, v in self._streaks.items() if now - v[1] < self.quiet_ms}
        self._streaks[key] = (count + 1, now)
        return Verdict.TELL if count + 1 == self.limit else Verdict.ALLOW

    def hit(self, key: str) -> None:
        """A command from ``key``: the streak is over."""
        self._streaks.pop(key, None)
