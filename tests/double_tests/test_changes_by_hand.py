"""Contract tests: what people change by hand in Mattermost, as the 5.36 server does it.

Grounded in the 5.36 source: ``app/channel.go`` (UpdateChannel, DeleteChannel,
RestoreChannel, AddUserToChannel), ``app/post.go`` (CreatePostAsUser, UpdatePost,
DeletePost), ``app/user.go`` (UpdateActive, sendUpdatedUserEvent), ``api4/channel.go`` and
``api4/user.go`` for the routes and their permissions.
"""

from __future__ import annotations

import json

from tests.double.testing import WsListener

from .conftest import Seed


async def test_renaming_a_channel_emits_channel_updated_with_the_channel_as_a_json_string(
    seed: Seed,
) -> None:
    ws = await WsListener.connect(seed.mm.websocket_url, seed.bot)
    try:
        res = await seed.rest.call(
            seed.alice, "PUT", f"/channels/{seed.secret.id}/patch", {"name": "secret-2"}
        )
        assert res.status == 200, res.text
        frame = await ws.next("channel_updated")
        assert isinstance(frame["data"]["channel"], str)  # nested JSON string on the wire
        channel = json.loads(frame["data"]["channel"])
        assert channel["id"] == seed.secret.id and channel["name"] == "secret-2"
        assert frame["broadcast"]["channel_id"] == seed.secret.id
    finally:
        await ws.close()


async def test_archiving_a_channel_emits_channel_deleted_and_refuses_posts_there(
    seed: Seed,
) -> None:
    ws = await WsListener.connect(seed.mm.websocket_url, seed.bot)
    try:
        post = await seed.rest.call(
            seed.bot, "POST", "/posts", {"channel_id": seed.secret.id, "message": "before"}
        )
        assert post.status == 201
        outsider = await seed.rest.call(seed.bob, "DELETE", f"/channels/{seed.secret.id}")
        assert outsider.status == 403  # not a member of the private channel
        res = await seed.rest.call(seed.alice, "DELETE", f"/channels/{seed.secret.id}")
        assert res.status == 200 and res.body == {"status": "OK"}
        frame = await ws.next("channel_deleted")
        assert frame["data"]["channel_id"] == seed.secret.id
        assert frame["data"]["delete_at"] > 0
        assert frame["broadcast"]["team_id"] == seed.team.id
        # the archived channel still reads, with delete_at set; members stay members
        got = await seed.rest.call(seed.bot, "GET", f"/channels/{seed.secret.id}")
        assert got.status == 200 and got.body["delete_at"] == frame["data"]["delete_at"]
        member = await seed.rest.call(
            seed.bot, "GET", f"/channels/{seed.secret.id}/members/{seed.alice.id}"
        )
        assert member.status == 200
        # nobody may post, edit or delete there any more (the bot included)
        for who in (seed.bot, seed.alice):
            refused = await seed.rest.call(
                who, "POST", "/posts", {"channel_id": seed.secret.id, "message": "after"}
            )
            assert refused.status == 400
            assert refused.body["id"] == "api.post.create_post.can_not_post_to_deleted.error"
        edit = await seed.rest.call(
            seed.bot,
            "PUT",
            f"/posts/{post.body['id']}",
            {"id": post.body["id"], "message": "edited"},
        )
        assert edit.status == 400
        assert edit.body["id"] == "api.post.update_post.can_not_update_post_in_deleted.error"
        delete = await seed.rest.call(seed.bot, "DELETE", f"/posts/{post.body['id']}")
        assert delete.body["id"] == "api.post.delete_post.can_not_delete_post_in_deleted.error"
        again = await seed.rest.call(seed.alice, "DELETE", f"/channels/{seed.secret.id}")
        assert again.body["id"] == "api.channel.delete_channel.deleted.app_error"
    finally:
        await ws.close()


