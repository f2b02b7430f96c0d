"""The server's permission rules on warroom's path (issue 9, kind 1): whose rights count.

Grounded in the 5.36 recordings (``rest_get_private_channel_by_name_bot_with_admin_role_not_member``,
``rest_post_in_channel_bot_is_not_member``, ``rest_post_ephemeral_as_plain_bot``) and in the
server source: api4/channel.go getChannelByName hides a private channel the caller cannot
read (404); api4/post.go createPost needs create_post on the channel (403 otherwise);
app/command.go runs ``/commands/execute`` as the calling token's user, and
app/slashcommands/command_invite.go checks *that* user's right to manage the target channel.
"""

from __future__ import annotations

from tests.double.builtin_commands import INVITE_HIDDEN_CHANNEL
from tests.double.testing import assert_same_shape, recorded

from .conftest import Seed


async def test_a_plain_bot_cannot_read_or_post_in_a_private_channel_it_is_not_in(
    seed: Seed,
) -> None:
    hidden = seed.mm.add_channel(seed.team.id, "hidden", private=True, members=[seed.alice.id])
    by_name = f"/teams/{seed.team.id}/channels/name/hidden"
    res = await seed.rest.call(seed.bot, "GET", by_name)
    assert (res.status, res.body["id"]) == (404, "app.channel.get_by_name.missing.app_error")
    res = await seed.rest.call(seed.bot, "GET", f"/channels/{hidden.id}")
    assert res.status == 403
    res = await seed.rest.call(
        seed.bot, "POST", "/posts", {"channel_id": hidden.id, "message": "x"}
    )
    assert (res.status, res.body["id"]) == (403, "api.context.permissions.app_error")
    assert seed.mm.posts(hidden.id) == []
    # a public channel of its team it has not joined: it must join first (api4/post.go)
    public = seed.mm.add_channel(seed.team.id, "lobby", private=False, members=[seed.alice.id])
    res = await seed.rest.call(
        seed.bot, "POST", "/posts", {"channel_id": public.id, "message": "not a member"}
    )
    assert (res.status, res.body["id"]) == (403, "api.context.permissions.app_error")
    seed.mm.seed_member(public.id, seed.bot.id)
    res = await seed.rest.call(
        seed.bot, "POST", "/posts", {"channel_id": public.id, "message": "not a member"}
    )
    assert res.status == 201
    assert_same_shape(res.body, recorded("rest_post_in_channel_bot_is_not_member")["body"])
    # with the system admin role it reads the private channel (the recording's situation)
    seed.mm.set_admin(seed.bot)
    res = await seed.rest.call(seed.bot, "GET", by_name)
    fixture = recorded("rest_get_private_channel_by_name_bot_with_admin_role_not_member")
    assert res.status == fixture["status"] == 200
    assert_same_shape(res.body, fixture["body"])


async def test_execute_runs_a_builtin_command_with_the_callers_own_rights(seed: Seed) -> None:
    # bob may not read ~secret: /invite answers as if it did not exist and adds nobody
    reply = await seed.mm.run_command(seed.bob, seed.town.id, "@bob ~secret", trigger="invite")
    assert reply["response_type"] == "ephemeral"
    assert seed.mm.ephemerals(seed.bob.id)[-1]["message"] == INVITE_HIDDEN_CHANNEL.format(
        name="secret"
    )
    assert seed.bob.id not in seed.mm.channel_members(seed.secret.id)
    # the bot belongs to ~secret: the same command run with the *bot's* token succeeds,
    # which is why warroom must never run a person's command as the bot
    res = await seed.rest.call(
        seed.bot,
        "POST",
        "/commands/execute",
        {"channel_id": seed.secret.id, "command": "/invite @bob ~secret"},
    )
    assert res.status == 200
    assert_same_shape(res.body, recorded("rest_bot_executes_builtin_command")["body"])
    assert seed.bob.id in seed.mm.channel_members(seed.secret.id)


async def test_invite_answers_like_the_server_for_each_refusal(seed: Seed) -> None:
    async def invite(user: object, text: str) -> str:
        await seed.mm.run_command(user, seed.town.id, text, trigger="invite")  # type: ignore[arg-type]
        return str(seed.mm.ephemerals(seed.alice.id)[-1]["message"])

    assert await invite(seed.alice, "") == "Missing Username and Channel."
    assert (await invite(seed.alice, "@nobody ~secret")).startswith("We couldn't find the user.")
    assert (await invite(seed.alice, "@bob ~nowhere")).startswith(
        "Could not find the channel nowhere. Please use the [channel handle]"
    )
    assert await invite(seed.alice, "@warroom ~secret") == "warroom is already in the channel."
    assert await invite(seed.alice, "@dave ~secret") == "@dave is not a member of the team."
    assert await invite(seed.alice, "@bob ~secret") == "bob added to secret channel."
    assert seed.bob.id in seed.mm.channel_members(seed.secret.id)


