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
