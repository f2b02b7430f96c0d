"""Behaviour of the double beyond shapes: delivery rules, user-side flows, paging."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.double.testing import WsListener

from .conftest import Seed


def action_props(seed: Seed, context: dict[str, str] | None = None) -> dict[str, object]:
    integration = {"url": seed.hook.url + "/action", "context": context or {"k": "v"}}
    return {
        "attachments": [
            {
                "text": "card",
                "actions": [
                    {
                        "id": "ack",
                        "name": "Acknowledge",
                        "type": "button",
                        "integration": integration,
                    },
                    {
                        "id": "pick",
                        "name": "Pick",
                        "type": "select",
                        "integration": integration,
                        "options": [{"text": "One", "value": "1"}],
                    },
                ],
            }
        ]
    }


async def test_websocket_delivery_rules(seed: Seed) -> None:
    bot_ws = await WsListener.connect(seed.mm.websocket_url, seed.bot)
    bob_ws = await WsListener.connect(seed.mm.websocket_url, seed.bob)
    bob_ws2 = await WsListener.connect(seed.mm.websocket_url, seed.bob, challenge=True)
    try:
        await seed.mm.user_post(seed.alice, seed.secret.id, "private words")
        await seed.mm.user_post(seed.alice, seed.town.id, "public words")
        await bot_ws.next("posted", channel_name="secret")
        await bob_ws.next("posted", channel_name="town-square")
        await bob_ws2.next("posted", channel_name="town-square")
        assert not [f for f in bob_ws.events("posted") if f["data"]["channel_name"] == "secret"]
        assert not [
            f for f in bot_ws.events("posted") if f["data"]["channel_name"] == "town-square"
        ]
        # user-directed events reach only that user
        seed.hook.reply_json("/command", None)
        await seed.mm.run_command(seed.bob, seed.town.id, "start")
        trigger = seed.hook.last("/command").form["trigger_id"]
        res = await seed.rest.call(
            seed.bot,
            "POST",
            "/actions/dialogs/open",
            {"trigger_id": trigger, "url": "http://x/d", "dialog": {"title": "T"}},
        )
        assert res.status == 200
        await bob_ws.next("open_dialog")
        await bob_ws2.next("open_dialog")
        assert not bot_ws.events("open_dialog")
        # a client request gets a seq_reply, not a seq
        await bob_ws.send({"seq": 7, "action": "user_typing", "data": {"channel_id": seed.town.id}})
        await seed.mm.wait_until(lambda: {"status": "OK", "seq_reply": 7} in bob_ws.frames)
        assert seed.mm.connections(seed.bob.id) == 2
    finally:
        for listener in (bot_ws, bob_ws, bob_ws2):
            await listener.close()


async def test_membership_changes_and_idempotent_add(seed: Seed) -> None:
    bob_ws = await WsListener.connect(seed.mm.websocket_url, seed.bob)
    try:
        await seed.mm.add_to_channel(seed.alice, seed.secret.id, seed.bob.id)
        await seed.mm.add_to_channel(seed.alice, seed.secret.id, seed.bob.id)
        frame = await bob_ws.next("user_added")
        assert frame["broadcast"]["channel_id"] == seed.secret.id
        system = [p for p in seed.mm.posts(seed.secret.id) if p["type"] == "system_add_to_channel"]
        assert [p["message"] for p in system] == ["bob added to the channel by alice."]
        await seed.mm.remove_from_channel(seed.alice, seed.secret.id, seed.bob.id)
        frame = await bob_ws.next("user_removed")
        assert frame["data"] == {"channel_id": seed.secret.id, "remover_id": seed.alice.id}
        await seed.mm.user_post(seed.alice, seed.secret.id, "after removal")
        await asyncio.sleep(0.05)
        assert not [
            f
            for f in bob_ws.events("posted")
            if f["data"]["channel_name"] == "secret" and "after removal" in f["data"]["post"]
        ]
        assert seed.bob.id not in seed.mm.channel_members(seed.secret.id)
    finally:
        await bob_ws.close()


async def test_threads_paging_and_times(seed: Seed) -> None:
    root = await seed.mm.user_post(seed.alice, seed.secret.id, "root")
    for i in range(4):
        await seed.mm.user_post(seed.alice, seed.secret.id, f"reply {i}", root_id=root["id"])
    posts = seed.mm.posts(seed.secret.id)
    assert [p["create_at"] for p in posts] == sorted({p["create_at"] for p in posts})
    assert all(p["reply_count"] == 4 for p in posts)
    ids = [p["id"] for p in reversed(posts)]  # newest first
    page0 = (
        await seed.rest.call(seed.bot, "GET", f"/channels/{seed.secret.id}/posts?per_page=2")
    ).body
    assert page0["order"] == ids[:2]
    assert (page0["next_post_id"], page0["prev_post_id"]) == ("", ids[2])
    page1 = (
        await seed.rest.call(seed.bot, "GET", f"/channels/{seed.secret.id}/posts?per_page=2&page=1")
    ).body
    assert page1["order"] == ids[2:4]
    assert (page1["next_post_id"], page1["prev_post_id"]) == (ids[1], ids[4])
    before = (
        await seed.rest.call(seed.bot, "GET", f"/channels/{seed.secret.id}/posts?before={ids[1]}")
    ).body
    assert before["order"] == ids[2:]
    after = (
        await seed.rest.call(seed.bot, "GET", f"/channels/{seed.secret.id}/posts?after={ids[3]}")
    ).body
    assert after["order"] == ids[:3]
    await seed.mm.delete_post(seed.alice, root["id"])
    assert seed.mm.posts(seed.secret.id) == []
    assert seed.mm.get_post(root["id"]) is None
    since = (
        await seed.rest.call(seed.bot, "GET", f"/channels/{seed.secret.id}/posts?since=1")
    ).body
    assert len(since["order"]) == 5 and all(p["delete_at"] for p in since["posts"].values())


async def test_actions_update_and_ephemeral(seed: Seed) -> None:
    res = await seed.rest.call(
        seed.bot,
        "POST",
        "/posts",
        {"channel_id": seed.secret.id, "message": "card", "props": action_props(seed)},
    )
    post = seed.mm.get_post(res.body["id"])
    assert post is not None
    assert "integration" in json.dumps(post["props"])
    assert "integration" not in res.text
    assert seed.mm.find_action(post, "Acknowledge")["id"] == "ack"
    assert [a["type"] for a in seed.mm.actions(post["id"])] == ["button", "select"]
    with pytest.raises(LookupError):
        seed.mm.find_action(post, "Nope")
    seed.hook.reply_json("/action", {"update": {"message": "acked"}, "ephemeral_text": "done"})
    click = await seed.mm.click(seed.alice, post["id"], "ack")
    assert click.status == 200 and click.body["trigger_id"]
    updated = seed.mm.get_post(post["id"])
    assert updated is not None
    assert updated["message"] == "acked"
    assert updated["props"]["attachments"][0]["actions"][0]["integration"]  # props kept
    assert updated["edit_at"] > 0
    assert [e["message"] for e in seed.mm.ephemerals(seed.alice.id)] == ["done"]
    seed.hook.reply_json("/action", {"update": {"props": {}}})
    await seed.mm.click(seed.alice, post["id"], "pick", selected_option="1")
    assert seed.hook.last("/action").json["context"] == {"k": "v", "selected_option": "1"}
    assert seed.mm.get_post(post["id"])["message"] == ""  # type: ignore[index]


async def test_buttons_on_ephemeral_posts(seed: Seed) -> None:
    body = {
        "user_id": seed.alice.id,
        "post": {"channel_id": seed.secret.id, "message": "only you", "props": action_props(seed)},
    }
    res = await seed.rest.call(seed.admin, "POST", "/posts/ephemeral", body)
    assert res.status == 201
    action = res.body["props"]["attachments"][0]["actions"][0]
    assert "integration" not in action and action["cookie"]
    click = await seed.mm.click(seed.alice, res.body["id"], "ack")
    assert click.status == 200
    rest_click = await seed.rest.call(
        seed.alice, "POST", f"/posts/{res.body['id']}/actions/ack", {"cookie": action["cookie"]}
    )
    assert rest_click.status == 200
    assert len([r for r in seed.hook.requests if r.path == "/action"]) == 2


async def test_command_replies(seed: Seed) -> None:
    seed.hook.reply_json(
        "/command",
        {
            "response_type": "in_channel",
            "text": "for everyone",
            "extra_responses": [{"text": "just you"}],
        },
    )
    result = await seed.mm.run_command(seed.alice, seed.town.id, "  start @bob ~secret ")
    assert result["response_type"] == "in_channel"
    form = seed.hook.last("/command").form
    assert form["text"] == "start @bob ~secret "
    assert (form["user_mentions"], form["user_mentions_ids"]) == ("bob", seed.bob.id)
    assert "channel_mentions" not in form  # private channels are not listed
    post = seed.mm.posts(seed.town.id)[-1]
    assert (post["user_id"], post["props"]["from_webhook"]) == (seed.alice.id, "true")
    assert [e["message"] for e in seed.mm.ephemerals(seed.alice.id)] == ["just you"]
    seed.hook.on("/command", lambda _: __import__("aiohttp").web.Response(text="plain text"))
    await seed.mm.run_command(seed.alice, seed.town.id, "start")
    assert seed.mm.ephemerals(seed.alice.id)[-1]["message"] == "plain text"
    get_cmd = seed.mm.register_command(seed.team.id, "gcmd", seed.hook.url + "/get", method="G")
    await seed.mm.run_command(seed.alice, seed.town.id, "x", trigger=get_cmd.trigger)
    assert seed.hook.last("/get").method == "GET"


async def test_builtins(seed: Seed) -> None:
    await seed.mm.run_command(seed.alice, seed.secret.id, "waves", trigger="me")
    await seed.mm.run_command(seed.alice, seed.secret.id, "ok", trigger="shrug")
    await seed.mm.run_command(seed.alice, seed.secret.id, "Disk is full", trigger="header")
    posts = seed.mm.posts(seed.secret.id)
    assert [(p["type"], p["message"]) for p in posts[:2]] == [
        ("me", "*waves*"),
        ("", r"ok ¯\_(ツ)_/¯"),
    ]
    assert posts[2]["type"] == "system_header_change"
    assert seed.mm.channel(seed.secret.id).header == "Disk is full"  # type: ignore[union-attr]


async def test_dialog_cancel_without_notify_is_not_sent(seed: Seed) -> None:
    seed.hook.reply_json("/command", None)
    await seed.mm.run_command(seed.alice, seed.town.id, "start")
    trigger = seed.hook.last("/command").form["trigger_id"]
    await seed.rest.call(
        seed.bot,
        "POST",
        "/actions/dialogs/open",
        {"trigger_id": trigger, "url": seed.hook.url + "/dialog", "dialog": {"title": "T"}},
    )
    payload = seed.mm.dialogs(seed.alice.id)[0]
    assert payload["dialog"]["elements"] is None
    assert await seed.mm.submit_dialog(seed.alice, payload, {}, cancelled=True) == {}
    assert not [r for r in seed.hook.requests if r.path == "/dialog"]
    seed.hook.reply_json("/dialog", {"error": "bad", "extra": 1})
    reply = await seed.mm.submit_dialog(seed.alice, payload, {"a": "b"})
    assert reply == {"error": "bad"}
    sent = seed.hook.last("/dialog").json
    assert (sent["channel_id"], sent["team_id"]) == (seed.town.id, seed.team.id)


async def test_direct_channels_and_mentions(seed: Seed) -> None:
    first = await seed.rest.call(seed.bot, "POST", "/channels/direct", [seed.bot.id, seed.alice.id])
    again = await seed.rest.call(seed.bot, "POST", "/channels/direct", [seed.alice.id, seed.bot.id])
    assert first.body["id"] == again.body["id"]
    bot_ws = await WsListener.connect(seed.mm.websocket_url, seed.bot)
    try:
        await seed.mm.user_post(seed.alice, seed.secret.id, "@channel look")
        frame = await bot_ws.next("posted")
        assert json.loads(frame["data"]["mentions"]) == [seed.bot.id]
    finally:
        await bot_ws.close()


async def test_a_direct_message_mentions_the_other_user_whatever_its_text(seed: Seed) -> None:
    """5.36 app/notification.go: in a DM the other user is mentioned (DMMention), the
    sender never (unless the post is from a webhook); the post is a JSON string."""
    dm = await seed.rest.call(seed.alice, "POST", "/channels/direct", [seed.alice.id, seed.bot.id])
    bot_ws = await WsListener.connect(seed.mm.websocket_url, seed.bot)
    try:
        await seed.mm.user_post(seed.alice, dm.body["id"], "help @alice")
        frame = await bot_ws.next("posted")
        data = frame["data"]
        assert json.loads(data["mentions"]) == [seed.bot.id]
        assert (data["channel_type"], data["team_id"]) == ("D", "")
        assert data["channel_name"] == "__".join(sorted((seed.alice.id, seed.bot.id)))
        assert (
            isinstance(data["post"], str) and json.loads(data["post"])["message"] == "help @alice"
        )
    finally:
        await bot_ws.close()


async def test_wait_until_times_out(seed: Seed) -> None:
    with pytest.raises(TimeoutError):
        await seed.mm.wait_until(lambda: False, within=0.05)


async def test_channel_listings(seed: Seed) -> None:
    mine = await seed.rest.call(seed.bot, "GET", f"/users/me/teams/{seed.team.id}/channels")
    assert [c["name"] for c in mine.body] == ["secret"]
    public = await seed.rest.call(seed.bot, "GET", f"/teams/{seed.team.id}/channels")
    assert [c["name"] for c in public.body] == ["town-square"]
    other = await seed.rest.call(
        seed.bot, "GET", f"/users/{seed.alice.id}/teams/{seed.team.id}/channels"
    )
    assert other.status == 403


async def test_channel_names_lose_the_characters_the_server_sanitizes(seed: Seed) -> None:
    """Channel.PreSave/PreUpdate (5.36 model/channel.go) drop model.SanitizeUnicode's blocklist
    (model/utils.go: BIDI embedding controls, line/paragraph separators, BOM, …) from the
    display name and the URL name, on create and on patch; posts keep them."""
    res = await seed.rest.call(
        seed.bot,
        "POST",
        "/channels",
        {
            "team_id": seed.team.id,
            "name": "bidi-\ufeffname",
            "display_name": "Disk\u202e full\u2028",
            "type": "O",
        },
    )
    assert res.status == 201, res.body
    assert (res.body["name"], res.body["display_name"]) == ("bidi-name", "Disk full")
    patched = await seed.rest.call(
        seed.bot, "PUT", f"/channels/{res.body['id']}/patch", {"display_name": "\u202aNew"}
    )
    assert patched.body["display_name"] == "New"


async def test_a_put_without_is_pinned_unpins_and_a_patch_keeps_the_pin(seed: Seed) -> None:
    """5.36 app/post.go UpdatePost(safeUpdate=false) takes ``is_pinned`` from the request:
    PUT /posts/{id} replaces it (absent means unpinned); PUT /posts/{id}/patch leaves it
    unless the patch names it (model/post.go Post.Patch)."""
    made = await seed.rest.call(
        seed.alice, "POST", "/posts", {"channel_id": seed.town.id, "message": "card"}
    )
    post_id = made.body["id"]
    assert (await seed.rest.call(seed.alice, "POST", f"/posts/{post_id}/pin")).status == 200
    patched = await seed.rest.call(
        seed.alice, "PUT", f"/posts/{post_id}/patch", {"message": "card v2"}
    )
    assert patched.body["is_pinned"] is True
    put = await seed.rest.call(
        seed.alice, "PUT", f"/posts/{post_id}", {"id": post_id, "message": "card v3"}
    )
    assert (put.status, put.body["is_pinned"]) == (200, False)


async def test_an_action_update_keeps_the_retained_props_of_the_original_only(seed: Seed) -> None:
    """5.36 app/integration_action.go with model.PostActionRetainPropKeys: an ``update`` with
    props keeps ``from_webhook``, ``override_username`` and ``override_icon_url`` as the
    original post had them and drops them when it had none; ``from_bot`` is not among them."""
    made = await seed.rest.call(
        seed.bot,
        "POST",
        "/posts",
        {"channel_id": seed.secret.id, "message": "card", "props": action_props(seed)},
    )
    seed.hook.reply_json(
        "/action",
        {
            "update": {
                "message": "acked",
                "props": {"from_webhook": "true", "override_username": "root", "k": "v"},
            }
        },
    )
    assert (await seed.mm.click(seed.alice, made.body["id"], "ack")).status == 200
    assert seed.mm.get_post(made.body["id"])["props"] == {"k": "v"}  # type: ignore[index]
    reply = await seed.rest.call(
        seed.alice,
        "POST",
        "/posts",
        {
            "channel_id": seed.secret.id,
            "message": "reply",
            "props": {**action_props(seed), "from_webhook": "true"},
        },
    )
    seed.hook.reply_json("/action", {"update": {"message": "done", "props": {"k": "w"}}})
    assert (await seed.mm.click(seed.alice, reply.body["id"], "ack")).status == 200
    kept = seed.mm.get_post(reply.body["id"])["props"]  # type: ignore[index]
    assert kept == {"k": "w", "from_webhook": "true"}
