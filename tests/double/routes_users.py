"""REST routes: users, bots, teams, system."""

from __future__ import annotations

import re

from aiohttp import web

from .errors import MattermostHTTPError, invalid_body, permission_error, team_member_missing
from .plumbing import (
    body_json,
    body_object,
    core_of,
    json_response,
    me,
    status_ok,
    user_param,
)
from .state import User
from .util import new_id, new_token, now_ms
from .wire import bot_json, member_json, team_json, team_member_json, user_json

routes = web.RouteTableDef()
API = "/api/v4"
VALID_ROLES = {
    "system_user",
    "system_admin",
    "system_post_all",
    "system_post_all_public",
    "system_user_access_token",
    "system_manager",
    "system_read_only_admin",
}
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,21}$")


def _user_out(request: web.Request, user: User) -> web.Response:
    return json_response(user_json(user, full=user.id == me(request).id))


def _self_or_admin(request: web.Request, user_id: str) -> None:
    caller = me(request)
    if caller.id != user_id and not caller.is_admin:
        raise permission_error(caller.id, "edit_other_users")


@routes.get(f"{API}/system/ping", name="ping")
async def ping(request: web.Request) -> web.Response:
    return json_response(
        {
            "AndroidLatestVersion": "",
            "AndroidMinVersion": "",
            "DesktopLatestVersion": "",
            "DesktopMinVersion": "",
            "IosLatestVersion": "",
            "IosMinVersion": "",
            "status": "OK",
        }
    )


@routes.get(API + "/users/username/{username}")
async def get_user_by_username(request: web.Request) -> web.Response:
    name = request.match_info["username"]
    user = core_of(request).state.user_by_name(name)
    if user is None:
        raise MattermostHTTPError(
            404,
            "app.user.get_by_username.app_error",
            detailed_error=f"resource: User id: username={name}",
        )
    return _user_out(request, user)


@routes.get(API + "/users/{user_id}")
async def get_user(request: web.Request) -> web.Response:
    return _user_out(request, core_of(request).state.user(user_param(request)))


@routes.post(API + "/users/ids")
async def users_by_ids(request: web.Request) -> web.Response:
    ids = await body_json(request, "user_ids")
    if not isinstance(ids, list):
        raise invalid_body("user_ids")
    users = core_of(request).state.users
    caller = me(request).id
    return json_response(
        [user_json(users[i], full=i == caller) for i in dict.fromkeys(ids) if i in users]
    )


@routes.post(API + "/users/usernames")
async def users_by_names(request: web.Request) -> web.Response:
    names = await body_json(request, "usernames")
    if not isinstance(names, list):
        raise invalid_body("usernames")
    state = core_of(request).state
    found = [u for n in dict.fromkeys(names) if (u := state.user_by_name(str(n))) is not None]
    return json_response([user_json(u, full=u.id == me(request).id) for u in found])


@routes.put(API + "/users/{user_id}/roles")
async def update_roles(request: web.Request) -> web.Response:
    core = core_of(request)
    core.state.require_admin(me(request), "manage_roles")
    user = core.state.user(user_param(request))
    body = await body_object(request, "roles")
    roles = str(body.get("roles") or "").split()
    if not roles or any(r not in VALID_ROLES for r in roles):
        raise MattermostHTTPError(400, "api.context.invalid_body_param.app_error", name="roles")
    user.roles = " ".join(roles)
    user.update_at = now_ms()
    core.hub.emit("user_role_updated", {"user_id": user.id, "roles": user.roles}, user_id=user.id)
    return status_ok()


@routes.put(API + "/users/{user_id}/active")
async def update_active(request: web.Request) -> web.Response:
    core = core_of(request)
    user = core.state.user(user_param(request))
    body = await body_object(request, "active")
    active = body.get("active")
    if not isinstance(active, bool):
        raise invalid_body("active")
    core.set_active(me(request), user, active=active)
    return status_ok()


@routes.put(API + "/users/{user_id}/patch")
async def patch_user(request: web.Request) -> web.Response:
    core = core_of(request)
    user = core.state.user(user_param(request))
    patch = await body_object(request, "user")
    core.patch_user(me(request), user, patch)
    return _user_out(request, user)


@routes.delete(API + "/users/{user_id}")
async def deactivate_user(request: web.Request) -> web.Response:
    core = core_of(request)
    core.set_active(me(request), core.state.user(user_param(request)), active=False)
    return status_ok()


@routes.post(API + "/users/{user_id}/tokens")
async def create_token(request: web.Request) -> web.Response:
    user_id = user_param(request)
    _self_or_admin(request, user_id)
    core = core_of(request)
    user = core.state.user(user_id)
    body = await body_object(request, "description")
    token, token_id = new_token(), new_id()
    core.state.tokens[token] = user.id
    record = {
        "id": token_id,
        "token": token,
        "user_id": user.id,
        "description": str(body.get("description") or ""),
        "is_active": True,
    }
    core.state.token_records[token_id] = {k: v for k, v in record.items() if k != "token"}
    return json_response(record)


