"""EventDispatcher: handlers never block intake or each other; one channel stays in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from structlog.testing import capture_logs

from bot.services.ports import Post
from bot.tasks import TaskTracker
from bot.transport.dispatcher import EventDispatcher
from bot.transport.events import (
    Event,
    Hello,
    Posted,
    Reaction,
    ReactionAdded,
    ReactionRemoved,
)
from bot.transport.websocket import new_event_queue

WAIT = 2.0


def posted(seq: int, channel: str, message: str = "hi") -> Posted:
    return Posted(seq=seq, post=Post(id=f"p{seq}", channel_id=channel, message=message))


def reaction(cls: type[ReactionAdded | ReactionRemoved], seq: int, channel: str) -> Event:
    return cls(
        seq=seq,
        channel_id=channel,
        reaction=Reaction(user_id="u1", post_id="p1", emoji_name="pushpin"),
    )


class Setup:
    def __init__(self) -> None:
        self.queue = new_event_queue()
        self.tasks = TaskTracker()
        self.dispatcher = EventDispatcher(self.queue, self.tasks, concurrency=4)


@pytest.fixture
async def env() -> AsyncIterator[Setup]:
    setup = Setup()
    runner = asyncio.create_task(setup.dispatcher.run())
    yield setup
    await setup.dispatcher.close(drain_timeout=0.5)
    await setup.tasks.close(drain_timeout=0.5)
    assert runner.done()


async def test_slow_handler_does_not_block_other_channels(env: Setup) -> None:
    release = asyncio.Event()
    handled: list[str] = []
    fast_done = asyncio.Event()

    async def on_posted(event: Posted) -> None:
        if event.post.channel_id == "slow":
            await release.wait()
        handled.append(event.post.channel_id)
        if event.post.channel_id == "fast":
            fast_done.set()

    env.dispatcher.register(Posted, on_posted)
    env.queue.put_nowait(posted(1, "slow"))
    env.queue.put_nowait(posted(2, "fast"))
    await asyncio.wait_for(fast_done.wait(), WAIT)
    assert handled == ["fast"]
    release.set()
    await asyncio.wait_for(env.queue.join(), WAIT)
    await env.tasks.drain(WAIT)
    assert handled == ["fast", "slow"]


async def test_intake_continues_while_a_handler_is_blocked(env: Setup) -> None:
    release = asyncio.Event()
    started = asyncio.Event()

    async def stuck(event: Posted) -> None:
        started.set()
        await release.wait()

    env.dispatcher.register(Posted, stuck)
    for seq in range(1, 51):
        env.queue.put_nowait(posted(seq, "c1"))
    await asyncio.wait_for(started.wait(), WAIT)
    # the dispatcher keeps taking events although the handler of the first is stuck
    await asyncio.wait_for(env.queue.join(), WAIT)
    assert env.queue.empty()
    release.set()


async def test_failing_handler_is_logged_and_others_continue(env: Setup) -> None:
    seen: list[int] = []
    done = asyncio.Event()

    async def boom(event: Posted) -> None:
        if event.seq == 1:
            raise RuntimeError("handler bug")

    async def record(event: Posted) -> None:
        seen.append(event.seq)
        if event.seq == 2:
            done.set()

    env.dispatcher.register(Posted, boom)
    env.dispatcher.register(Posted, record)
    with capture_logs() as logs:
        env.queue.put_nowait(posted(1, "c1"))
        env.queue.put_nowait(posted(2, "c1"))
        await asyncio.wait_for(done.wait(), WAIT)
    assert seen == [1, 2]  # the second handler of event 1 ran, and event 2 was handled
    failures = [entry for entry in logs if entry["event"] == "event_handler_failed"]
    assert len(failures) == 1
    assert failures[0]["ws_event"] == "posted"
    assert failures[0]["seq"] == 1
    assert failures[0]["channel_id"] == "c1"
    assert failures[0]["post_id"] == "p1"
    assert failures[0]["log_level"] == "error"


async def test_events_of_one_channel_are_handled_in_order(env: Setup) -> None:
    order: list[str] = []
    done = asyncio.Event()

    async def added(event: ReactionAdded) -> None:
        await asyncio.sleep(0.02)  # slower than the removal: order must still hold
        order.append(f"added:{event.seq}")

    async def removed(event: ReactionRemoved) -> None:
        order.append(f"removed:{event.seq}")
        if event.seq == 4:
            done.set()

    env.dispatcher.register(ReactionAdded, added)
    env.dispatcher.register(ReactionRemoved, removed)
    env.queue.put_nowait(reaction(ReactionAdded, 1, "c1"))
    env.queue.put_nowait(reaction(ReactionRemoved, 2, "c1"))
    env.queue.put_nowait(reaction(ReactionAdded, 3, "c1"))
    env.queue.put_nowait(reaction(ReactionRemoved, 4, "c1"))
    await asyncio.wait_for(done.wait(), WAIT)
    assert order == ["added:1", "removed:2", "added:3", "removed:4"]


async def test_concurrency_is_bounded(env: Setup) -> None:
    running = 0
    peak = 0
    release = asyncio.Event()
    four_running = asyncio.Event()

    async def handler(event: Posted) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 4:
            four_running.set()
        await release.wait()
        running -= 1

    env.dispatcher.register(Posted, handler)
    for seq in range(10):
        env.queue.put_nowait(posted(seq, f"c{seq}"))
    await asyncio.wait_for(four_running.wait(), WAIT)
    await asyncio.wait_for(env.queue.join(), WAIT)
    assert peak == 4
    release.set()
    await env.tasks.drain(WAIT)
    assert running == 0


async def test_events_without_handlers_or_channel() -> None:
    setup = Setup()
    hellos: list[Hello] = []

    async def on_hello(event: Hello) -> None:
        hellos.append(event)

    setup.dispatcher.register(Hello, on_hello)
    setup.dispatcher.submit(posted(1, "c1"))  # nobody listens: dropped silently
    setup.dispatcher.submit(Hello(seq=0, server_version="5.36.0"))
    await setup.tasks.drain(WAIT)
    assert [h.server_version for h in hellos] == ["5.36.0"]
    assert len(setup.tasks) == 0


async def test_handler_timeout_is_logged() -> None:
    setup = Setup()
    dispatcher = EventDispatcher(setup.queue, setup.tasks, handler_timeout=0.01)
    after = asyncio.Event()

    async def hang(event: Posted) -> None:
        if event.seq == 1:
            await asyncio.Event().wait()
        after.set()

    dispatcher.register(Posted, hang)
    with capture_logs() as logs:
        dispatcher.submit(posted(1, "c1"))
        dispatcher.submit(posted(2, "c1"))
        await asyncio.wait_for(after.wait(), WAIT)
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["event_handler_timeout"]
    await setup.tasks.close(0.1)


async def test_close_waits_for_in_flight_then_cancels() -> None:
    setup = Setup()
    finished = asyncio.Event()
    cancelled = asyncio.Event()
    runner = asyncio.create_task(setup.dispatcher.run())

    async def quick(event: Posted) -> None:
        if event.post.channel_id == "hang":
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.set()
                raise
        await asyncio.sleep(0.01)
        finished.set()

    setup.dispatcher.register(Posted, quick)
    setup.queue.put_nowait(posted(1, "ok"))
    setup.queue.put_nowait(posted(2, "hang"))
    await asyncio.wait_for(setup.queue.join(), WAIT)
    with capture_logs() as logs:
        await setup.dispatcher.close(drain_timeout=0.2)
    assert finished.is_set()
    assert cancelled.is_set()
    assert runner.done()
    assert any(e["event"] == "dispatcher_closed_with_pending" for e in logs)
    setup.dispatcher.submit(posted(3, "ok"))  # after close: ignored
    assert len(setup.tasks) == 0
