"""A webhook receiver on loopback for the tests: records every delivery, answers as told."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.scenarios.harness import PLAYBOOKS

SECRET_ENV = "WARROOM_TEST_HOOK_SECRET"
SECRET = "s3cret-for-tests"


def verify(secret: bytes, timestamp: str, body: bytes, header: str) -> bool:
    """The receiver's check, written from RFC 2104 without the ``hmac`` module (an
    implementation independent of warroom's): H((K ^ opad) || H((K ^ ipad) || message))."""
    block = 64
    key = hashlib.sha256(secret).digest() if len(secret) > block else secret
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key) + timestamp.encode() + b"." + body)
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key) + inner.digest())
    return header == "sha256=" + outer.hexdigest()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class Receiver:
    """``answers``: statuses to answer in turn (then 200). ``hold``: when set, each request
    waits for it to be set again before answering. ``on_request``: called first."""

    answers: list[int] = field(default_factory=list)
    got: list[Received] = field(default_factory=list)
    hold: asyncio.Event | None = None
    on_request: Callable[[], None] | None = None
    server: TestServer | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append(Received(dict(request.headers), await request.read()))
        if self.on_request is not None:
            self.on_request()
        if self.hold is not None:
            await self.hold.wait()
        status = self.answers.pop(0) if self.answers else 200
        return web.Response(status=status)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return str(self.server.make_url("/hook"))

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def wait_for(self, count: int, seconds: float = 10.0) -> None:
        """Until ``count`` requests came (a wait for background work, not a timing check)."""
        for _ in range(int(seconds / 0.01)):
            if len(self.got) >= count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{len(self.got)} deliveries came, not {count}")


def playbooks_with_hook(url: str, events: str = "[started, status_updated, ended]") -> str:
    """The harness's playbooks, the Outage one with a webhook to ``url``."""
    hook = (
        f"    webhooks:\n      - url: {url}\n        events: {events}\n"
        f"        secret_env: {SECRET_ENV}\n"
    )
    return PLAYBOOKS.replace("    broadcast_channel: ~ops-alerts\n", hook, 1)
