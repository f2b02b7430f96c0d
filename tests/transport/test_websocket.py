"""WebsocketListener against a small aiohttp websocket server speaking Mattermost's frames."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from itertools import cycle
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from structlog.testing import capture_logs

from bot.tasks import TaskTracker
from bot.transport.dispatcher import EventDispatcher
from bot.transport.events import Event, Hello, Posted, ReactionAdded, UserAdded
from bot.transport.websocket import (
    WebsocketListener,
    backoff_delay,
    new_event_queue,
    websocket_url,
)
from tests.double import MattermostDouble

WAIT = 3.0
FIXTURES = Path(__file__).parent.parent / "fixtures" / "mattermost"
POSTED = json.loads((FIXTURES / "ws_posted_user_message_seen_by_bot.json").read_text())


def hello(connection_id: str = "") -> str:
    return json.dumps(
        {
            "event": "hello",
            "data": {"connection_id": connection_id, "server_version": "5.36.0"},
            "broadcast": {"channel_id": "", "team_id": "", "user_id": "bot"},
            "seq": 0,
        }
    )


def posted(seq: int, channel: str = "c1", message: str = "hi") -> str:
    post = {**POSTED["data"]["post"], "id": f"post{seq}", "channel_id": channel, "message": message}
    data = {**POSTED["data"], "post": json.dumps(post)}
    return json.dumps({**POSTED, "data": data, "seq": seq})


def typing(seq: int) -> str:
    return json.dumps(
        {"event": "typing", "data": {"parent_id": "", "user_id": "u"}, "broadcast": {}, "seq": seq}
    )


async def until(condition: Callable[[], bool]) -> None:
    """Wait for a condition the code under test makes true (polled, no fixed sleeps)."""
    async with asyncio.timeout(WAIT):
        for _ in iter(int, 1):
            if condition():
                return
            await asyncio.sleep(0.002)


class FakeMattermost:
    """``/api/v4/websocket`` with switches for what the next upgrade request gets."""

    def __init__(self) -> None:
        self.requests: list[tuple[str | None, dict[str, str]]] = []
        self.sockets: asyncio.Queue[web.WebSocketResponse] = asyncio.Queue()
        self.refuse: list[int] = []  # statuses for the next upgrade requests
        self.connection_id = ""
        self.send_hello = True
        self.on_upgrade: Callable[[], None] | None = None
        app = web.Application()
        app.router.add_get("/api/v4/websocket", self._ws)
        self.server = TestServer(app, host="127.0.0.1")

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.headers.get("Authorization"), dict(request.query)))
        if self.refuse:
            status = self.refuse.pop(0)
            body = {"id": "api.context.session_expired.app_error", "status_code": status}
            return web.json_response(body, status=status)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if self.on_upgrade is not None:
            self.on_upgrade()
        if self.send_hello:
            await ws.send_str(hello(self.connection_id))
        self.sockets.put_nowait(ws)
        async for msg in ws:
            if msg.type == WSMsgType.ERROR:
                break
        return ws

    async def next_socket(self) -> web.WebSocketResponse:
        return await asyncio.wait_for(self.sockets.get(), WAIT)


class Recorder:
    """on_connected, sleep and random doubles."""

    def __init__(self, randoms: list[float] | None = None) -> None:
        self.connected: list[bool] = []
        self.connected_event = asyncio.Event()
        self.delays: list[float] = []
        self.slept = asyncio.Event()
        self._randoms: Iterator[float] = cycle(randoms or [1.0])

    async def on_connected(self, first: bool) -> None:
        self.connected.append(first)
        self.connected_event.set()

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        self.slept.set()
        await asyncio.sleep(0)

    def random(self) -> float:
        return next(self._randoms)

    async def wait_connected(self, count: int) -> None:
        await until(lambda: len(self.connected) >= count)

    async def wait_delays(self, count: int) -> None:
        await until(lambda: len(self.delays) >= count)


class Harness:
    def __init__(self, server: FakeMattermost, recorder: Recorder, **kwargs: Any) -> None:
        self.server = server
        self.rec = recorder
        self.queue: asyncio.Queue[Event] = kwargs.pop("queue", None) or new_event_queue()
        self.listener = WebsocketListener(
            url=server.url,
            token="bot-token",
            queue=self.queue,
            on_connected=kwargs.pop("on_connected", recorder.on_connected),
            sleep=recorder.sleep,
            random=recorder.random,
            **kwargs,
        )
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.listener.run())

    async def get(self) -> Event:
        return await asyncio.wait_for(self.queue.get(), WAIT)

    async def stop(self) -> None:
        await asyncio.wait_for(self.listener.stop(), WAIT)
        assert self.task is not None
        await asyncio.wait_for(self.task, WAIT)


@pytest.fixture
async def server() -> AsyncIterator[FakeMattermost]:
    fake = FakeMattermost()
    await fake.server.start_server()
    yield fake
    await fake.server.close()


@pytest.fixture
def make(server: FakeMattermost) -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def factory(recorder: Recorder | None = None, **kwargs: Any) -> Harness:
        harness = Harness(server, recorder or Recorder(), **kwargs)
        made.append(harness)
        harness.start()
        return harness

    yield factory
    for harness in made:
        assert harness.task is not None
        harness.task.cancel()


def test_websocket_url() -> None:
    assert websocket_url("https://chat.example.com/") == "wss://chat.example.com/api/v4/websocket"
    assert websocket_url("http://localhost:8065") == "ws://localhost:8065/api/v4/websocket"
    with pytest.raises(ValueError, match="http"):
        websocket_url("chat.example.com")


def test_backoff_delay_is_full_jitter_and_capped() -> None:
    assert backoff_delay(0, 0.999, base=0.5, cap=30) < 0.5
    assert backoff_delay(3, 0.5, base=0.5, cap=30) == 2.0
    assert backoff_delay(10, 1.0, base=0.5, cap=30) == 30
    assert backoff_delay(10_000, 0.0, base=0.5, cap=30) == 0.0


async def test_header_auth_hello_and_events_reach_the_queue(
    server: FakeMattermost, make: Callable[..., Harness]
) -> None:
    h = make()
    ws = await server.next_socket()
    first = await h.get()
    assert isinstance(first, Hello)
    await h.rec.wait_connected(1)
    assert h.rec.connected == [True]
    assert server.requests == [("Bearer bot-token", {})]
    assert h.listener.connected

    await ws.send_str(posted(1, message="disk full"))
    event = await h.get()
    assert isinstance(event, Posted)
    assert event.post.message == "disk full"
    assert h.listener.last_seq == 1

    await h.stop()
    assert not h.listener.connected


async def test_frames_reach_the_queue_while_a_handler_is_blocked(
    server: FakeMattermost, make: Callable[..., Harness]
) -> None:
    h = make()
    tasks = TaskTracker()
    dispatcher = EventDispatcher(h.queue, tasks)
    release = asyncio.Event()
    started = asyncio.Event()
    handled: list[int] = []

    async def slow(event: Posted) -> None:
        started.set()
        await release.wait()
        handled.append(event.seq)

    dispatcher.register(Posted, slow)
    runner = asyncio.create_task(dispatcher.run())
    ws = await server.next_socket()
    for seq in range(1, 21):
        await ws.send_str(posted(seq))
    await asyncio.wait_for(started.wait(), WAIT)
    # the first handler is stuck, yet every frame was read and taken off the queue
    await until(lambda: h.listener.last_seq == 20 and h.queue.empty())
    assert handled == []
    release.set()
    await until(lambda: len(handled) == 20)
    assert handled == list(range(1, 21))
    await dispatcher.close(1)
    await tasks.close(1)
    await h.stop()
    assert runner.done()


async def test_reconnects_after_the_server_drops_the_socket(
    server: FakeMattermost, make: Callable[..., Harness]
) -> None:
    h = make()
    ws = await server.next_socket()
    await h.rec.wait_connected(1)
    await ws.send_str(posted(1))
    await until(lambda: h.listener.last_seq == 1)
    await ws.close()

    await server.next_socket()
    await h.rec.wait_connected(2)
    assert h.rec.connected == [True, False]
    assert len(h.rec.delays) == 1
    assert 0 <= h.rec.delays[0] <= 0.5
    # 5.36 gives an empty connection_id: no resume, a plain reconnect with the header
    assert server.requests == [("Bearer bot-token", {}), ("Bearer bot-token", {})]
    assert h.listener.last_seq == 0
    assert h.listener.connections == 2
    await h.stop()


async def test_resumes_when_the_server_offers_a_connection_id(
    server: FakeMattermost, make: Callable[..., Harness]
) -> None:
    server.connection_id = "conn1"
    h = make()
    ws = await server.next_socket()
    await h.rec.wait_connected(1)
    await ws.send_str(posted(1))
    await ws.send_str(typing(2))
    await until(lambda: h.listener.last_seq == 2)
    server.send_hello = False  # the server can replay: no new hello
    await ws.close()

    ws2 = await server.next_socket()
    assert server.requests[1] == (
        "Bearer bot-token",
        {"connection_id": "conn1", "sequence_number": "3"},
    )
    await ws2.send_str(posted(3, message="replayed"))
    events = [await h.get() for _ in range(3)]
    assert [e.seq for e in events] == [0, 1, 3]
    assert h.rec.connected == [True]  # resumed: nothing lost, no resync
    await h.stop()


async def test_refused_resume_resyncs(server: FakeMattermost, make: Callable[..., Harness]) -> None:
    server.connection_id = "conn1"
    h = make()
    ws = await server.next_socket()
    await ws.send_str(posted(1))
    await until(lambda: h.listener.last_seq == 1)
    server.connection_id = "conn2"
    await ws.close()

    await server.next_socket()
    await h.rec.wait_connected(2)
    assert server.requests[1][1] == {"connection_id": "conn1", "sequence_number": "2"}
    assert h.rec.connected == [True, False]
    await h.stop()


async def test_seq_gap_triggers_a_resync(
    server: FakeMattermost, make: Callable[..., Harness]
) -> None:
    h = make()
    ws = await server.next_socket()
    await h.rec.wait_connected(1)
    await ws.send_str(posted(1))
    await ws.send_str(posted(5))
    await h.rec.wait_connected(2)
    assert h.rec.connected == [True, False]
    await until(lambda: h.listener.last_seq == 5)
    await h.stop()


async def test_backoff_grows_and_is_jittered(
    server: FakeMattermost, make: Callable[..., Harness]
) -> None:
    server.refuse = [503] * 9
    rec = Recorder(randoms=[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.25])
    h = make(rec)
    await rec.wait_delays(9)
    assert rec.delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 15.0, 7.5]
    await rec.wait_connected(1)  # the tenth try gets through
    await h.stop()


async def test_backoff_restarts_from_its_base_once_a_connection_is_authenticated(
    server: FakeMattermost, make: Callable[..., Harness]
) -> None:
    """The rule: failed attempts grow the delay; a connection whose first event (hello)
    arrived resets it, however short it lived; a socket that never got one does not."""
    server.refuse = [503, 503, 503]
    rec = Recorder()
    h = make(rec)
    ws = await server.next_socket()  # after three refusals
    await rec.wait_connected(1)
    await ws.close()  # cut right after hello
    ws = await server.next_socket()
    await rec.wait_connected(2)
    await ws.close()  # and again
    server.send_hello = False  # upgraded, but never authenticated
    ws = await server.next_socket()
    await ws.close()
    ws = await server.next_socket()
    await ws.close()
    await rec.wait_delays(6)
    assert rec.delays == [0.5, 1.0, 2.0, 0.5, 0.5, 1.0]
    await h.stop()


async def test_unauthorized_upgrade_is_logged_and_retried_at_the_cap(
    server: FakeMattermost, make: Callable[..., Harness]
) -> None:
    server.refuse = [401, 401]
    with capture_logs() as logs:
        h = make()
        await server.next_socket()
        await h.rec.wait_connected(1)
    assert h.rec.delays == [30.0, 30.0]
    rejected = [e for e in logs if e["event"] == "websocket_unauthorized"]
    assert len(rejected) == 2
    assert "bot token rejected" in rejected[0]["detail"]
    assert rejected[0]["log_level"] == "error"
    await h.stop()


async def test_unreachable_server_is_retried(server: FakeMattermost) -> None:
    rec = Recorder()
    listener = WebsocketListener(
        url="http://127.0.0.1:9",  # discard port: connection refused
        token="t",
        queue=new_event_queue(),
        on_connected=rec.on_connected,
        sleep=rec.sleep,
        random=rec.random,
    )
    task = asyncio.create_task(listener.run())
    await rec.wait_delays(3)
    assert rec.delays[:3] == [0.5, 1.0, 2.0]
    await asyncio.wait_for(listener.stop(), WAIT)
    assert task.done()
    assert task.exception() is None


async def test_stop_ends_run_promptly(server: FakeMattermost, make: Callable[..., Harness]) -> None:
    h = make()
    await server.next_socket()
    await h.rec.wait_connected(1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await h.stop()
    assert loop.time() - started < 1.0
    assert not h.listener.connected


async def test_stop_interrupts_a_backoff_sleep(server: FakeMattermost) -> None:
    server.refuse = [503]
    listener = WebsocketListener(
        url=server.url,
        token="t",
        queue=new_event_queue(),
        on_connected=Recorder().on_connected,
        random=lambda: 1.0,
        backoff_base=3600,  # a real, hour-long sleep
    )
    task = asyncio.create_task(listener.run())
    await until(lambda: len(server.requests) == 1)
    await asyncio.sleep(0.01)
    await asyncio.wait_for(listener.stop(), WAIT)
    assert task.done()


async def test_full_queue_drops_the_oldest(
    server: FakeMattermost, make: Callable[..., Harness]
) -> None:
    queue: asyncio.Queue[Event] = new_event_queue(maxsize=3)
    with capture_logs() as logs:
        h = make(queue=queue)
        ws = await server.next_socket()
        for seq in range(1, 6):
            await ws.send_str(posted(seq))
        await until(lambda: h.listener.last_seq == 5)
    assert h.listener.dropped == 3  # hello, 1 and 2
    assert [queue.get_nowait().seq for _ in range(3)] == [3, 4, 5]
    assert any(e["event"] == "event_queue_full" and e["log_level"] == "warning" for e in logs)
    await h.stop()


async def test_bad_frames_and_failing_on_connected_do_not_break_the_connection(
    server: FakeMattermost, make: Callable[..., Harness]
) -> None:
    calls: list[bool] = []

    async def broken(first: bool) -> None:
        calls.append(first)
        raise RuntimeError("resync failed")

    with capture_logs() as logs:
        h = make(on_connected=broken)
        ws = await server.next_socket()
        await ws.send_str("{not json")
        await ws.send_str(posted(1))
        event = await h.get()
        while not isinstance(event, Posted):
            event = await h.get()
    assert event.seq == 1
    assert calls == [True]
    assert h.listener.connections == 1
    assert any(e["event"] == "on_connected_failed" for e in logs)
    assert any(e["event"] == "ws_frame_malformed" for e in logs)
    await h.stop()


async def test_on_connected_runs_before_later_frames_are_read(
    server: FakeMattermost, make: Callable[..., Harness]
) -> None:
    gate = asyncio.Event()
    order: list[str] = []

    async def resync(first: bool) -> None:
        order.append("resync-start")
        await gate.wait()
        order.append("resync-end")

    h = make(on_connected=resync)
    ws = await server.next_socket()
    await ws.send_str(posted(1))
    await until(lambda: order == ["resync-start"])
    assert h.listener.last_seq == 0
    gate.set()
    await until(lambda: h.listener.last_seq == 1)
    assert order == ["resync-start", "resync-end"]
    await h.stop()


# ---- against the Mattermost double ------------------------------------------------------
class DoubleWorld:
    def __init__(self, mm: MattermostDouble) -> None:
        self.mm = mm
        team = mm.add_team("acme")
        self.alice = mm.add_user("alice", teams=[team.id])
        self.bot = mm.add_user("warroom", teams=[team.id], bot=True)
        self.channel = mm.add_channel(team.id, "disk-full", members=[self.alice.id, self.bot.id])
        self.rec = Recorder()
        self.queue: asyncio.Queue[Event] = new_event_queue()

    def listener(self, token: str | None = None) -> WebsocketListener:
        return WebsocketListener(
            url=self.mm.url,
            token=token or self.bot.token,
            queue=self.queue,
            on_connected=self.rec.on_connected,
            sleep=self.rec.sleep,
            random=self.rec.random,
        )

    async def next_of(self, kind: type[Event]) -> Event:
        async with asyncio.timeout(WAIT):
            while True:
                event = await self.queue.get()
                if isinstance(event, kind):
                    return event


@pytest.fixture
async def dw() -> AsyncIterator[DoubleWorld]:
    mm = MattermostDouble()
    await mm.start()
    try:
        yield DoubleWorld(mm)
    finally:
        await mm.close()


async def test_double_posts_reactions_and_membership_reach_the_queue(dw: DoubleWorld) -> None:
    listener = dw.listener()
    task = asyncio.create_task(listener.run())
    await dw.rec.wait_connected(1)
    assert dw.mm.connections(dw.bot.id) == 1

    post = await dw.mm.user_post(dw.alice, dw.channel.id, "disk is full")
    event = await dw.next_of(Posted)
    assert isinstance(event, Posted)
    assert event.post.id == post["id"]
    assert event.post.message == "disk is full"
    assert event.channel_type == "O"

    await dw.mm.react(dw.alice, post["id"], "pushpin")
    reaction = await dw.next_of(ReactionAdded)
    assert isinstance(reaction, ReactionAdded)
    assert reaction.reaction.emoji_name == "pushpin"
    assert reaction.channel_id == dw.channel.id

    bob = dw.mm.add_user("bob", teams=[dw.channel.team_id])
    await dw.mm.add_to_channel(dw.alice, dw.channel.id, bob.id)
    added = await dw.next_of(UserAdded)
    assert isinstance(added, UserAdded)
    assert (added.user_id, added.channel_id) == (bob.id, dw.channel.id)

    await asyncio.wait_for(listener.stop(), WAIT)
    assert task.done()
    assert task.exception() is None
    assert dw.rec.connected == [True]


async def test_double_drop_and_outage_reconnect_with_resync(dw: DoubleWorld) -> None:
    listener = dw.listener()
    task = asyncio.create_task(listener.run())
    await dw.rec.wait_connected(1)

    await dw.mm.drop_websockets()
    await dw.rec.wait_connected(2)
    assert dw.rec.connected == [True, False]

    dw.mm.outage(True)
    await dw.rec.wait_delays(3)  # the drop, then refused upgrades
    assert not listener.connected
    # the cut of an authenticated connection starts from the base; refused upgrades grow it
    assert dw.rec.delays[1:3] == [0.5, 1.0]
    dw.mm.outage(False)
    await dw.rec.wait_connected(3)
    assert listener.connected

    post = await dw.mm.user_post(dw.alice, dw.channel.id, "back")
    event = await dw.next_of(Posted)
    assert isinstance(event, Posted)
    assert event.post.id == post["id"]
    await asyncio.wait_for(listener.stop(), WAIT)
    assert task.done()


async def test_double_short_cuts_in_a_row_each_cost_only_the_base_delay(dw: DoubleWorld) -> None:
    """Six cuts, each right after the hello: none waits longer than the first (today's main
    doubled the delay each time, so the sixth cut cost 16 s and a seventh 30 s)."""
    listener = dw.listener()
    task = asyncio.create_task(listener.run())
    for cut in range(1, 7):
        await dw.rec.wait_connected(cut)
        await dw.mm.drop_websockets()
    await dw.rec.wait_connected(7)
    assert dw.rec.delays == [0.5] * 6
    assert dw.rec.connected == [True] + [False] * 6  # every reconnect re-read state
    await asyncio.wait_for(listener.stop(), WAIT)
    assert task.done()


async def test_double_rejects_a_bad_token(dw: DoubleWorld) -> None:
    listener = dw.listener(token="revoked")
    with capture_logs() as logs:
        task = asyncio.create_task(listener.run())
        await dw.rec.wait_delays(2)
        await asyncio.wait_for(listener.stop(), WAIT)
    assert dw.rec.delays[:2] == [30.0, 30.0]
    assert dw.rec.connected == []
    assert any(e["event"] == "websocket_unauthorized" for e in logs)
    assert task.done()


async def test_cancelling_run_closes_the_socket(
    server: FakeMattermost, make: Callable[..., Harness]
) -> None:
    h = make()
    ws = await server.next_socket()
    await h.rec.wait_connected(1)
    assert h.task is not None
    h.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await h.task
    await until(lambda: ws.closed)
    assert not h.listener.connected
