"""One deadline for every Mattermost call made while a person waits for a callback's answer.

Mattermost waits 30 s for the answer to a button or a dialog, then shows the person an error,
whatever warroom does next (server v5.36.0 ``services/httpservice/client.go``
``RequestTimeout``, the client ``app/integration_action.go`` ``DoActionRequest`` uses). A
callback may make several calls, each retried after a 429 or a 5xx (bot/transport/retry.py);
their waits add up. So the HTTP edge opens a deadline (:func:`callback_deadline`) and every
call made for that callback stops retrying rather than wait past it: it fails as it stands
(:class:`bot.errors.ChatUnavailable`), and the callback answers what is known in time.

Work that goes on in the background (:meth:`bot.tasks.TaskTracker.spawn`) runs without the
deadline (:func:`free_context`): it retries on its own schedule.

Times are epoch milliseconds of the app's clock (the one retry waits are measured by).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# Retry waits of one callback end this long after it arrived at the latest: the rest of
# Mattermost's 30 s is left for the attempts themselves (each at most the request timeout).
CALLBACK_WAIT_BUDGET_MS = 15_000

_DEADLINE: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "warroom_deadline_ms", default=None
)


@contextmanager
def callback_deadline(
    now_ms: Callable[[], int], budget_ms: int = CALLBACK_WAIT_BUDGET_MS
) -> Iterator[None]:
    """Within the block, retry waits end at most ``budget_ms`` after now (an earlier
    deadline already open is kept)."""
    deadline = now_ms() + budget_ms
    current = _DEADLINE.get()
    token = _DEADLINE.set(deadline if current is None else min(current, deadline))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def remaining_ms(now_ms: int) -> int | None:
    """Milliseconds left before the open deadline (0 when passed); None without one."""
    deadline = _DEADLINE.get()
    return None if deadline is None else max(0, deadline - now_ms)


def free_context() -> contextvars.Context:
    """A copy of the current context without a deadline, for work that goes on after the
    callback was answered."""
    context = contextvars.copy_context()
    context.run(_DEADLINE.set, None)
    return context