async def test_restoring_a_channel_emits_channel_restored_and_needs_manage_team(
    seed: Seed,
) -> None:
    await seed.mm.archive_channel(seed.alice, seed.secret.id)
    ws = await WsListener.connect(seed.mm.websocket_url, seed.bot)
    try:
        member = await seed.rest.call(seed.alice, "POST", f"/channels/{seed.secret.id}/restore")
        assert member.status == 403
        res = await seed.rest.call(seed.admin, "POST", f"/channels/{seed.secret.id}/restore")
        assert res.status == 200 and res.body["delete_at"] == 0
        frame = await ws.next("channel_restored")
        assert frame["data"] == {"channel_id": seed.secret.id}
        post = await seed.rest.call(
            seed.alice, "POST", "/posts", {"channel_id": seed.secret.id, "message": "back"}
        )
        assert post.status == 201
        twice = await seed.rest.call(seed.admin, "POST", f"/channels/{seed.secret.id}/restore")
        assert twice.body["id"] == "api.channel.restore_channel.restored.app_error"
    finally:
        await ws.close()


async def test_deactivating_a_user_emits_user_updated_with_the_user_as_an_object(
    seed: Seed,
) -> None:
    ws = await WsListener.connect(seed.mm.websocket_url, seed.bot)
    try:
        refused = await seed.rest.call(
            seed.alice, "PUT", f"/users/{seed.bob.id}/active", {"active": False}
        )
        assert refused.status == 403
        res = await seed.rest.call(
            seed.admin, "PUT", f"/users/{seed.bob.id}/active", {"active": False}
        )
        assert res.status == 200
        frame = await ws.next("user_updated")
        user = frame["data"]["user"]
        assert isinstance(user, dict)  # a plain object, unlike data.channel or data.post
        assert user["id"] == seed.bob.id and user["delete_at"] > 0
        got = await seed.rest.call(seed.bot, "GET", f"/users/{seed.bob.id}")
        assert got.body["delete_at"] == user["delete_at"]
        # the deactivated user's token opens no session any more
        assert (await seed.rest.call(seed.bob, "GET", "/users/me")).status == 401
        # 5.36 AddUserToChannel checks the team membership, not the user: the add succeeds
        added = await seed.rest.call(
            seed.alice, "POST", f"/channels/{seed.secret.id}/members", {"user_id": seed.bob.id}
        )
        assert added.status == 201
        back = await seed.rest.call(
            seed.admin, "PUT", f"/users/{seed.bob.id}/active", {"active": True}
        )
        assert back.status == 200
        assert (await ws.next("user_updated"))["data"]["user"]["delete_at"] == 0
        assert (await seed.rest.call(seed.bob, "GET", "/users/me")).status == 200
    finally:
        await ws.close()


async def test_renaming_a_user_emits_user_updated(seed: Seed) -> None:
    ws = await WsListener.connect(seed.mm.websocket_url, seed.bot)
    try:
        refused = await seed.rest.call(
            seed.alice, "PUT", f"/users/{seed.bob.id}/patch", {"username": "robert"}
        )
        assert refused.status == 403
        res = await seed.rest.call(
            seed.bob, "PUT", f"/users/{seed.bob.id}/patch", {"username": "robert"}
        )
        assert res.status == 200 and res.body["username"] == "robert"
        frame = await ws.next("user_updated")
        assert frame["data"]["user"]["username"] == "robert"
        clash = await seed.rest.call(
            seed.bob, "PUT", f"/users/{seed.bob.id}/patch", {"username": "alice"}
        )
        assert clash.body["id"] == "app.user.save.username_exists.app_error"
    finally:
        await ws.close()


async def test_converting_a_channel_emits_channel_updated_then_channel_converted(
    seed: Seed,
) -> None:
    ws = await WsListener.connect(seed.mm.websocket_url, seed.bot)
    try:
        public = seed.mm.add_channel(
            seed.team.id, "open-room", private=False, members=[seed.bot.id, seed.alice.id]
        )
        member = await seed.rest.call(
            seed.alice, "PUT", f"/channels/{public.id}/privacy", {"privacy": "P"}
        )
        assert member.status == 403  # needs manage_team
        res = await seed.rest.call(
            seed.admin, "PUT", f"/channels/{public.id}/privacy", {"privacy": "P"}
        )
        assert res.status == 200 and res.body["type"] == "P"
        updated = await ws.next("channel_updated")
        assert json.loads(updated["data"]["channel"])["type"] == "P"
        converted = await ws.next("channel_converted")
        assert converted["data"] == {"channel_id": public.id}
        town = await seed.rest.call(
            seed.admin, "PUT", f"/channels/{seed.town.id}/privacy", {"privacy": "P"}
        )
        assert town.body["id"] == "api.channel.update_channel_privacy.default_channel_error"
    finally:
        await ws.close()
