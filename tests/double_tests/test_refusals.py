"""What the real server refuses, the double refuses the same way."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from tests.double import MattermostHTTPError
from tests.double import websocket as ws_module
from tests.double.testing import WsListener

from .conftest import Seed

CARD = {
    "attachments": [
        {
            "text": "card",
            "actions": [
                {
                    "id": "ack",
                    "name": "Ack",
                    "type": "button",
                    "integration": {"url": "{hook}/action"},
                },
                {
                    "id": "bad_id",
                    "name": "Bad",
                    "type": "button",
                    "integration": {"url": "{hook}/action"},
                },
            ],
        }
    ]
}


def card_props(seed: Seed) -> dict[str, Any]:
    props: dict[str, Any] = json.loads(json.dumps(CARD).replace("{hook}", seed.hook.url))
    return props


async def bot_card(seed: Seed, channel_id: str) -> str:
    res = await seed.rest.call(
        seed.bot,
        "POST",
        "/posts",
        {"channel_id": channel_id, "message": "m", "props": card_props(seed)},
    )
    assert res.status == 201, res.text
    post_id: str = res.body["id"]
    return post_id


async def trigger_for(seed: Seed, user_id: str = "") -> str:
    seed.hook.reply_json("/command", {"text": "ok"})
    await seed.mm.run_command(user_id or seed.alice.id, seed.town.id, "start")
    return seed.hook.last("/command").form["trigger_id"]


# ---- dialogs ---------------------------------------------------------------------------------
async def test_expired_trigger(seed: Seed) -> None:
    seed.mm.trigger_ttl = 0.2
    trigger_id = await trigger_for(seed)
    await asyncio.sleep(0.3)
    res = await seed.rest.call(
        seed.bot,
        "POST",
        "/actions/dialogs/open",
        {"trigger_id": trigger_id, "url": "http://x/d", "dialog": {}},
    )
    assert res.status == 400
    assert res.body["id"] == "interactive_message.decode_trigger_id.expired"
    assert "maximum of 0.2 seconds" in res.body["message"]
    assert seed.mm.dialogs(seed.alice.id) == []


async def test_unknown_or_forged_trigger(seed: Seed) -> None:
    trigger_id = await trigger_for(seed)
    for bad in ("nope", trigger_id[:-8] + "AAAAAAA=", ""):
        res = await seed.rest.call(
            seed.bot,
            "POST",
            "/actions/dialogs/open",
            {"trigger_id": bad, "url": "http://x/d", "dialog": {}},
        )
        assert res.status == 400
        assert res.body["id"] == "interactive_message.decode_trigger_id.failed"
    res = await seed.rest.call(
        seed.bot, "POST", "/actions/dialogs/open", {"trigger_id": trigger_id, "dialog": {}}
    )
    assert (res.status, res.body["id"]) == (400, "api.context.invalid_body_param.app_error")


# ---- message actions -------------------------------------------------------------------------
async def test_bad_action_id_never_reaches_integration(seed: Seed) -> None:
    post_id = await bot_card(seed, seed.secret.id)
    res = await seed.rest.call(seed.alice, "POST", f"/posts/{post_id}/actions/bad_id")
    assert res.status == 404
    assert res.body["id"] == "api.context.404.app_error"
    assert "request_id" not in res.body
    click = await seed.mm.click(seed.alice, post_id, "bad_id")
    assert click.status == 404
    assert click.body == res.body
    assert seed.hook.requests == []


async def test_click_private_channel_non_member(seed: Seed) -> None:
    post_id = await bot_card(seed, seed.secret.id)
    click = await seed.mm.click(seed.bob, post_id, "ack")
    assert click.status == 403
    assert click.body["id"] == "api.context.permissions.app_error"
    assert click.body["detailed_error"] == f"userId={seed.bob.id}, permission=read_channel,"
    assert seed.hook.requests == []
    click = await seed.mm.click(seed.admin, post_id, "ack")  # admins can read any channel
    assert click.status == 200
    assert len(seed.hook.requests) == 1


async def test_unknown_action_and_failing_integration(seed: Seed) -> None:
    post_id = await bot_card(seed, seed.secret.id)
    click = await seed.mm.click(seed.alice, post_id, "nosuch")
    assert (click.status, click.body["id"]) == (404, "api.post.do_action.action_id.app_error")
    seed.hook.reply_json("/action", {"error": "boom"}, status=500)
    click = await seed.mm.click(seed.alice, post_id, "ack")
    assert (click.status, click.body["id"]) == (
        400,
        "api.post.do_action.action_integration.app_error",
    )


# ---- posts -----------------------------------------------------------------------------------
async def test_ephemeral_needs_system_admin(seed: Seed) -> None:
    body = {"user_id": seed.alice.id, "post": {"channel_id": seed.secret.id, "message": "psst"}}
    res = await seed.rest.call(seed.bot, "POST", "/posts/ephemeral", body)
    assert res.status == 403
    assert res.body["detailed_error"] == f"userId={seed.bot.id}, permission=create_post_ephemeral,"
    assert seed.mm.ephemerals(seed.alice.id) == []
    res = await seed.rest.call(seed.admin, "POST", "/posts/ephemeral", body)
    assert res.status == 201
    assert [p["message"] for p in seed.mm.ephemerals(seed.alice.id)] == ["psst"]
    assert seed.mm.posts(seed.secret.id) == []


async def test_posting_permissions(seed: Seed) -> None:
    private = await seed.rest.call(
        seed.bob, "POST", "/posts", {"channel_id": seed.secret.id, "message": "x"}
    )
    assert (private.status, private.body["id"]) == (403, "api.context.permissions.app_error")
    public = await seed.rest.call(
        seed.bot, "POST", "/posts", {"channel_id": seed.town.id, "message": "x"}
    )
    assert public.status == 403  # create_post is a channel member's (api4/post.go)
    joined = await seed.rest.call(
        seed.bot, "POST", f"/channels/{seed.town.id}/members", {"user_id": seed.bot.id}
    )
    assert joined.status == 201
    public = await seed.rest.call(
        seed.bot, "POST", "/posts", {"channel_id": seed.town.id, "message": "x"}
    )
    assert public.status == 201
    outsider = await seed.rest.call(
        seed.outsider, "POST", "/posts", {"channel_id": seed.town.id, "message": "x"}
    )
    assert outsider.status == 403
    system = await seed.rest.call(
        seed.bot,
        "POST",
        "/posts",
        {"channel_id": seed.town.id, "message": "x", "type": "system_join_channel"},
    )
    assert system.status == 400
    reply = await seed.rest.call(
        seed.bot,
        "POST",
        "/posts",
        {"channel_id": seed.town.id, "message": "x", "root_id": "a" * 26},
    )
    assert (reply.status, reply.body["id"]) == (400, "api.post.create_post.root_id.app_error")
    edit = await seed.rest.call(
        seed.alice, "PUT", f"/posts/{public.body['id']}/patch", {"message": "y"}
    )
    assert edit.status == 403
    with pytest.raises(MattermostHTTPError) as err:
        await seed.mm.delete_post(seed.alice, public.body["id"])
    assert err.value.status == 403
    react = await seed.rest.call(
        seed.alice,
        "POST",
        "/reactions",
        {"user_id": seed.bob.id, "post_id": public.body["id"], "emoji_name": "x"},
    )
    assert react.status == 403


# ---- channels --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "display_name", "error_id"),
    [
        ("town-square", "Town", "store.sql_channel.save_channel.exists.app_error"),
        ("Disk-Full", "Disk", "model.channel.is_valid.2_or_more.app_error"),
        ("disk-full-", "Disk", "model.channel.is_valid.2_or_more.app_error"),
        ("d", "Disk", "model.channel.is_valid.2_or_more.app_error"),
        ("x" * 65, "Disk", "model.channel.is_valid.2_or_more.app_error"),
        ("disk full", "Disk", "model.channel.is_valid.2_or_more.app_error"),
        ("disk-full", "", "model.channel.is_valid.display_name.app_error"),
        ("a" * 26 + "__" + "b" * 26, "Disk", "model.channel.is_valid.name.app_error"),
        ("d" * 64, "x" * 65, "model.channel.is_valid.display_name.app_error"),
    ],
)
async def test_channel_name_rules(seed: Seed, name: str, display_name: str, error_id: str) -> None:
    res = await seed.rest.call(
        seed.bot,
        "POST",
        "/channels",
        {"team_id": seed.team.id, "name": name, "display_name": display_name, "type": "O"},
    )
    assert (res.status, res.body["id"]) == (400, error_id)


async def test_channel_access(seed: Seed) -> None:
    res = await seed.rest.call(
        seed.outsider,
        "POST",
        "/channels",
        {"team_id": seed.team.id, "name": "ok-name", "display_name": "Ok", "type": "O"},
    )
    assert res.status == 403
    res = await seed.rest.call(seed.bob, "GET", f"/channels/{seed.secret.id}")
    assert res.status == 403
    res = await seed.rest.call(seed.bob, "GET", f"/teams/{seed.team.id}/channels/name/secret")
    assert (res.status, res.body["id"]) == (404, "app.channel.get_by_name.missing.app_error")
    res = await seed.rest.call(
        seed.bob, "POST", f"/channels/{seed.secret.id}/members", {"user_id": seed.bob.id}
    )
    assert res.status == 403
    res = await seed.rest.call(
        seed.bob, "GET", f"/channels/{seed.secret.id}/members/{seed.alice.id}"
    )
    assert res.status == 403


async def test_unknown_user_and_non_team_member(seed: Seed) -> None:
    res = await seed.rest.call(seed.bot, "GET", "/users/" + "a" * 26)
    assert (res.status, res.body["id"]) == (404, "app.user.missing_account.const")
    res = await seed.rest.call(seed.bot, "GET", "/users/username/nosuchuser")
    assert (res.status, res.body["id"]) == (404, "app.user.get_by_username.app_error")
    res = await seed.rest.call(
        seed.bot, "POST", f"/channels/{seed.secret.id}/members", {"user_id": "a" * 26}
    )
    assert (res.status, res.body["id"]) == (404, "app.user.missing_account.const")
    res = await seed.rest.call(
        seed.bot, "POST", f"/channels/{seed.secret.id}/members", {"user_id": seed.outsider.id}
    )
    assert (res.status, res.body["id"]) == (404, "app.team.get_member.missing.app_error")
    res = await seed.rest.call(seed.bot, "GET", f"/teams/{seed.team.id}/members/{seed.outsider.id}")
    assert (res.status, res.body["id"]) == (404, "app.team.get_member.missing.app_error")
    assert seed.mm.channel_members(seed.secret.id) == {seed.bot.id, seed.alice.id}


# ---- commands and admin-only endpoints ---------------------------------------------------------
async def test_commands_refusals(seed: Seed) -> None:
    body = {"team_id": seed.team.id, "trigger": "incident", "method": "P", "url": seed.hook.url}
    res = await seed.rest.call(seed.admin, "POST", "/commands", body)
    assert (res.status, res.body["id"]) == (400, "api.command.duplicate_trigger.app_error")
    res = await seed.rest.call(seed.bot, "POST", "/commands", {**body, "trigger": "other"})
    assert res.status == 403
    res = await seed.rest.call(
        seed.bot, "GET", f"/commands?team_id={seed.team.id}&custom_only=true"
    )
    assert res.status == 403
    res = await seed.rest.call(
        seed.bot, "POST", "/commands/execute", {"channel_id": seed.secret.id, "command": "/nosuch"}
    )
    assert res.body["message"].startswith("Command with a trigger of 'nosuch' not found.")
    with pytest.raises(MattermostHTTPError) as err:
        await seed.mm.run_command(seed.alice, seed.town.id, "x", trigger="nosuch")
    assert (err.value.status, err.value.error_id) == (
        404,
        "api.command.execute_command.not_found.app_error",
    )
    seed.hook.reply_json("/command", {"text": "no"}, status=503)
    with pytest.raises(MattermostHTTPError) as err:
        await seed.mm.run_command(seed.alice, seed.town.id, "start")
    assert (err.value.status, err.value.error_id) == (
        500,
        "api.command.execute_command.failed.app_error",
    )
    seed.mm.register_command(seed.team.id, "down", "http://127.0.0.1:9/command")
    with pytest.raises(MattermostHTTPError) as err:
        await seed.mm.run_command(seed.alice, seed.town.id, "start", trigger="down")
    assert err.value.error_id == "api.command.execute_command.failed.app_error"


async def test_admin_only(seed: Seed) -> None:
    res = await seed.rest.call(
        seed.bot, "PUT", f"/users/{seed.bot.id}/roles", {"roles": "system_admin system_user"}
    )
    assert res.status == 403
    res = await seed.rest.call(seed.bot, "POST", "/bots", {"username": "other"})
    assert res.status == 403
    res = await seed.rest.call(
        seed.alice, "POST", f"/users/{seed.bob.id}/tokens", {"description": "x"}
    )
    assert res.status == 403
    res = await seed.rest.call(
        seed.alice,
        "POST",
        f"/teams/{seed.team.id}/members",
        {"team_id": seed.team.id, "user_id": seed.outsider.id},
    )
    assert res.status == 403
    res = await seed.rest.call(
        seed.admin, "PUT", f"/users/{seed.bot.id}/roles", {"roles": "system_admin system_user"}
    )
    assert res.status == 200
    assert "system_admin" in (await seed.rest.call(seed.bot, "GET", "/users/me")).body["roles"]


async def test_response_url_limits(seed: Seed) -> None:
    seed.hook.reply_json("/command", None)
    await seed.mm.run_command(seed.alice, seed.town.id, "start")
    path = seed.hook.last("/command").form["response_url"].removeprefix(seed.mm.url)
    for i in range(5):
        res = await seed.rest.call(None, "POST", path, {"text": f"late {i}"})
        assert res.status == 200
    res = await seed.rest.call(None, "POST", path, {"text": "too many"})
    assert (res.status, res.body["id"]) == (400, "web.command_webhook.invalid.app_error")
    assert len(seed.mm.ephemerals(seed.alice.id)) == 5


# ---- auth, content type, outage ---------------------------------------------------------------
async def test_bad_or_missing_token(seed: Seed) -> None:
    for token in ("nope", None):
        res = await seed.rest.call(token, "GET", "/users/me")
        assert (res.status, res.body["id"]) == (401, "api.context.session_expired.app_error")
        assert res.content_type == "application/json"
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await session.ws_connect(
                seed.mm.websocket_url, headers={"Authorization": "Bearer nope"}
            )
        assert err.value.status == 401


async def test_websocket_challenge_refusals(seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = await WsListener.connect(seed.mm.websocket_url, "nope", challenge=True, wait_hello=False)
    await asyncio.wait_for(bad.closed.wait(), 2)
    assert bad.frames == []
    await bad.close()
    monkeypatch.setattr(ws_module, "AUTH_TIMEOUT", 0.1)
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(seed.mm.websocket_url)
        msg = await ws.receive(timeout=2)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_content_type_is_exactly_application_json(seed: Seed) -> None:
    calls = [
        ("GET", "/users/me", None),
        ("GET", f"/channels/{seed.secret.id}", None),
        ("POST", "/posts", {"channel_id": seed.secret.id, "message": "x"}),
        ("GET", f"/channels/{seed.secret.id}/posts", None),
        ("GET", "/users/" + "a" * 26, None),
        (
            "POST",
            "/channels",
            {"team_id": seed.team.id, "name": "secret", "display_name": "S", "type": "P"},
        ),
        ("GET", "/system/ping", None),
    ]
    for method, path, body in calls:
        res = await seed.rest.call(seed.bot, method, path, body)
        assert res.headers["Content-Type"] == "application/json", (method, path)


async def test_outage(seed: Seed) -> None:
    listener = await WsListener.connect(seed.mm.websocket_url, seed.bot)
    await listener.next("hello")
    seed.mm.outage(True)
    res = await seed.rest.call(seed.bot, "GET", "/users/me")
    assert res.status == 503
    assert res.content_type == "application/json"
    await asyncio.wait_for(listener.closed.wait(), 2)
    await listener.close()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await session.ws_connect(
                seed.mm.websocket_url, headers={"Authorization": f"Bearer {seed.bot.token}"}
            )
        assert err.value.status == 503
    with pytest.raises(MattermostHTTPError):
        await seed.mm.user_post(seed.alice, seed.town.id, "down?")
    assert (await seed.mm.click(seed.alice, "x" * 26, "ack")).status == 503
    seed.mm.outage(False)
    assert (await seed.rest.call(seed.bot, "GET", "/users/me")).status == 200


async def test_fail_next(seed: Seed) -> None:
    seed.mm.fail_next("POST", r"/api/v4/posts$", status=500, error_id="x.y", times=2)
    body = {"channel_id": seed.secret.id, "message": "hi"}
    for _ in range(2):
        res = await seed.rest.call(seed.bot, "POST", "/posts", body)
        assert (res.status, res.body["id"]) == (500, "x.y")
    assert (await seed.rest.call(seed.bot, "GET", "/users/me")).status == 200
    assert (await seed.rest.call(seed.bot, "POST", "/posts", body)).status == 201
    assert [r.status for r in seed.mm.requests if r.path == "/api/v4/posts"] == [500, 500, 201]
    assert all(r.user_id in (seed.bot.id, None) for r in seed.mm.requests)
