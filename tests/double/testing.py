"""Helpers for tests that use the double: a stub integration, a websocket
listener and a recursive JSON shape comparison against the recordings."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from .state import User
from .util import Json

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mattermost"
NESTED_JSON = ("post", "reaction", "dialog", "mentions", "channel")


def recorded(name: str) -> Any:
    """A recorded payload (`name` without .json)."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


# ---- shape comparison ------------------------------------------------------------
def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "object"


def shape_diff(actual: Any, expected: Any, path: str = "$") -> list[str]:
    """Differences of key sets (recursively) and JSON types; [] when alike.

    Lists: compared item by item when of equal length, else each actual item
    against the first expected one.
    """
    if json_type(actual) != json_type(expected):
        return [f"{path}: {json_type(actual)} != recorded {json_type(expected)}"]
    problems: list[str] = []
    if isinstance(expected, dict):
        missing, extra = set(expected) - set(actual), set(actual) - set(expected)
        if missing or extra:
            problems.append(f"{path}: missing {sorted(missing)} extra {sorted(extra)}")
        for key in set(expected) & set(actual):
            problems += shape_diff(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list) and expected and actual:
        same = len(actual) == len(expected)
        pairs = zip(actual, expected if same else [expected[0]] * len(actual), strict=True)
        for i, (a, e) in enumerate(pairs):
            problems += shape_diff(a, e, f"{path}[{i}]")
    return problems


def assert_same_shape(actual: Any, expected: Any) -> None:
    problems = shape_diff(actual, expected)
    assert not problems, "\n".join(problems)


def decode_frame(frame: Json) -> Json:
    """A websocket frame with its nested JSON strings decoded (as the recordings show them)."""
    out: Json = json.loads(json.dumps(frame))
    data = out.get("data")
    if isinstance(data, dict):
        for key in NESTED_JSON:
            if isinstance(data.get(key), str):
                data[key] = json.loads(data[key])
    return out


# ---- a stand-in integration ----------------------------------------------------------
@dataclass
class Captured:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


Reply = Callable[[Captured], Awaitable[web.StreamResponse] | web.StreamResponse]


@dataclass
class Integration:
    """A tiny HTTP server standing in for warroom: records what the double POSTs."""

    requests: list[Captured] = field(default_factory=list)
    replies: dict[str, Reply] = field(default_factory=dict)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def reply_json(self, path: str, body: Any = None, status: int = 200) -> None:
        """Answer `path` with JSON (`None` = empty body)."""

        def reply(_: Captured) -> web.Response:
            raw = b"" if body is None else json.dumps(body).encode()
            return web.Response(
                status=status, body=raw, headers={"Content-Type": "application/json"}
            )

        self.replies[path] = reply

    def on(self, path: str, reply: Reply) -> None:
        self.replies[path] = reply

    def last(self, path: str) -> Captured:
        return [r for r in self.requests if r.path == path][-1]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        captured = Captured(
            request.method, request.path, dict(request.headers), await request.read()
        )
        self.requests.append(captured)
        reply = self.replies.get(request.path)
        if reply is None:
            return web.Response(status=200)
        result = reply(captured)
        return await result if asyncio.iscoroutine(result) else result  # type: ignore[return-value]


# ---- websocket listener ------------------------------------------------------------------
class WsListener:
    """A websocket client collecting every frame; `next(event)` waits for one."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.frames: list[Json] = []
        self._session = session
        self._ws = ws
        self._taken: set[int] = set()
        self._changed = asyncio.Event()
        self.closed = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def connect(
        cls, url: str, user: User | str, *, challenge: bool = False, wait_hello: bool = True
    ) -> WsListener:
        """`url`: the double's websocket url; `user`: a User or a token.

        With `wait_hello` (default) returns once `hello` arrived, i.e. once the
        server delivers events to this connection (the frame stays unconsumed).
        """
        token = user.token if isinstance(user, User) else user
        session = aiohttp.ClientSession()
        headers = {} if challenge else {"Authorization": f"Bearer {token}"}
        ws = await session.ws_connect(url, headers=headers)
        if challenge:
            await ws.send_str(
                json.dumps(
                    {"seq": 1, "action": "authentication_challenge", "data": {"token": token}}
                )
            )
        listener = cls(session, ws)
        if wait_hello:
            try:
                async with asyncio.timeout(2.0):
                    while not listener.events("hello") and not listener.closed.is_set():
                        listener._changed.clear()
                        await listener._changed.wait()
            except BaseException:
                await listener.close()
                raise
        return listener

    async def _read(self) -> None:
        try:
            async for msg in self._ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    self.frames.append(json.loads(msg.data))
                    self._changed.set()
        finally:
            self.closed.set()
            self._changed.set()

    async def next(self, event: str, within: float = 2.0, **data: Any) -> Json:
        """The next not yet returned frame of `event` (whose data has `data`'s items)."""
        async with asyncio.timeout(within):
            while True:
                for i, frame in enumerate(self.frames):
                    if i in self._taken or frame.get("event") != event:
                        continue
                    if all(frame.get("data", {}).get(k) == v for k, v in data.items()):
                        self._taken.add(i)
                        return frame
                if self.closed.is_set():
                    raise ConnectionError(f"websocket closed before {event!r}")
                self._changed.clear()
                await self._changed.wait()

    def events(self, event: str) -> list[Json]:
        return [f for f in self.frames if f.get("event") == event]

    async def send(self, payload: Json) -> None:
        await self._ws.send_str(json.dumps(payload))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._ws.close()
        await self._session.close()
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task


# ---- a plain REST client ------------------------------------------------------------------
@dataclass
class RestResult:
    status: int
    content_type: str
    text: str
    headers: dict[str, str]

    @property
    def body(self) -> Any:
        return json.loads(self.text) if self.text else None


class RestClient:
    """Raw HTTP calls to the double, to see statuses, headers and bodies as sent."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._session: aiohttp.ClientSession | None = None

    async def call(
        self,
        user: User | str | None,
        method: str,
        path: str,
        body: Any = None,
        *,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> RestResult:
        """`path` is under /api/v4 unless it starts with /api or /hooks."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        if not path.startswith(("/api/", "/hooks/")):
            path = "/api/v4" + path
        all_headers = dict(headers or {})
        if user is not None:
            token = user.token if isinstance(user, User) else user
            all_headers["Authorization"] = f"Bearer {token}"
        kwargs: dict[str, Any] = {"headers": all_headers}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            all_headers["Content-Type"] = "application/json"
        elif data is not None:
            kwargs["data"] = data
        async with self._session.request(method, self.base_url + path, **kwargs) as resp:
            return RestResult(
                resp.status,
                resp.headers.get("Content-Type", ""),
                await resp.text(),
                dict(resp.headers),
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