@routes.get(API + "/users/{user_id}/teams")
async def user_teams(request: web.Request) -> web.Response:
    user_id = user_param(request)
    _self_or_admin(request, user_id)
    state = core_of(request).state
    return json_response(
        [team_json(t) for t in state.teams.values() if state.in_team(user_id, t.id)]
    )


@routes.get(API + "/users/{user_id}/teams/{team_id}/channels/members")
async def user_channel_members(request: web.Request) -> web.Response:
    user_id = user_param(request)
    _self_or_admin(request, user_id)
    state = core_of(request).state
    team_id = request.match_info["team_id"]
    found = [
        member_json(members[user_id])
        for cid, members in state.members.items()
        if user_id in members and state.channels[cid].team_id in (team_id, "")
    ]
    return json_response(found)


# ---- bots ------------------------------------------------------------------
@routes.post(API + "/bots")
async def create_bot(request: web.Request) -> web.Response:
    caller = me(request)
    if caller.is_bot or not caller.is_admin:
        raise permission_error(caller.id, "create_bot")
    core = core_of(request)
    if not core.state.config.service("EnableBotAccountCreation"):  # api4/bot.go createBot
        raise MattermostHTTPError(403, "api.bot.create_disabled")
    body = await body_object(request, "bot")
    username = str(body.get("username") or "").lower()
    if not _USERNAME.match(username):
        raise MattermostHTTPError(400, "model.user.is_valid.username.app_error")
    if core.state.user_by_name(username) is not None:
        raise MattermostHTTPError(400, "app.user.save.username_exists.app_error")
    at = now_ms()
    bot = User(
        id=new_id(),
        username=username,
        token=new_token(),
        is_bot=True,
        email=f"{username}@localhost",
        first_name=str(body.get("display_name") or ""),
        create_at=at,
        update_at=at,
        bot_description=str(body.get("description") or ""),
        bot_display_name=str(body.get("display_name") or ""),
        owner_id=caller.id,
    )
    core.state.users[bot.id] = bot
    return json_response(bot_json(bot), status=201)


@routes.get(API + "/bots")
async def list_bots(request: web.Request) -> web.Response:
    caller = me(request)
    bots = [u for u in core_of(request).state.users.values() if u.is_bot]
    if not caller.is_admin:
        bots = [b for b in bots if b.owner_id == caller.id]
    return json_response([bot_json(b) for b in bots])


@routes.get(API + "/bots/{bot_id}")
async def get_bot(request: web.Request) -> web.Response:
    caller = me(request)
    bot = core_of(request).state.users.get(request.match_info["bot_id"])
    if bot is None or not bot.is_bot:
        raise MattermostHTTPError(404, "store.sql_bot.get.missing.app_error")
    if not caller.is_admin and bot.owner_id != caller.id:
        raise permission_error(caller.id, "read_others_bots")
    return json_response(bot_json(bot))


# ---- teams -----------------------------------------------------------------
@routes.get(API + "/teams/name/{name}")
async def team_by_name(request: web.Request) -> web.Response:
    state = core_of(request).state
    name = request.match_info["name"]
    team = next((t for t in state.teams.values() if t.name == name), None)
    if team is None:
        raise MattermostHTTPError(
            404, "app.team.get_by_name.missing.app_error", detailed_error=f"name={name}"
        )
    state.require_team(me(request), team.id)
    return json_response(team_json(team))


@routes.get(API + "/teams/{team_id}")
async def get_team(request: web.Request) -> web.Response:
    state = core_of(request).state
    team = state.team_of(request.match_info["team_id"])
    state.require_team(me(request), team.id)
    return json_response(team_json(team))


@routes.post(API + "/teams/{team_id}/members")
async def add_team_member(request: web.Request) -> web.Response:
    core = core_of(request)
    caller = me(request)
    team = core.state.team_of(request.match_info["team_id"])
    core.state.require_admin(caller, "add_user_to_team")
    body = await body_object(request, "team_member")
    user = core.state.user(str(body.get("user_id") or ""))
    members = core.state.team_members.setdefault(team.id, set())
    if user.id not in members:
        members.add(user.id)
        core.hub.emit("added_to_team", {"team_id": team.id, "user_id": user.id}, user_id=user.id)
    return json_response(team_member_json(team.id, user.id), status=201)


@routes.get(API + "/teams/{team_id}/members/{user_id}")
async def get_team_member(request: web.Request) -> web.Response:
    state = core_of(request).state
    team = state.team_of(request.match_info["team_id"])
    state.require_team(me(request), team.id)
    user_id = user_param(request)
    if not state.in_team(user_id, team.id):
        raise team_member_missing(team.id, user_id)
    return json_response(team_member_json(team.id, user_id))


@routes.get(API + "/config")
async def get_config(request: web.Request) -> web.Response:
    """api4/config.go getConfig: any sysconsole_read_* permission (system admins), else 403;
    the whole configuration with its secrets sanitized."""
    caller = me(request)
    core = core_of(request)
    if not caller.is_admin:
        raise permission_error(caller.id, "sysconsole_read_about")
    return json_response(core.state.config.sanitized())
