"""When a failed Mattermost call may be tried again, and how long to wait first.

One place decides, for every REST call warroom makes (the driver's own retries are off):

* **Transient** failures are retried with exponential backoff and full jitter: HTTP 429
  (waiting at least its ``Retry-After``), 408 and 5xx other than 501, and transport
  errors (connection refused or reset, timeouts, lost answers).
* **Refusals** are final and never retried: every other 4xx (403, 404, 400 …) and 501.
* Whether a transient failure may be retried also depends on the operation
  (:class:`Safety`): an idempotent one (reads, patches, deletes, adding a member …) is
  retried after any transient failure; a create (a post, a channel, a command) only when
  the server surely did not act on it (:func:`not_acted`): a 429 (Mattermost's rate
  limiter answers before any handler runs, ``app/ratelimit.go``), a 503, or a
  connection that was never made. After a 500, 502, 504, a timeout or a lost answer the
  create may have happened: it is not repeated; the caller learns the outcome is unknown
  (:attr:`bot.errors.ChatUnavailable.outcome_unknown`) and looks before creating again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

import httpx

RATE_LIMITED = 429
NOT_ACTED_STATUSES = frozenset({429, 503})  # answered before the request was acted on
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
NOT_ACTED_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


class Safety(Enum):
    """What repeating an operation does."""

    IDEMPOTENT = "idempotent"  # the same effect as doing it once
    CREATE = "create"  # may do it twice: repeated only when surely not done


@dataclass(frozen=True)
class Failure:
    """A failed attempt as the retry decision sees it.

    ``status``: the HTTP status, or None when no answer came (``error`` says why);
    ``retry_after``: the server's requested wait in seconds (429 only), if it gave one.
    """

    status: int | None
    error: Exception | None = None
    retry_after: float | None = None

    @property
    def transient(self) -> bool:
        """Worth trying again later (a refusal is not)."""
        if self.status is None:
            return True
        return self.status in TRANSIENT_STATUSES

    @property
    def not_acted(self) -> bool:
        """The server surely did not act on the request."""
        if self.status is None:
            return isinstance(self.error, NOT_ACTED_ERRORS)
        return self.status in NOT_ACTED_STATUSES


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: before retry ``n`` (0-based) wait a uniform
    random time in ``[0, min(cap_s, base_s * 2**n)]`` seconds, but at least the server's
    ``Retry-After`` when it sent one; a ``Retry-After`` above ``max_retry_after_s`` is not
    waited for in-call (the call fails and the caller's own schedule takes over)."""

    base_s: float = 0.5
    cap_s: float = 8.0
    max_retry_after_s: float = 30.0

    def delay(self, retry: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first)."""
        jitter = rng.uniform(0.0, min(self.cap_s, self.base_s * 2**retry))
        return max(jitter, retry_after or 0.0)


@dataclass(frozen=True)
class RetryPolicy:
    """How one call is retried: ``attempts`` tries in all (1 = never retried), waiting
    at most ``budget_s`` seconds in all, so that a call made while answering a callback
    still ends within Mattermost's integration timeout."""

    attempts: int = 4
    backoff: Backoff = Backoff()
    budget_s: float = 20.0

    def wait_before_retry(
        self,
        *,
        safety: Safety,
        failure: Failure,
        attempt: int,
        waited: float,
        rng: random.Random,
        remaining: float | None = None,
    ) -> float | None:
        """Seconds to wait before trying again after ``attempt`` (1-based) failed with
        ``failure``, ``waited`` seconds having been waited already; None when the call
        must not be tried again. ``remaining``: seconds left before the deadline of the
        callback the call is made for (bot/deadline.py), if any; a wait that would end
        after it is not waited."""
        if attempt >= self.attempts or not failure.transient:
            return None
        if safety is Safety.CREATE and not failure.not_acted:
            return None
        if (failure.retry_after or 0.0) > self.backoff.max_retry_after_s:
            return None
        wait = self.backoff.delay(attempt - 1, failure.retry_after, rng)
        if remaining is not None and wait > remaining:
            return None
        return wait if waited + wait <= self.budget_s else None


ONE_ATTEMPT = RetryPolicy(attempts=1)
