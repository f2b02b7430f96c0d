"""One deadline for the calls made while a person waits for a callback's answer."""

from __future__ import annotations

from bot import deadline
from bot.tasks import TaskTracker


def test_the_deadline_counts_down_and_an_inner_one_never_extends_an_outer_one() -> None:
    assert deadline.remaining_ms(0) is None
    with deadline.callback_deadline(lambda: 1_000, budget_ms=5_000):
        assert deadline.remaining_ms(2_000) == 4_000
        assert deadline.remaining_ms(9_000) == 0
        with deadline.callback_deadline(lambda: 3_000, budget_ms=10_000):
            assert deadline.remaining_ms(3_000) == 3_000
    assert deadline.remaining_ms(0) is None


async def test_background_work_spawned_for_a_callback_runs_without_its_deadline() -> None:
    tasks = TaskTracker()
    try:
        with deadline.callback_deadline(lambda: 0, budget_ms=1_000):
            spawned = tasks.spawn("work", _remaining(), report=None)
        assert await spawned is None
    finally:
        await tasks.close()


async def _remaining() -> int | None:
    return deadline.remaining_ms(0)
