"""REST routes: channels, channel members, channel posts."""

from __future__ import annotations

from aiohttp import web

from .commands import Core
from .errors import MattermostHTTPError, channel_member_missing, invalid_body, permission_error
from .plumbing import body_json, body_object, core_of, json_response, me, query_int, status_ok
from .state import Channel
from .util import Json
from .wire import channel_json, member_json

routes = web.RouteTableDef()
API = "/api/v4"


def _readable(request: web.Request) -> Channel:
    """GET /channels/{id} rules: 404 when unknown, then 403 without read access."""
    state = core_of(request).state
    channel = state.channel(request.match_info["channel_id"])
    user = me(request)
    if not state.can_read(user, channel):
        perm = "read_public_channel" if channel.type == "O" else "read_channel"
        raise permission_error(user.id, perm)
    return channel


def _member_readable(request: web.Request) -> Channel:
    """Routes that need ``read_channel`` at channel scope (5.36 api4/channel.go
    getChannelMembers, getChannelMember; api4/post.go getPostsForChannel): 404 when unknown,
    then 403 for anyone but a member or a system admin, public channel or not."""
    state = core_of(request).state
    channel = state.channel(request.match_info["channel_id"])
    state.require_channel_role(me(request), channel, "read_channel")
    return channel


@routes.post(API + "/channels")
async def create_channel(request: web.Request) -> web.Response:
    body = await body_object(request, "channel")
    channel = core_of(request).create_channel(me(request), body)
    return json_response(channel_json(channel), status=201)


@routes.post(API + "/channels/direct")
async def create_direct(request: web.Request) -> web.Response:
    ids = await body_json(request, "user_ids")
    if not isinstance(ids, list) or len(ids) != 2 or not all(isinstance(i, str) for i in ids):
        raise invalid_body("user_ids")
    channel = core_of(request).direct_channel(me(request), [str(i) for i in ids])
    return json_response(channel_json(channel), status=201)


@routes.get(API + "/channels/{channel_id}")
async def get_channel(request: web.Request) -> web.Response:
    return json_response(channel_json(_readable(request)))


@routes.put(API + "/channels/{channel_id}/patch")
async def patch_channel(request: web.Request) -> web.Response:
    core = core_of(request)
    channel = core.state.channel(request.match_info["channel_id"])
    patch = await body_object(request, "channel")
    return json_response(channel_json(core.patch_channel(me(request), channel, patch)))


@routes.delete(API + "/channels/{channel_id}")
async def archive_channel(request: web.Request) -> web.Response:
    core = core_of(request)
    channel = core.state.channel(request.match_info["channel_id"])
    core.archive_channel(me(request), channel)
    return status_ok()


@routes.put(API + "/channels/{channel_id}/privacy")
async def channel_privacy(request: web.Request) -> web.Response:
    core = core_of(request)
    channel = core.state.channel(request.match_info["channel_id"])
    body = await body_object(request, "privacy")
    privacy = body.get("privacy")
    if privacy not in ("O", "P"):
        raise invalid_body("privacy")
    converted = core.convert_channel(me(request), channel, private=privacy == "P")
    return json_response(channel_json(converted))


@routes.post(API + "/channels/{channel_id}/restore")
async def restore_channel(request: web.Request) -> web.Response:
    core = core_of(request)
    channel = core.state.channel(request.match_info["channel_id"])
    core.restore_channel(me(request), channel)
    return json_response(channel_json(channel))


@routes.get(API + "/teams/{team_id}/channels/name/{name}")
async def channel_by_name(request: web.Request) -> web.Response:
    state = core_of(request).state
    team_id, name = request.match_info["team_id"], request.match_info["name"]
    channel = state.channel_by_name(team_id, name)
    missing = MattermostHTTPError(
        404,
        "app.channel.get_by_name.missing.app_error",
        detailed_error=f"teamId={team_id}, name={name}",
    )
    if channel is None:
        raise missing
    user = me(request)
    if channel.type == "O":
        state.require_team(user, team_id, "read_public_channel")
    elif not state.can_read(user, channel):
        raise missing  # 5.36 hides private channels the caller cannot read
    return json_response(channel_json(channel))


@routes.post(API + "/channels/{channel_id}/members")
async def add_member(request: web.Request) -> web.Response:
    core = core_of(request)
    channel = core.state.channel(request.match_info["channel_id"])
    body = await body_object(request, "channel_member")
    user_id = body.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        raise invalid_body("user_id")
    member = core.add_member(me(request), channel, user_id)
    return json_response(member_json(member), status=201)


