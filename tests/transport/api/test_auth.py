"""The token → user cache of the REST API: brief, bounded, never keeps the token itself."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.errors import ChatUnavailable
from bot.transport.api.auth import REFUSED_TTL_S, Identities, Unauthenticated, bearer


class Server:
    """A stand-in for ``GET /api/v4/users/me``: counts the questions, answers by token."""

    def __init__(self) -> None:
        self.asked = 0
        self.status = 200

    async def me(self, request: web.Request) -> web.Response:
        self.asked += 1
        token = request.headers["Authorization"].removeprefix("Bearer ")
        if self.status != 200:
            return web.json_response({}, status=self.status)
        if token.startswith("bad"):
            return web.json_response({"id": "api.context.session_expired.app_error"}, status=401)
        return web.json_response({"id": "u" + token[-25:].rjust(25, "0"), "username": token})


@pytest.fixture
async def server() -> Server:
    return Server()


async def started(server: Server) -> TestServer:
    app = web.Application()
    app.router.add_get("/api/v4/users/me", server.me)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    return test_server


def test_bearer_takes_the_token_of_a_bearer_header_only() -> None:
    assert bearer("Bearer abc") == "abc"
    assert bearer("bearer abc") == "abc"
    for header in ("", "Bearer", "Basic abc", "Token abc", "Bearer a b", "Bearer " + "x" * 300):
        with pytest.raises(Unauthenticated):
            bearer(header)


async def test_answers_are_cached_briefly_and_the_cache_is_bounded(server: Server) -> None:
    srv = await started(server)
    now = [0.0]
    ids = Identities(str(srv.make_url("")), ttl_s=30, max_entries=2, clock=lambda: now[0])
    try:
        assert (await ids.user("alice")).username == "alice"
        await ids.user("alice")
        assert server.asked == 1  # cached
        now[0] = 31.0
        await ids.user("alice")
        assert server.asked == 2  # expired: asked again
        await ids.user("bob")
        await ids.user("carol")
        assert len(ids) == 2  # bounded: the least recently used went out
        await ids.user("alice")
        assert server.asked == 5
    finally:
        await ids.close()
        await srv.close()


async def test_refused_tokens_and_outages_are_told_apart(server: Server) -> None:
    srv = await started(server)
    now = [0.0]
    ids = Identities(str(srv.make_url("")), clock=lambda: now[0])
    try:
        for _ in range(3):
            with pytest.raises(Unauthenticated):
                await ids.user("bad-token")
        assert server.asked == 1  # a refusal is remembered briefly: a flood is not passed on
        now[0] = REFUSED_TTL_S
        with pytest.raises(Unauthenticated):
            await ids.user("bad-token")
        assert server.asked == 2  # then asked again (the token may have been fixed)
        server.status = 502
        with pytest.raises(ChatUnavailable):
            await ids.user("alice")
    finally:
        await ids.close()
        await srv.close()
