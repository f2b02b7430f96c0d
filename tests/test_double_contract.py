"""Contract tests: what the Mattermost double sends has the shape of the real
5.36 recordings in tests/fixtures/mattermost (same keys, recursively, same JSON
types), and the exact ids/messages where the recording pins them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tests.double import Channel, Command, MattermostDouble, Team, User
from tests.double.testing import (
    Integration,
    RestClient,
    WsListener,
    assert_same_shape,
    decode_frame,
    recorded,
)

CARD_PROPS_TEMPLATE: dict[str, Any] = {
    "attachments": [
        {
            "color": "#e01e5a",
            "title": "Disk full",
            "text": "Commander: @alice",
            "fields": [{"short": True, "title": "Stage", "value": "Triage"}],
            "actions": [
                {
                    "id": "check0x0",
                    "name": "Check",
                    "type": "button",
                    "style": "primary",
                    "integration": {
                        "url": "{hook}/action",
                        "context": {"action": "check", "sig": "abc"},
                    },
                },
                {
                    "id": "assign0x0",
                    "name": "Assign",
                    "type": "select",
                    "data_source": "users",
                    "integration": {"url": "{hook}/action", "context": {"action": "assign"}},
                },
                {
                    "id": "bad_id",
                    "name": "Bad id",
                    "type": "button",
                    "integration": {"url": "{hook}/action", "context": {"action": "bad"}},
                },
            ],
        }
    ]
}
DIALOG = {
    "callback_id": "start",
    "title": "Start incident",
    "introduction_text": "intro",
    "submit_label": "Start",
    "notify_on_cancel": True,
    "state": "signed-state",
    "elements": [
        {
            "display_name": "Playbook",
            "name": "playbook",
            "type": "select",
            "options": [{"text": "Default", "value": "pb1"}],
        },
        {"display_name": "Name", "name": "name", "type": "text", "min_length": 2, "max_length": 64},
        {
            "display_name": "Description",
            "name": "description",
            "type": "textarea",
            "optional": True,
        },
        {
            "display_name": "Commander",
            "name": "commander",
            "type": "select",
            "data_source": "users",
            "optional": True,
        },
    ],
}


def body_of(name: str) -> Any:
    """The recorded body (files holding {status, body} or the body itself)."""
    rec = recorded(name)
    if isinstance(rec, dict) and set(rec) == {"status", "body"}:
        body = rec["body"]
        return json.loads(body) if isinstance(body, str) else body
    return rec


def assert_error(actual: Any, name: str) -> None:
    """Same shape and same id/message/status as a recorded error."""
    expected = body_of(name)
    assert_same_shape(actual, expected)
    for key in ("id", "message", "status_code"):
        assert actual[key] == expected[key], key


@dataclass
class World:
    mm: MattermostDouble
    hook: Integration
    rest: RestClient
    team: Team
    admin: User
    alice: User
    bob: User
    carol: User
    outsider: User
    bot: User
    town: Channel
    cmd: Command

    def card_props(self) -> dict[str, Any]:
        props: dict[str, Any] = json.loads(
            json.dumps(CARD_PROPS_TEMPLATE).replace("{hook}", self.hook.url)
        )
        return props

    async def incident_channel(self) -> str:
        """The bot creates a private channel and adds alice and bob (as recorded)."""
        res = await self.rest.call(
            self.bot,
            "POST",
            "/channels",
            {
                "team_id": self.team.id,
                "name": "disk-full",
                "display_name": "Disk full",
                "type": "P",
                "header": "db down",
            },
        )
        assert res.status == 201, res.text
        channel_id: str = res.body["id"]
        for user in (self.alice, self.bob):
            added = await self.rest.call(
                self.bot, "POST", f"/channels/{channel_id}/members", {"user_id": user.id}
            )
            assert added.status == 201, added.text
        return channel_id

    async def card(self, channel_id: str) -> dict[str, Any]:
        res = await self.rest.call(
            self.bot,
            "POST",
            "/posts",
            {
                "channel_id": channel_id,
                "message": "Incident card",
                "props": self.card_props(),
            },
        )
        assert res.status == 201, res.text
        body: dict[str, Any] = res.body
        return body


@pytest.fixture
async def world() -> AsyncIterator[World]:
    mm = MattermostDouble(trigger_ttl=3.0)
    hook = Integration()
    await mm.start()
    await hook.start()
    rest = RestClient(mm.url)
    team = mm.add_team("acme", "Acme")
    admin = mm.add_user("admin", teams=[team.id], admin=True)
    alice = mm.add_user("alice", teams=[team.id])
    bob = mm.add_user("bob", teams=[team.id])
    carol = mm.add_user("carol", teams=[team.id])
    outsider = mm.add_user("dave")
    bot = mm.add_user(
        "warroom", teams=[team.id], bot=True, description="incident bot", owner_id=admin.id
    )
    town = mm.add_channel(team.id, "town-square", members=[admin.id, alice.id, bob.id, carol.id])
    cmd = mm.register_command(team.id, "incident", hook.url + "/command", creator_id=admin.id)
    yield World(mm, hook, rest, team, admin, alice, bob, carol, outsider, bot, town, cmd)
    await rest.close()
    await hook.close()
    await mm.close()


# ---- users, bots, teams, system -----------------------------------------------------------------
async def test_users(world: World) -> None:
    res = await world.rest.call(world.bot, "GET", "/users/me")
    assert res.content_type == "application/json"
    assert_same_shape(res.body, body_of("rest_bot_users_me"))
    res = await world.rest.call(world.admin, "GET", "/users/me")
    assert_same_shape(res.body, body_of("rest_create_first_user_is_admin"))
    res = await world.rest.call(world.bot, "GET", f"/users/{world.admin.id}")
    assert_same_shape(res.body, body_of("rest_get_user_system_admin_roles"))
    assert "system_admin" in res.body["roles"]
    res = await world.rest.call(world.bot, "GET", "/users/username/nosuchuser")
    assert res.status == 404
    assert_error(res.body, "rest_get_user_by_username_unknown")
    res = await world.rest.call("nope", "GET", "/users/me")
    assert res.status == 401
    assert_error(res.body, "rest_bad_token")
    assert res.body["detailed_error"] == "token=nope"


async def test_bots_teams_ping(world: World) -> None:
    res = await world.rest.call(
        world.admin,
        "POST",
        "/bots",
        {"username": "helper", "display_name": "helper", "description": "d"},
    )
    assert res.status == 201
    assert_same_shape(res.body, body_of("rest_create_bot"))
    res = await world.rest.call(world.admin, "GET", "/bots")
    assert_same_shape(res.body, body_of("rest_get_bots"))
    res = await world.rest.call(
        world.admin, "POST", f"/users/{world.bot.id}/tokens", {"description": "warroom"}
    )
    assert_same_shape(res.body, body_of("rest_create_bot_token"))
    assert (await world.rest.call(res.body["token"], "GET", "/users/me")).body["id"] == world.bot.id
    res = await world.rest.call(world.bot, "GET", f"/teams/{world.team.id}")
    assert_same_shape(res.body, body_of("rest_create_team"))
    res = await world.rest.call(world.bot, "GET", "/users/me/teams")
    assert_same_shape(res.body, body_of("rest_get_teams_for_bot"))
    res = await world.rest.call(None, "GET", "/system/ping")
    assert res.body == body_of("rest_system_ping")


# ---- channels and members ---------------------------------------------------------------------
async def test_channels(world: World) -> None:
    rest, bot = world.rest, world.bot
    res = await rest.call(
        bot,
        "POST",
        "/channels",
        {
            "team_id": world.team.id,
            "name": "disk-full",
            "display_name": "Disk full",
            "type": "P",
            "header": "db down",
        },
    )
    assert res.status == 201
    assert_same_shape(res.body, body_of("rest_create_private_channel_as_bot"))
    channel_id = res.body["id"]
    res = await rest.call(bot, "GET", f"/channels/{channel_id}")
    assert_same_shape(res.body, body_of("rest_get_channel"))
    res = await rest.call(bot, "GET", f"/teams/{world.team.id}/channels/name/town-square")
    assert_same_shape(res.body, body_of("rest_get_channel_by_name"))
    res = await rest.call(
        bot,
        "POST",
        "/channels",
        {"team_id": world.team.id, "name": "disk-full", "display_name": "Again", "type": "O"},
    )
    assert res.status == 400
    assert_error(res.body, "rest_create_channel_name_clash")
    res = await rest.call(bot, "GET", f"/channels/{channel_id}/stats")
    assert_same_shape(res.body, body_of("rest_channel_stats"))
    res = await rest.call(bot, "POST", "/channels/direct", [world.alice.id, bot.id])
    assert res.status == 201
    assert_same_shape(res.body, body_of("rest_create_direct_channel_bot_user"))
    secret = world.mm.add_channel(
        world.team.id, "rec-secret", private=True, members=[world.admin.id]
    )
    world.mm.set_admin(bot)
    res = await rest.call(bot, "GET", f"/teams/{world.team.id}/channels/name/{secret.name}")
    assert_same_shape(
        res.body, body_of("rest_get_private_channel_by_name_bot_with_admin_role_not_member")
    )


async def test_channel_members(world: World) -> None:
    rest, bot = world.rest, world.bot
    channel_id = await world.incident_channel()
    res = await rest.call(
        bot, "POST", f"/channels/{channel_id}/members", {"user_id": world.carol.id}
    )
    assert res.status == 201
    assert_same_shape(res.body, body_of("rest_add_channel_member"))
    res = await rest.call(bot, "GET", f"/channels/{channel_id}/members?page=0&per_page=60")
    assert_same_shape(res.body, body_of("rest_channel_members"))
    res = await rest.call(bot, "GET", f"/channels/{channel_id}/members/{world.alice.id}")
    assert_same_shape(res.body, body_of("rest_get_channel_member_is_member"))
    res = await rest.call(world.alice, "GET", f"/channels/{world.town.id}/members/{bot.id}")
    assert res.status == 404
    assert_error(res.body, "rest_get_channel_member_not_member")
    res = await rest.call(bot, "GET", f"/users/me/teams/{world.team.id}/channels/members")
    assert_same_shape(res.body, body_of("rest_channel_members_for_user_in_team_page"))
    res = await rest.call(
        bot, "POST", f"/channels/{channel_id}/members", {"user_id": world.outsider.id}
    )
    assert res.status == 404
    assert_error(res.body, "rest_add_channel_member_not_in_team")
    res = await rest.call(bot, "POST", f"/channels/{channel_id}/members", {"user_id": "a" * 26})
    assert res.status == 404
    assert_error(res.body, "rest_add_channel_member_unknown_user")


# ---- posts -------------------------------------------------------------------------------------
async def test_posts(world: World) -> None:
    rest, bot = world.rest, world.bot
    channel_id = await world.incident_channel()
    card = await world.card(channel_id)
    assert_same_shape(card, body_of("rest_create_post_with_buttons_as_bot"))
    assert "integration" not in json.dumps(card)
    res = await rest.call(bot, "POST", f"/posts/{card['id']}/pin")
    assert res.body == body_of("rest_pin_post_as_bot")
    res = await rest.call(world.alice, "GET", f"/posts/{card['id']}")
    assert_same_shape(res.body, body_of("rest_get_post_as_member_integration_stripped"))
    assert res.body["is_pinned"] is True
    res = await rest.call(bot, "POST", "/posts", {"channel_id": channel_id, "message": "root"})
    root_id = res.body["id"]
    res = await rest.call(
        bot, "POST", "/posts", {"channel_id": channel_id, "message": "reply", "root_id": root_id}
    )
    assert res.status == 201
    assert_same_shape(res.body, body_of("rest_create_thread_reply"))
    res = await rest.call(
        bot,
        "PUT",
        f"/posts/{root_id}/patch",
        {"message": "root v2", "props": {"attachments": [{"text": "new"}]}},
    )
    assert_same_shape(res.body, body_of("rest_patch_post_props"))
    res = await rest.call(bot, "DELETE", f"/posts/{root_id}")
    assert res.body == body_of("rest_delete_post")
    res = await rest.call(bot, "GET", f"/posts/{root_id}")
    assert res.status == 404
    assert_error(res.body, "rest_get_deleted_post")
    # unjoined public channel: refused until the bot joins (api4/post.go; see can_post)
    res = await rest.call(
        bot, "POST", "/posts", {"channel_id": world.town.id, "message": "not a member"}
    )
    assert res.status == 403
    await rest.call(bot, "POST", f"/channels/{world.town.id}/members", {"user_id": bot.id})
    res = await rest.call(
        bot, "POST", "/posts", {"channel_id": world.town.id, "message": "not a member"}
    )
    assert res.status == 201
    assert_same_shape(res.body, body_of("rest_post_in_channel_bot_is_not_member"))


async def test_channel_posts_page(world: World) -> None:
    rest, bot = world.rest, world.bot
    channel_id = await world.incident_channel()
    card = await world.card(channel_id)
    update = {
        "message": "Incident card (updated)",
        "props": {"attachments": world.card_props()["attachments"]},
    }
    world.hook.reply_json("/action", {"update": update})
    assert (await world.mm.click(world.alice, card["id"], "check0x0")).status == 200
    await rest.call(bot, "POST", f"/channels/{channel_id}/members", {"user_id": world.carol.id})
    await rest.call(bot, "DELETE", f"/channels/{channel_id}/members/{world.carol.id}")
    res = await rest.call(bot, "GET", f"/channels/{channel_id}/posts?page=0&per_page=60")
    page, expected = res.body, body_of("rest_channel_posts_page")
    assert set(page) == set(expected)
    assert len(page["order"]) == len(expected["order"]) == 6
    by_kind = {(p["type"], "attachments" in p["props"]): p for p in expected["posts"].values()}
    for post in page["posts"].values():
        assert_same_shape(post, by_kind[(post["type"], "attachments" in post["props"])])
    creates = [page["posts"][i]["create_at"] for i in page["order"]]
    assert creates == sorted(creates, reverse=True)


async def test_files(world: World) -> None:
    channel_id = await world.incident_channel()
    form = aiohttp.FormData()
    form.add_field("channel_id", channel_id)
    form.add_field("files", b"# Postmortem\n\n", filename="postmortem.md")
    res = await world.rest.call(world.bot, "POST", "/files", data=form)
    assert res.status == 201, res.text
    assert_same_shape(res.body, body_of("rest_upload_file"))
    info = res.body["file_infos"][0]
    assert info["mime_type"] == "text/markdown; charset=utf-8"
    res = await world.rest.call(
        world.bot,
        "POST",
        "/posts",
        {"channel_id": channel_id, "message": "Export", "file_ids": [info["id"]]},
    )
    assert_same_shape(res.body, body_of("rest_post_with_file"))
    assert world.mm.file_bytes(info["id"]) == b"# Postmortem\n\n"
    got = await world.rest.call(world.alice, "GET", f"/files/{info['id']}")
    assert got.text == "# Postmortem\n\n"


async def test_ephemeral_post(world: World) -> None:
    channel_id = await world.incident_channel()
    alice_ws = await WsListener.connect(world.mm.websocket_url, world.alice)
    try:
        body = {"user_id": world.alice.id, "post": {"channel_id": channel_id, "message": "psst"}}
        res = await world.rest.call(world.bot, "POST", "/posts/ephemeral", body)
        assert res.status == 403
        assert_error(res.body, "rest_post_ephemeral_as_plain_bot")
        world.mm.set_admin(world.bot)
        res = await world.rest.call(world.bot, "POST", "/posts/ephemeral", body)
        assert res.status == 201
        assert_same_shape(res.body, body_of("rest_post_ephemeral_as_admin_bot"))
        frame = decode_frame(await alice_ws.next("ephemeral_message"))
        assert_same_shape(frame, recorded("ws_ephemeral_message_from_bot"))
        assert world.mm.posts(channel_id)[-1]["message"] != "psst"
    finally:
        await alice_ws.close()


# ---- slash commands ----------------------------------------------------------------------------
async def test_command_registration(world: World) -> None:
    rest, admin = world.rest, world.admin
    res = await rest.call(
        admin,
        "POST",
        "/commands",
        {
            "team_id": world.team.id,
            "trigger": "warroom",
            "method": "P",
            "url": world.hook.url + "/c",
            "auto_complete": True,
            "auto_complete_desc": "Incident management",
            "auto_complete_hint": "[start|end|update|...]",
            "display_name": "warroom",
            "description": "Incident management",
        },
    )
    assert res.status == 201
    assert_same_shape(res.body, body_of("rest_create_command"))
    res = await rest.call(
        admin,
        "POST",
        "/commands",
        {"team_id": world.team.id, "trigger": "incident", "method": "P", "url": world.hook.url},
    )
    assert res.status == 400
    assert_error(res.body, "rest_create_command_duplicate_trigger")
    res = await rest.call(admin, "GET", f"/commands?team_id={world.team.id}&custom_only=true")
    assert len(res.body) == 2
    assert_same_shape(res.body, body_of("rest_list_custom_commands"))
    updated = {**res.body[0], "auto_complete_desc": "Incident management (updated)"}
    res = await rest.call(admin, "PUT", f"/commands/{updated['id']}", updated)
    assert_same_shape(res.body, body_of("rest_update_command"))
    assert res.body["token"] == updated["token"]


async def test_slash_command_round_trip(world: World) -> None:
    world.hook.reply_json("/command", {"response_type": "ephemeral", "text": "opening the dialog"})
    alice_ws = await WsListener.connect(world.mm.websocket_url, world.alice)
    try:
        res = await world.rest.call(
            world.alice,
            "POST",
            "/commands/execute",
            {"channel_id": world.town.id, "command": "/incident   start  Disk full "},
        )
        assert res.status == 200, res.text
        assert_same_shape(res.body, body_of("rest_commands_execute_response"))
        call = world.hook.last("/command")
        expected = recorded("hook_slash_command_request")
        assert call.method == "POST"
        assert_same_shape(call.form, expected["body"])
        assert call.form["text"] == "start  Disk full "
        assert call.form["response_url"].startswith(world.mm.url + "/hooks/commands/")
        for name, value in expected["headers"].items():
            assert call.headers[name] == value.replace("<command token>", world.cmd.token)
        frame = decode_frame(await alice_ws.next("ephemeral_message"))
        assert_same_shape(frame, recorded("ws_ephemeral_message_after_command")[0])
        assert frame["data"]["post"]["user_id"] == world.alice.id
        # a late reply through response_url
        late = await world.rest.call(
            None,
            "POST",
            call.form["response_url"].removeprefix(world.mm.url),
            {"response_type": "ephemeral", "text": "late"},
        )
        assert late.status == 200
        frame = decode_frame(await alice_ws.next("ephemeral_message"))
        assert_same_shape(frame, recorded("ws_ephemeral_after_action")[1])
    finally:
        await alice_ws.close()


async def test_in_channel_reply_and_builtins(world: World) -> None:
    world.hook.reply_json(
        "/command", {"response_type": "in_channel", "text": "posted as the user?"}
    )
    bot_ws = await WsListener.connect(world.mm.websocket_url, world.bot)
    try:
        channel_id = await world.incident_channel()
        await world.mm.run_command(world.alice, channel_id, "status")
        frame = decode_frame(await bot_ws.next("posted", channel_type="P", sender_name="@alice"))
        assert_same_shape(frame, recorded("ws_posted_in_channel_command_reply"))
        res = await world.rest.call(
            world.bot,
            "POST",
            "/commands/execute",
            {"channel_id": channel_id, "command": "/echo hi"},
        )
        assert res.body == body_of("rest_bot_executes_builtin_command")
        res = await world.rest.call(
            world.bot,
            "POST",
            "/commands/execute",
            {"channel_id": channel_id, "command": "/nosuch x"},
        )
        assert res.status == 404
        assert_error(res.body, "rest_bot_executes_unknown_command")
    finally:
        await bot_ws.close()


# ---- dialogs -----------------------------------------------------------------------------------
async def test_dialog_round_trip(world: World) -> None:
    world.hook.reply_json("/command", {"response_type": "ephemeral", "text": "opening the dialog"})
    alice_ws = await WsListener.connect(world.mm.websocket_url, world.alice)
    try:
        await world.mm.run_command(world.alice, world.town.id, "start")
        trigger_id = world.hook.last("/command").form["trigger_id"]
        res = await world.rest.call(
            world.bot,
            "POST",
            "/actions/dialogs/open",
            {"trigger_id": trigger_id, "url": world.hook.url + "/dialog", "dialog": DIALOG},
        )
        assert res.body == body_of("rest_dialog_open_response")
        frame = decode_frame(await alice_ws.next("open_dialog"))
        assert_same_shape(frame, recorded("ws_open_dialog"))
        payload = world.mm.dialogs(world.alice.id)[0]
        submission = {
            "playbook": "pb1",
            "name": "x",
            "description": "db down",
            "commander": world.bob.id,
        }
        world.hook.reply_json("/dialog", {"errors": {"name": "Name must be 2 to 64 characters."}})
        reply = await world.mm.submit_dialog(world.alice, payload, submission)
        assert reply == body_of("rest_dialog_submit_response_with_errors")
        call = world.hook.last("/dialog")
        expected = recorded("hook_dialog_submission")
        assert_same_shape(call.json, expected["body"])
        assert call.json["state"] == "signed-state"
        assert call.json["user_id"] == world.alice.id
        assert {k: call.headers[k] for k in expected["headers"]} == expected["headers"]
        world.hook.reply_json("/dialog", None)
        assert await world.mm.submit_dialog(world.alice, payload, submission) == {}
        assert body_of("rest_dialog_submit_response_ok") == {}
        await world.mm.submit_dialog(world.alice, payload, {}, cancelled=True)
        assert_same_shape(
            world.hook.last("/dialog").json, recorded("hook_dialog_cancelled")["body"]
        )
        # a late open: the trigger id is older than trigger_ttl
        world.mm.state.triggers[payload["trigger_id"]].create_at -= 4000
        res = await world.rest.call(
            world.bot,
            "POST",
            "/actions/dialogs/open",
            {"trigger_id": trigger_id, "url": world.hook.url + "/dialog", "dialog": DIALOG},
        )
        assert res.status == 400
        assert_error(res.body, "rest_dialog_open_expired_trigger")
    finally:
        await alice_ws.close()


# ---- message actions ---------------------------------------------------------------------------
async def test_button_and_select(world: World) -> None:
    channel_id = await world.incident_channel()
    card = await world.card(channel_id)
    await world.rest.call(world.bot, "POST", f"/posts/{card['id']}/pin")
    bot_ws = await WsListener.connect(world.mm.websocket_url, world.bot)
    alice_ws = await WsListener.connect(world.mm.websocket_url, world.alice)
    try:
        update = {
            "message": "Incident card (updated)",
            "props": {"attachments": world.card_props()["attachments"]},
        }
        world.hook.reply_json(
            "/action", {"update": update, "ephemeral_text": "You checked off a task."}
        )
        res = await world.rest.call(world.alice, "POST", f"/posts/{card['id']}/actions/check0x0")
        assert res.status == 200
        assert_same_shape(res.body, body_of("rest_click_button_response"))
        call = world.hook.last("/action")
        expected = recorded("hook_button_action_request")
        assert_same_shape(call.json, expected["body"])
        assert call.json["context"] == {"action": "check", "sig": "abc"}
        assert {k: call.headers[k] for k in expected["headers"]} == expected["headers"]
        frame = decode_frame(await bot_ws.next("post_edited"))
        assert_same_shape(frame, recorded("ws_post_edited_after_action_update"))
        assert_same_shape(frame, recorded("ws_post_edited"))
        frame = decode_frame(await alice_ws.next("ephemeral_message"))
        assert_same_shape(frame, recorded("ws_ephemeral_after_action")[2])
        assert frame["data"]["post"]["root_id"] == card["id"]
        world.hook.reply_json("/action", None)
        click = await world.mm.click(
            world.alice, card["id"], "assign0x0", selected_option=world.bob.id
        )
        assert click.status == 200
        assert_same_shape(
            world.hook.last("/action").json, recorded("hook_select_action_request")["body"]
        )
        assert world.hook.last("/action").json["context"]["selected_option"] == world.bob.id
        calls = len(world.hook.requests)
        res = await world.rest.call(world.carol, "POST", f"/posts/{card['id']}/actions/check0x0")
        assert res.status == 403
        assert_error(res.body, "rest_click_by_non_member_of_private_channel")
        res = await world.rest.call(world.alice, "POST", f"/posts/{card['id']}/actions/bad_id")
        assert res.status == 404
        expected_404 = body_of("rest_click_non_alphanumeric_action_id")
        expected_404["detailed_error"] = expected_404["detailed_error"].replace(
            "oh9jhzn4kpnpx8943ptupu4z7w", card["id"]
        )
        assert res.body == expected_404
        assert len(world.hook.requests) == calls
    finally:
        await bot_ws.close()
        await alice_ws.close()


# ---- websocket -----------------------------------------------------------------------------------
async def test_websocket_hello_and_resume(world: World) -> None:
    by_header = await WsListener.connect(world.mm.websocket_url, world.bot)
    by_challenge = await WsListener.connect(world.mm.websocket_url, world.alice, challenge=True)
    try:
        hello = await by_header.next("hello")
        assert hello == recorded("ws_hello_header_auth")[0] | {"broadcast": hello["broadcast"]}
        assert_same_shape(hello, recorded("ws_hello_header_auth")[0])
        hello = await by_challenge.next("hello")
        assert_same_shape(hello, recorded("ws_hello_and_auth_reply_challenge")[0])
        assert hello["broadcast"]["user_id"] == world.alice.id
        await world.mm.wait_until(lambda: {"status": "OK", "seq_reply": 1} in by_challenge.frames)
        await world.mm.drop_websockets()
        await by_header.closed.wait()
    finally:
        await by_header.close()
        await by_challenge.close()
    await world.rest.call(
        world.alice, "POST", "/posts", {"channel_id": world.town.id, "message": "lost"}
    )
    again = await WsListener.connect(world.mm.websocket_url, world.bot)
    try:
        first = [await again.next("hello"), await again.next("status_change")]
        assert_same_shape(first, recorded("ws_resume_after_disconnect")["frames"])
        assert [f["seq"] for f in first] == [0, 1]
    finally:
        await again.close()
    assert not again.events("posted")


async def test_websocket_channel_events(world: World) -> None:
    bot_ws = await WsListener.connect(world.mm.websocket_url, world.bot)
    try:
        channel_id = await world.incident_channel()
        assert_same_shape(
            decode_frame(await bot_ws.next("channel_created")),
            recorded("ws_channel_created_seen")[0],
        )
        frame = decode_frame(await bot_ws.next("user_added"))
        assert_same_shape(frame, recorded("ws_user_added_seen_by_bot")[0])
        assert frame["broadcast"]["channel_id"] == channel_id
        card = await world.card(channel_id)
        frame = decode_frame(await bot_ws.next("posted", sender_name="@warroom", channel_type="P"))
        while frame["data"]["post"]["id"] != card["id"]:
            frame = decode_frame(await bot_ws.next("posted", sender_name="@warroom"))
        assert_same_shape(frame, recorded("ws_posted_bot_card_seen_by_member"))
        assert frame["data"]["mentions"] == [world.alice.id]
        post = await world.mm.user_post(world.alice, channel_id, "Found the culprit: /var/log")
        frame = decode_frame(await bot_ws.next("posted", sender_name="@alice"))
        assert_same_shape(frame, recorded("ws_posted_user_message_seen_by_bot"))
        await world.mm.react(world.alice, post["id"], "pushpin")
        assert_same_shape(
            decode_frame(await bot_ws.next("reaction_added")), recorded("ws_reaction_added")
        )
        await world.mm.unreact(world.alice, post["id"], "pushpin")
        frame = decode_frame(await bot_ws.next("reaction_removed"))
        assert_same_shape(frame, recorded("ws_reaction_removed"))
        await world.mm.edit_post(world.alice, post["id"], "Found it: /var/log/huge")
        await bot_ws.next("post_edited")
        await world.mm.delete_post(world.alice, post["id"])
        assert_same_shape(
            decode_frame(await bot_ws.next("post_deleted")), recorded("ws_post_deleted")
        )
        await world.mm.add_to_channel(world.bot, channel_id, world.carol.id)
        await world.mm.remove_from_channel(world.bot, channel_id, world.carol.id)
        frame = decode_frame(await bot_ws.next("user_removed"))
        assert_same_shape(frame, recorded("ws_user_removed"))
        for raw in bot_ws.frames:
            if raw["event"] in ("posted", "post_edited", "post_deleted"):
                assert isinstance(raw["data"]["post"], str)
            if raw["event"].startswith("reaction_"):
                assert isinstance(raw["data"]["reaction"], str)
        seqs = [f["seq"] for f in bot_ws.frames if "seq" in f]
        assert seqs == list(range(len(seqs)))
    finally:
        await bot_ws.close()
