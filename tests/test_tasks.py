import asyncio

import pytest

from bot.tasks import Foreground, TaskTracker


async def boom() -> None:
    raise RuntimeError("refused")


async def test_a_failed_task_with_a_report_tells_someone_and_ends_quietly() -> None:
    tracker = TaskTracker()
    told: list[str] = []

    async def report(exc: BaseException) -> None:
        told.append(str(exc))

    task = tracker.spawn("post", boom(), report=report)
    assert await task is None
    assert told == ["refused"] and tracker.reported == 1


async def test_a_report_that_fails_too_is_logged_not_raised() -> None:
    tracker = TaskTracker()

    async def report(exc: BaseException) -> None:
        raise RuntimeError("cannot tell either")

    task = tracker.spawn("post", boom(), report=report)
    assert await task is None and tracker.reported == 0


async def test_without_a_report_the_exception_stays_on_the_task_for_its_awaiter() -> None:
    tracker = TaskTracker()
    task = tracker.spawn("command", boom(), report=None)
    with pytest.raises(RuntimeError):
        await task
    await tracker.close()


async def test_spawn_after_close_is_refused() -> None:
    tracker = TaskTracker()
    await tracker.close()
    coro = asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        tracker.spawn("late", coro, report=None)


async def test_background_walks_give_way_while_a_persons_request_is_served() -> None:
    """Rule: a re-sync's turn waits while a person's request is served (so the request is
    not queued behind the walk's work), and never longer than its bound."""
    foreground = Foreground(at_most_s=60.0)
    await foreground.turn()  # nobody served: at once
    with foreground.serving():
        waiting = asyncio.ensure_future(foreground.turn())
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert not waiting.done()
    await waiting  # served: the walk goes on
    bounded = Foreground(at_most_s=0.001)
    with bounded.serving():
        await bounded.turn()  # a steady stream of requests slows a walk, never stops it
