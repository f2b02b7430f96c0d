import asyncio

import pytest

from bot.tasks import TaskTracker


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