async def test_a_guest_reads_and_posts_only_in_channels_they_belong_to(seed: Seed) -> None:
    """A guest is in the team with the ``team_guest`` role, which holds only view_team
    (5.36 model/role.go): no read_public_channel, so a public channel they have not joined
    answers 403 to reading and posting, unlike for a plain team member (team_user)."""
    guest = seed.mm.add_user("gina", teams=[seed.team.id])
    guest.roles = "system_guest"
    public = seed.mm.add_channel(seed.team.id, "lobby", private=False, members=[seed.alice.id])
    res = await seed.rest.call(guest, "GET", f"/channels/{public.id}/posts")
    assert (res.status, res.body["id"]) == (403, "api.context.permissions.app_error")
    res = await seed.rest.call(guest, "POST", "/posts", {"channel_id": public.id, "message": "x"})
    assert res.status == 403
    res = await seed.rest.call(seed.bob, "GET", f"/channels/{public.id}")
    assert res.status == 200  # a plain member of the team reads the channel itself
    await seed.mm.add_to_channel(seed.alice, public.id, guest.id)
    res = await seed.rest.call(guest, "GET", f"/channels/{public.id}/posts")
    assert res.status == 200  # once a member, the guest reads it


async def test_channel_scoped_permissions_need_membership_even_in_a_public_channel(
    seed: Seed,
) -> None:
    """read_channel, edit_post, delete_post, add/remove_reaction are channel-member
    permissions (5.36 model/role.go, utils/authorization.go; app/authorization.go
    SessionHasPermissionToChannel(ByPost) falls back to team roles, which lack them): a team
    member who has not joined a public channel may read the channel and a post by id, and
    nothing else: 403 ``api.context.permissions.app_error``."""
    lobby = seed.mm.add_channel(seed.team.id, "lobby", private=False, members=[seed.alice.id])
    [post_id] = seed.mm.seed_posts(lobby.id, seed.alice, ["not a member"])
    assert (await seed.rest.call(seed.bot, "GET", f"/posts/{post_id}")).status == 200
    assert (await seed.rest.call(seed.bot, "GET", f"/channels/{lobby.id}")).status == 200
    refused = [
        ("PUT", f"/posts/{post_id}/patch", {"message": "edited"}),
        ("PUT", f"/posts/{post_id}", {"id": post_id, "message": "edited"}),
        ("POST", f"/posts/{post_id}/pin", None),
        ("DELETE", f"/posts/{post_id}", None),
        ("GET", f"/posts/{post_id}/reactions", None),
        ("POST", "/reactions", {"user_id": seed.bot.id, "post_id": post_id, "emoji_name": "eyes"}),
        ("GET", f"/channels/{lobby.id}/posts", None),
        ("GET", f"/channels/{lobby.id}/members", None),
        ("GET", f"/channels/{lobby.id}/members/{seed.alice.id}", None),
    ]
    for method, path, body in refused:
        res = await seed.rest.call(seed.bot, method, path, body)
        assert (res.status, res.body["id"]) == (403, "api.context.permissions.app_error"), path
    assert seed.mm.get_post(post_id)["message"] == "not a member"  # type: ignore[index]
    # once a member, the same calls succeed; a system admin needs no membership
    seed.mm.seed_member(lobby.id, seed.bot.id)
    assert (await seed.rest.call(seed.bot, "POST", f"/posts/{post_id}/pin")).status == 200
    assert (await seed.rest.call(seed.admin, "GET", f"/channels/{lobby.id}/posts")).status == 200


async def test_pins_and_reactions_are_refused_in_an_archived_channel(seed: Seed) -> None:
    """5.36 api4/post.go saveIsPinnedPost goes through App.PatchPost (400
    ``api.post.patch_post.can_not_update_post_in_deleted.error``); app/reaction.go refuses
    saving (403 ``api.reaction.save.archived_channel.app_error``) and removing (403
    ``api.reaction.delete.archived_channel.app_error``) a reaction there."""
    made = await seed.rest.call(
        seed.alice, "POST", "/posts", {"channel_id": seed.secret.id, "message": "x"}
    )
    post_id = made.body["id"]
    react = {"user_id": seed.alice.id, "post_id": post_id, "emoji_name": "eyes"}
    assert (await seed.rest.call(seed.alice, "POST", "/reactions", react)).status == 200
    await seed.mm.archive_channel(seed.alice, seed.secret.id)
    res = await seed.rest.call(seed.alice, "POST", f"/posts/{post_id}/pin")
    assert (res.status, res.body["id"]) == (
        400,
        "api.post.patch_post.can_not_update_post_in_deleted.error",
    )
    res = await seed.rest.call(seed.alice, "POST", "/reactions", {**react, "emoji_name": "tada"})
    assert (res.status, res.body["id"]) == (403, "api.reaction.save.archived_channel.app_error")
    path = f"/users/{seed.alice.id}/posts/{post_id}/reactions/eyes"
    res = await seed.rest.call(seed.alice, "DELETE", path)
    assert (res.status, res.body["id"]) == (403, "api.reaction.delete.archived_channel.app_error")