@routes.delete(API + "/channels/{channel_id}/members/{user_id}")
async def remove_member(request: web.Request) -> web.Response:
    core = core_of(request)
    channel = core.state.channel(request.match_info["channel_id"])
    user_id = request.match_info["user_id"]
    core.remove_member(me(request), channel, me(request).id if user_id == "me" else user_id)
    return status_ok()


@routes.get(API + "/channels/{channel_id}/members")
async def list_members(request: web.Request) -> web.Response:
    channel = _member_readable(request)
    page = query_int(request, "page", 0)
    per_page = query_int(request, "per_page", 60, 200)
    members = list(core_of(request).state.members.get(channel.id, {}).values())
    chunk = members[page * per_page : (page + 1) * per_page]
    return json_response([member_json(m) for m in chunk])


@routes.get(API + "/channels/{channel_id}/members/{user_id}")
async def get_member(request: web.Request) -> web.Response:
    channel = _member_readable(request)
    user_id = request.match_info["user_id"]
    user_id = me(request).id if user_id == "me" else user_id
    member = core_of(request).state.members.get(channel.id, {}).get(user_id)
    if member is None:
        raise channel_member_missing(channel.id, user_id)
    return json_response(member_json(member))


@routes.get(API + "/channels/{channel_id}/stats")
async def channel_stats(request: web.Request) -> web.Response:
    channel = _readable(request)
    state = core_of(request).state
    pinned = sum(1 for p in state.channel_posts(channel.id) if p["is_pinned"])
    return json_response(
        {
            "channel_id": channel.id,
            "member_count": len(state.member_ids(channel.id)),
            "guest_count": 0,
            "pinnedpost_count": pinned,
        }
    )


@routes.get(API + "/channels/{channel_id}/posts")
async def channel_posts(request: web.Request) -> web.Response:
    channel = _member_readable(request)
    core = core_of(request)
    page = query_int(request, "page", 0)
    per_page = query_int(request, "per_page", 60, 200)
    since = query_int(request, "since", 0)
    before, after = request.query.get("before", ""), request.query.get("after", "")
    newest_first = list(reversed(core.state.channel_posts(channel.id, include_deleted=bool(since))))
    if since:
        chosen = [p for p in newest_first if p["update_at"] >= since]
        return json_response(_page(core, chosen, "", ""))
    ids = [p["id"] for p in newest_first]
    if before or after:
        pivot = before or after
        if pivot not in ids:
            return json_response(_page(core, [], "", ""))
        at = ids.index(pivot)
        if before:
            window = newest_first[at + 1 :]
            chosen = window[page * per_page : (page + 1) * per_page]
        else:
            window = list(reversed(newest_first[:at]))  # oldest first
            chosen = list(reversed(window[page * per_page : (page + 1) * per_page]))
    else:
        chosen = newest_first[page * per_page : (page + 1) * per_page]
    next_id = prev_id = ""
    if chosen:
        first, last = ids.index(chosen[0]["id"]), ids.index(chosen[-1]["id"])
        next_id = ids[first - 1] if first > 0 else ""
        prev_id = ids[last + 1] if last + 1 < len(ids) else ""
    return json_response(_page(core, chosen, next_id, prev_id))


def _page(core: Core, posts: list[Json], next_id: str, prev_id: str) -> Json:
    return {
        "order": [p["id"] for p in posts],
        "posts": {p["id"]: core.post_view(p) for p in posts},
        "next_post_id": next_id,
        "prev_post_id": prev_id,
    }


@routes.get(API + "/users/{user_id}/teams/{team_id}/channels")
async def user_channels(request: web.Request) -> web.Response:
    """Channels of a team (and DMs) the user is a member of: self or admin."""
    state = core_of(request).state
    caller = me(request)
    user_id = request.match_info["user_id"]
    user_id = caller.id if user_id == "me" else user_id
    if user_id != caller.id and not caller.is_admin:
        raise permission_error(caller.id, "edit_other_users")
    team_id = request.match_info["team_id"]
    # include_deleted (5.36 api4 getChannelsForTeamForUser): archived channels only on request
    deleted = request.query.get("include_deleted", "false").lower() == "true"
    found = [
        c
        for c in state.channels.values()
        if c.team_id in (team_id, "")
        and state.is_member(user_id, c.id)
        and (deleted or not c.delete_at)
    ]
    return json_response([channel_json(c) for c in found])


@routes.get(API + "/teams/{team_id}/channels")
async def public_channels(request: web.Request) -> web.Response:
    state = core_of(request).state
    team_id = request.match_info["team_id"]
    state.require_team(me(request), team_id, "list_team_channels")
    page = query_int(request, "page", 0)
    per_page = query_int(request, "per_page", 60, 200)
    public = [c for c in state.channels.values() if c.team_id == team_id and c.type == "O"]
    return json_response([channel_json(c) for c in public[page * per_page : (page + 1) * per_page]])
