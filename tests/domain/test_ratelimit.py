"""The per-person rate limit of chat commands: a token bucket, told once, then quiet."""

from __future__ import annotations

from bot.domain.ratelimit import MissStreak, RateLimiter, Verdict


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


def test_a_streak_of_messages_that_are_no_command_is_answered_three_times_then_not() -> None:
    """Rule (no loops): three pointers in a row, the third says so, then quiet until a
    command or an hour after the last pointer."""
    streak = MissStreak(limit=3, quiet_ms=3_600_000)
    assert [streak.miss("ann", t) for t in (0, 1, 2, 3, 4)] == [
        Verdict.ALLOW, Verdict.ALLOW, Verdict.TELL, Verdict.QUIET, Verdict.QUIET,
    ]  # fmt: skip
    assert streak.miss("bob", 5) is Verdict.ALLOW  # per person
    streak.hit("ann")
    assert streak.miss("ann", 6) is Verdict.ALLOW
    assert streak.miss("ann", 7) is Verdict.ALLOW
    assert streak.miss("ann", 8) is Verdict.TELL
    assert streak.miss("ann", 8 + 3_599_999) is Verdict.QUIET
    assert streak.miss("ann", 8 + 3_600_000) is Verdict.ALLOW  # an hour after the last answer
