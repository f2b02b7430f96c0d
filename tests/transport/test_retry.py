"""The retry decision on its own: which failures are transient, which creates may repeat."""

from __future__ import annotations

import random

import httpx
import pytest

from bot.transport.retry import Backoff, Failure, RetryPolicy, Safety

POLICY = RetryPolicy(attempts=4, backoff=Backoff(base_s=0.5, cap_s=8.0), budget_s=20.0)
CONNECT = Failure(None, httpx.ConnectError("refused"))
READ_TIMEOUT = Failure(None, httpx.ReadTimeout("slow"))
LOST = Failure(None, httpx.RemoteProtocolError("closed"))


def wait(
    failure: Failure, safety: Safety, *, attempt: int = 1, waited: float = 0.0
) -> float | None:
    return POLICY.wait_before_retry(
        safety=safety, failure=failure, attempt=attempt, waited=waited, rng=random.Random(1)
    )


@pytest.mark.parametrize(
    ("failure", "idempotent", "create"),
    [
        (Failure(429), True, True),
        (Failure(429, retry_after=3), True, True),
        (Failure(503), True, True),
        (CONNECT, True, True),
        (Failure(500), True, False),
        (Failure(502), True, False),
        (Failure(504), True, False),
        (READ_TIMEOUT, True, False),
        (LOST, True, False),
        (Failure(400), False, False),
        (Failure(403), False, False),
        (Failure(404), False, False),
        (Failure(501), False, False),
    ],
)
def test_transient_failures_are_retried_creates_only_when_surely_not_done(
    failure: Failure, idempotent: bool, create: bool
) -> None:
    assert (wait(failure, Safety.IDEMPOTENT) is not None) is idempotent
    assert (wait(failure, Safety.CREATE) is not None) is create


def test_retry_after_is_a_floor_and_too_long_a_one_is_left_to_the_caller() -> None:
    honoured = wait(Failure(429, retry_after=3), Safety.CREATE)
    assert honoured is not None and honoured >= 3
    assert wait(Failure(429, retry_after=31), Safety.CREATE) is None


def test_attempts_and_the_wait_budget_end_the_retries() -> None:
    assert wait(Failure(500), Safety.IDEMPOTENT, attempt=POLICY.attempts) is None
    assert wait(Failure(429, retry_after=10), Safety.CREATE, waited=15.0) is None


def test_full_jitter_stays_under_the_doubling_window_and_the_cap() -> None:
    rng = random.Random(3)
    backoff = Backoff(base_s=0.5, cap_s=8.0)
    for retry in range(8):
        for _ in range(50):
            assert 0 <= backoff.delay(retry, None, rng) <= min(8.0, 0.5 * 2**retry)


def test_a_wait_that_would_end_past_the_callbacks_deadline_is_not_waited() -> None:
    assert wait(Failure(429, retry_after=3), Safety.CREATE) is not None
    assert (
        POLICY.wait_before_retry(
            safety=Safety.CREATE,
            failure=Failure(429, retry_after=3),
            attempt=1,
            waited=0.0,
            rng=random.Random(1),
            remaining=2.0,
        )
        is None
    )
