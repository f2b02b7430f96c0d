"""The per-person rate limit of chat commands: a token bucket, told once, then quiet."""

from __future__ import annotations

from bot.domain.ratelimit import RateLimiter, Verdict


def test_a_burst_is_allowed_then_told_once_then_quiet_until_it_refills() -> None:
    limiter = RateLimiter(burst=3, refill_ms=1000)
    assert [limiter.take("a", 0) for _ in range(3)] == [Verdict.ALLOW] * 3
    assert limiter.take("a", 0) is Verdict.TELL
    assert limiter.wait_s("a") == 1
    assert limiter.take("a", 500) is Verdict.QUIET
    assert limiter.take("b", 500) is Verdict.ALLOW  # per person
    assert limiter.take("a", 1000) is Verdict.ALLOW  # one token back after refill_ms
    assert limiter.take("a", 1000) is Verdict.TELL  # and told again after being allowed


def test_idle_time_refills_no_more_than_the_burst() -> None:
    limiter = RateLimiter(burst=2, refill_ms=1000)
    limiter.take("a", 0)
    verdicts = [limiter.take("a", 10**9) for _ in range(3)]
    assert verdicts == [Verdict.ALLOW, Verdict.ALLOW, Verdict.TELL]
