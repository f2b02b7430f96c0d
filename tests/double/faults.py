"""Fault injection: the failures a real deployment meets between warroom and Mattermost.

A test arms rules on ``double.faults``; each REST request (the websocket upgrade is left
alone) is matched against them by method and path, and the first rule due for it decides
how the request is served::

    from tests.double.faults import ActThenDrop, ActThenFail, Hold, Refuse

    mm.faults.inject("POST", r"^/api/v4/posts$", Refuse(429, retry_after=2))
    mm.faults.inject("PUT", r"/patch$", Refuse(500), times=2)         # two answers in a row
    mm.faults.inject("POST", r"^/api/v4/posts$", ActThenFail(), nth=3)  # only the 3rd post
    mm.faults.inject("POST", r"^/api/v4/channels$", ActThenDrop())     # the answer is lost
    mm.faults.inject("*", r"/posts", Hold(0.5, act=True))              # past a 0.3 s timeout
    gate = Gate(); mm.faults.inject("POST", r"^/api/v4/posts$", gate)  # until gate.opened.set()
    await mm.faults.unreachable(); ...; await mm.faults.reachable()     # connect errors

Kinds, and what the client can know afterwards:

* :class:`Refuse` answers before acting (nothing changed): a 429 shaped as Mattermost's
  rate limiter answers, with or without ``Retry-After``; a 5xx as the server's JSON error
  or, with ``proxy=True``, as a reverse proxy's HTML page.
* :class:`ActThenFail` serves the request (state changes, events go out), then answers
  an error instead of the result: the server did it, the client does not know.
* :class:`ActThenDrop` serves the request, then closes the connection without an
  answer: a lost answer (httpx raises ``RemoteProtocolError``).
* :class:`Drop` closes the connection without acting: to the client indistinguishable
  from :class:`ActThenDrop`.
* :class:`Hold` waits ``seconds`` (real time: pick more than the client's timeout), then
  serves the request (``act=True``: the server did it late) or drops it unanswered.
* :class:`Gate` holds the request until the test opens it, then serves it.
* :meth:`Faults.unreachable` stops listening and closes every open connection, so new
  requests fail to connect (httpx ``ConnectError``: surely never reached the server),
  until :meth:`Faults.reachable` listens again on the same port.

A rule whose request the server refuses anyway (a 4xx from the real handler) does not
fire for the acting kinds: the real refusal is answered and the rule stays armed, since
"acted, then failed" is only true when the server acted. Rules live on one double, so
they are cleared between tests with it; :meth:`Faults.clear` clears them mid-test.

Every request a fault touched is in the double's request log like any other; a dropped
one with status 0 (no answer was sent).

Sources for the shapes: the 429 answer of Mattermost's rate limiter is a plain-text
``limit exceeded`` with ``X-RateLimit-Limit``, ``X-RateLimit-Remaining``,
``X-RateLimit-Reset`` (seconds) and ``Retry-After`` (seconds) headers
(mattermost-server ``app/ratelimit.go``, ``RateLimitWriter`` / ``setRateLimitHeaders``);
other 5xx answers of the server are its JSON app error (``model.AppError``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Protocol

from aiohttp import web

from .util import dumps, new_id

WEBSOCKET_PATH = "/api/v4/websocket"
Answer = Callable[[], Awaitable[web.StreamResponse]]


class ConnectionDropped(Exception):
    """Raised by a fault to close the connection without an answer; ``acted`` says whether
    the request was served first."""

    def __init__(self, acted: bool) -> None:
        super().__init__("connection dropped by an injected fault")
        self.acted = acted


Served = tuple[web.StreamResponse, bool]


class FaultKind(Protocol):
    """How a matched request is served. ``answer()`` serves it normally (it acts)."""

    async def serve(self, answer: Answer) -> Served:
        """The response to send, and whether the fault happened (False when the server
        refused the request by itself, so "acted, then failed" would be untrue)."""


def _app_error(status: int, error_id: str) -> web.Response:
    body = {
        "id": error_id,
        "message": "An injected failure.",
        "detailed_error": "",
        "request_id": new_id(),
        "status_code": status,
    }
    return web.Response(
        status=status, body=dumps(body).encode(), headers={"Content-Type": "application/json"}
    )


def _proxy_page(status: int) -> web.Response:
    reason = f"{status} {HTTPStatus(status).phrase}"
    return web.Response(
        status=status,
        text=f"<html><head><title>{reason}</title></head><body>{reason}</body></html>\n",
        content_type="text/html",
    )


def _rate_limited(retry_after: float | None) -> web.Response:
    headers = {
        "X-RateLimit-Limit": "10",
        "X-RateLimit-Remaining": "0",
        "X-Content-Type-Options": "nosniff",
    }
    if retry_after is not None:
        seconds = str(int(-(-retry_after // 1)))  # whole seconds, rounded up, as the server
        headers["X-RateLimit-Reset"] = seconds
        headers["Retry-After"] = seconds
    return web.Response(
        status=429,
        text="limit exceeded\n",
        headers={**headers, "Content-Type": "text/plain; charset=utf-8"},
    )


@dataclass(frozen=True)
class Refuse:
    """Answer ``status`` before acting: 429 (``retry_after`` seconds or no header), 500,
    502, 503, 504. ``proxy=True`` makes a 5xx an HTML page, as a reverse proxy sends."""

    status: int
    retry_after: float | None = None
    proxy: bool = False
    error_id: str = "double.injected_failure"

    async def serve(self, answer: Answer) -> Served:
        if self.status == 429:
            return _rate_limited(self.retry_after), True
        if self.proxy:
            return _proxy_page(self.status), True
        return _app_error(self.status, self.error_id), True


@dataclass(frozen=True)
class ActThenFail:
    """Serve the request, then answer ``status`` (a JSON app error) instead of the result."""

    status: int = 500
    error_id: str = "double.injected_failure_after_acting"

    async def serve(self, answer: Answer) -> Served:
        response = await answer()
        if response.status >= 400:
            return response, False
        return _app_error(self.status, self.error_id), True


@dataclass(frozen=True)
class ActThenDrop:
    """Serve the request, then close the connection without answering."""

    async def serve(self, answer: Answer) -> Served:
        response = await answer()
        if response.status >= 400:
            return response, False
        raise ConnectionDropped(acted=True)


@dataclass(frozen=True)
class Drop:
    """Close the connection without acting and without answering."""

    async def serve(self, answer: Answer) -> Served:
        raise ConnectionDropped(acted=False)


@dataclass(frozen=True)
class Hold:
    """Wait ``seconds`` of real time, then serve the request (``act``) or drop it."""

    seconds: float
    act: bool = True

    async def serve(self, answer: Answer) -> Served:
        await asyncio.sleep(self.seconds)
        if not self.act:
            raise ConnectionDropped(acted=False)
        return await answer(), True


@dataclass(frozen=True)
class Gate:
    """Hold the request until the test opens the gate, then serve it: a post in flight for
    as long as the test needs, without waiting for any time (``reached`` is set when the
    request arrives)."""

    opened: asyncio.Event = field(default_factory=asyncio.Event)
    reached: asyncio.Event = field(default_factory=asyncio.Event)

    async def serve(self, answer: Answer) -> Served:
        self.reached.set()
        await self.opened.wait()
        return await answer(), True


@dataclass
class FaultRule:
    """One armed fault: requests matching ``method`` (or ``*``) and ``path`` (a regex
    searched in the request path) number ``nth`` .. ``nth + times - 1`` get ``kind``
    (``times=None``: every one from ``nth`` on). ``seen`` counts matching requests,
    ``fired`` the ones the fault was applied to."""

    method: str
    path: str
    kind: FaultKind
    times: int | None = 1
    nth: int = 1
    seen: int = 0
    fired: int = 0
    _pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self._pattern = re.compile(self.path)
        if self.nth < 1 or (self.times is not None and self.times < 1):
            raise ValueError("nth and times count from 1")

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method.upper()) and self._pattern.search(path) is not None

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.seen >= self.nth - 1 + self.times

    def due(self) -> bool:
        """Count a matching request; whether this rule applies to it."""
        self.seen += 1
        last = None if self.times is None else self.nth - 1 + self.times
        return self.seen >= self.nth and (last is None or self.seen <= last)


class Faults:
    """The rules armed on one double (``double.faults``) and its reachability switch."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._offline: Callable[[bool], Awaitable[None]] | None = None

    def inject(
        self, method: str, path: str, kind: FaultKind, *, times: int | None = 1, nth: int = 1
    ) -> FaultRule:
        """Arm a fault for requests matching ``method`` (``"*"`` for any) and the regex
        ``path``; see :class:`FaultRule` for ``times``/``nth``. Returns the rule, whose
        ``fired`` count a test can assert on."""
        rule = FaultRule(method, path, kind, times=times, nth=nth)
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Disarm every rule."""
        self.rules.clear()

    @property
    def pending(self) -> list[FaultRule]:
        """Rules that can still fire."""
        return [r for r in self.rules if not r.exhausted]

    async def unreachable(self) -> None:
        """Stop listening and close every connection (websockets too): connect errors."""
        if self._offline is None:
            raise RuntimeError("the double is not started")
        await self._offline(True)

    async def reachable(self) -> None:
        """Listen again on the same port."""
        if self._offline is None:
            raise RuntimeError("the double is not started")
        await self._offline(False)

    def bind(self, offline: Callable[[bool], Awaitable[None]]) -> None:
        """Used by the double: how to go offline and back."""
        self._offline = offline

    def take(self, method: str, path: str) -> FaultRule | None:
        """The rule that applies to this request (every matching rule counts it)."""
        if path == WEBSOCKET_PATH:
            return None
        chosen: FaultRule | None = None
        for rule in self.rules:
            if rule.matches(method, path) and rule.due() and chosen is None:
                chosen = rule
        return chosen

    async def serve(self, rule: FaultRule, answer: Answer) -> web.StreamResponse:
        """Serve a request under ``rule``; raises :class:`ConnectionDropped` to drop it."""
        rule.fired += 1  # counted from the start: a held request has fired while it waits
        response, happened = await rule.kind.serve(answer)
        if not happened:  # the server refused by itself: the rule stays armed for the next
            rule.fired -= 1
            rule.seen -= 1
        return response
