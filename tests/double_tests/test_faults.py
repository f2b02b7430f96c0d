"""Injected faults behave as promised: what happened on the server, what the client saw."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.double import MattermostDouble, User
from tests.double.faults import ActThenDrop, ActThenFail, Drop, Hold, Refuse
from tests.double.testing import WsListener

from .conftest import Seed

POSTS = r"^/api/v4/posts$"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


async def post(
    http: httpx.AsyncClient, mm: MattermostDouble, user: User, channel_id: str, message: str
) -> httpx.Response:
    return await http.post(
        f"{mm.url}/api/v4/posts",
        headers={"Authorization": f"Bearer {user.token}"},
        content=json.dumps({"channel_id": channel_id, "message": message}),
    )


def messages(seed: Seed) -> list[str]:
    return [str(p["message"]) for p in seed.mm.posts(seed.secret.id)]


async def test_a_429_from_the_rate_limiter_refuses_before_acting(
    seed: Seed, http: httpx.AsyncClient
) -> None:
    rule = seed.mm.faults.inject("POST", POSTS, Refuse(429, retry_after=1.5))
    res = await post(http, seed.mm, seed.bot, seed.secret.id, "hello")
    assert res.status_code == 429
    assert res.text == "limit exceeded\n"
    assert res.headers["Retry-After"] == "2"  # whole seconds, rounded up
    assert res.headers["X-RateLimit-Reset"] == "2"
    assert messages(seed) == [] and rule.fired == 1
    # one request only: the next one is served
    assert (await post(http, seed.mm, seed.bot, seed.secret.id, "again")).status_code == 201
    assert messages(seed) == ["again"]


async def test_a_429_without_retry_after_has_no_such_header(
    seed: Seed, http: httpx.AsyncClient
) -> None:
    seed.mm.faults.inject("POST", POSTS, Refuse(429))
    res = await post(http, seed.mm, seed.bot, seed.secret.id, "hello")
    assert res.status_code == 429 and "Retry-After" not in res.headers
    assert messages(seed) == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_5xx_before_acting_changes_nothing(
    seed: Seed, http: httpx.AsyncClient, status: int
) -> None:
    seed.mm.faults.inject("POST", POSTS, Refuse(status))
    res = await post(http, seed.mm, seed.bot, seed.secret.id, "hello")
    assert res.status_code == status
    assert res.headers["Content-Type"] == "application/json"
    assert res.json()["status_code"] == status
    assert messages(seed) == []


async def test_a_proxy_5xx_is_an_html_page(seed: Seed, http: httpx.AsyncClient) -> None:
    seed.mm.faults.inject("POST", POSTS, Refuse(502, proxy=True))
    res = await post(http, seed.mm, seed.bot, seed.secret.id, "hello")
    assert res.status_code == 502
    assert res.headers["Content-Type"].startswith("text/html")
    assert "502 Bad Gateway" in res.text


async def test_act_then_fail_does_it_and_answers_an_error(
    seed: Seed, http: httpx.AsyncClient
) -> None:
    seed.mm.faults.inject("POST", POSTS, ActThenFail())
    res = await post(http, seed.mm, seed.bot, seed.secret.id, "hello")
    assert res.status_code == 500
    assert messages(seed) == ["hello"]  # the server did it; the client cannot know
    assert any(e["event"] == "posted" for e in seed.mm.events)


async def test_act_then_drop_does_it_and_loses_the_answer(
    seed: Seed, http: httpx.AsyncClient
) -> None:
    seed.mm.faults.inject("POST", POSTS, ActThenDrop())
    with pytest.raises(httpx.RemoteProtocolError):
        await post(http, seed.mm, seed.bot, seed.secret.id, "hello")
    assert messages(seed) == ["hello"]
    assert seed.mm.requests[-1].status == 0  # logged as unanswered
    # the double keeps serving new connections
    assert (await post(http, seed.mm, seed.bot, seed.secret.id, "next")).status_code == 201


async def test_drop_loses_the_request_without_acting(seed: Seed, http: httpx.AsyncClient) -> None:
    seed.mm.faults.inject("POST", POSTS, Drop())
    with pytest.raises(httpx.RemoteProtocolError):
        await post(http, seed.mm, seed.bot, seed.secret.id, "hello")
    assert messages(seed) == []


async def test_hold_answers_after_the_client_gave_up_and_acts_late(seed: Seed) -> None:
    seed.mm.faults.inject("POST", POSTS, Hold(1.5, act=True))
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=0.2)) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await post(impatient, seed.mm, seed.bot, seed.secret.id, "late")
    assert messages(seed) == []  # not yet
    await seed.mm.wait_until(lambda: messages(seed) == ["late"])


async def test_hold_without_acting_never_does_it(seed: Seed) -> None:
    rule = seed.mm.faults.inject("POST", POSTS, Hold(1.0, act=False))
    # patient to connect (a loaded machine), impatient for the answer
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=0.2)) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await post(impatient, seed.mm, seed.bot, seed.secret.id, "never")
    await seed.mm.wait_until(lambda: rule.fired == 1)
    assert messages(seed) == []


async def test_nth_and_times_pick_which_matching_requests_fail(
    seed: Seed, http: httpx.AsyncClient
) -> None:
    rule = seed.mm.faults.inject("POST", POSTS, Refuse(503), nth=2, times=2)
    statuses = [
        (await post(http, seed.mm, seed.bot, seed.secret.id, f"m{i}")).status_code for i in range(4)
    ]
    assert statuses == [201, 503, 503, 201]
    assert messages(seed) == ["m0", "m3"]
    assert rule.fired == 2 and seed.mm.faults.pending == []


async def test_only_matching_method_and_path_are_touched(
    seed: Seed, http: httpx.AsyncClient
) -> None:
    seed.mm.faults.inject("GET", r"/api/v4/posts/", Refuse(500), times=None)
    assert (await post(http, seed.mm, seed.bot, seed.secret.id, "ok")).status_code == 201
    me = await http.get(
        f"{seed.mm.url}/api/v4/users/me", headers={"Authorization": f"Bearer {seed.bot.token}"}
    )
    assert me.status_code == 200
    post_id = seed.mm.posts(seed.secret.id)[0]["id"]
    for _ in range(2):  # times=None: every time
        got = await http.get(
            f"{seed.mm.url}/api/v4/posts/{post_id}",
            headers={"Authorization": f"Bearer {seed.bot.token}"},
        )
        assert got.status_code == 500
    seed.mm.faults.clear()
    got = await http.get(
        f"{seed.mm.url}/api/v4/posts/{post_id}",
        headers={"Authorization": f"Bearer {seed.bot.token}"},
    )
    assert got.status_code == 200


async def test_a_request_the_server_refuses_anyway_does_not_spend_an_acting_fault(
    seed: Seed, http: httpx.AsyncClient
) -> None:
    rule = seed.mm.faults.inject("POST", POSTS, ActThenFail())
    # bob is not in the private channel: the real 403, nothing acted, the rule stays armed
    refused = await post(http, seed.mm, seed.bob, seed.secret.id, "intruder")
    assert refused.status_code == 403
    assert refused.json()["id"] == "api.context.permissions.app_error"
    assert rule.fired == 0
    failed = await post(http, seed.mm, seed.bot, seed.secret.id, "hello")
    assert failed.status_code == 500 and messages(seed) == ["hello"] and rule.fired == 1


async def test_unreachable_refuses_connections_until_reachable_again(
    seed: Seed, http: httpx.AsyncClient
) -> None:
    assert (await post(http, seed.mm, seed.bot, seed.secret.id, "before")).status_code == 201
    await seed.mm.faults.unreachable()
    with pytest.raises(httpx.ConnectError):  # also over the kept-alive connection
        await post(http, seed.mm, seed.bot, seed.secret.id, "during")
    await seed.mm.faults.reachable()
    assert (await post(http, seed.mm, seed.bot, seed.secret.id, "after")).status_code == 201
    assert messages(seed) == ["before", "after"]


async def test_unreachable_drops_open_websockets(seed: Seed) -> None:
    listener = await WsListener.connect(seed.mm.websocket_url, seed.bot)
    try:
        assert seed.mm.connections(seed.bot.id) == 1
        await seed.mm.faults.unreachable()
        await asyncio.wait_for(listener.closed.wait(), 2.0)
        assert seed.mm.connections(seed.bot.id) == 0
    finally:
        await seed.mm.faults.reachable()
        await listener.close()
