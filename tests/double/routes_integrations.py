"""REST routes: slash commands, message actions, dialogs, command webhooks."""

from __future__ import annotations

from aiohttp import web

from .builtin_commands import BUILTINS
from .errors import MattermostHTTPError, invalid_body
from .plumbing import body_json, body_object, core_of, json_response, me, status_ok
from .state import Command
from .wire import command_json

routes = web.RouteTableDef()
API = "/api/v4"


@routes.post(API + "/commands")
async def create_command(request: web.Request) -> web.Response:
    core = core_of(request)
    user = me(request)
    body = await body_object(request, "command")
    core.state.require_admin(user, "manage_slash_commands")
    core.state.require_commands_enabled()
    cmd = core.create_command(user.id, body)
    return json_response(command_json(cmd), status=201)


@routes.get(API + "/commands")
async def list_commands(request: web.Request) -> web.Response:
    core = core_of(request)
    user = me(request)
    team_id = request.query.get("team_id", "")
    if not team_id:
        raise MattermostHTTPError(400, "api.context.invalid_url_param.app_error", name="team_id")
    custom_only = request.query.get("custom_only", "").lower() in ("true", "1")
    if custom_only:
        core.state.require_admin(user, "manage_slash_commands")
        core.state.require_commands_enabled()
    customs = [c for c in core.state.commands.values() if c.team_id == team_id]
    if not core.state.config.service("EnableCommands"):  # app/command.go ListAllCommands
        customs = []
    if custom_only:
        return json_response([command_json(c) for c in customs])
    core.state.require_team(user, team_id)
    builtins = [
        Command(id="", team_id="", trigger=t, url="", token="", auto_complete=True)
        for t in BUILTINS
    ]
    visible = customs if user.is_admin else [c for c in customs if c.auto_complete]
    return json_response([command_json(c) for c in [*builtins, *visible]])


@routes.put(API + "/commands/{command_id}")
async def update_command(request: web.Request) -> web.Response:
    core = core_of(request)
    body = await body_object(request, "command")
    core.state.require_commands_enabled()  # app/command.go GetCommand, before the update
    cmd = core.update_command(me(request), request.match_info["command_id"], body)
    return json_response(command_json(cmd))


@routes.delete(API + "/commands/{command_id}")
async def delete_command(request: web.Request) -> web.Response:
    core = core_of(request)
    core.state.require_admin(me(request), "manage_slash_commands")
    if core.state.commands.pop(request.match_info["command_id"], None) is None:
        raise MattermostHTTPError(404, "app.command.getcommand.app_error")
    return status_ok()


@routes.post(API + "/commands/execute")
async def execute_command(request: web.Request) -> web.Response:
    body = await body_object(request, "command_args")
    command = body.get("command")
    if not isinstance(command, str) or not command:
        raise invalid_body("command")
    channel_id = str(body.get("channel_id") or "")
    if not channel_id:
        raise invalid_body("channel_id")
    response = await core_of(request).execute_command(
        me(request),
        channel_id,
        command,
        team_id=str(body.get("team_id") or ""),
        root_id=str(body.get("root_id") or ""),
    )
    return json_response(response)


@routes.post(API + "/posts/{post_id:[A-Za-z0-9]+}/actions/{action_id:[A-Za-z0-9]+}")
async def do_post_action(request: web.Request) -> web.Response:
    raw = await request.read()
    body = await body_json(request, "post_action") if raw.strip() else {}
    body = body if isinstance(body, dict) else {}
    result = await core_of(request).do_post_action(
        me(request),
        request.match_info["post_id"],
        request.match_info["action_id"],
        selected_option=str(body.get("selected_option") or ""),
        cookie=str(body.get("cookie") or ""),
    )
    return json_response(result)


@routes.post(API + "/actions/dialogs/open")
async def open_dialog(request: web.Request) -> web.Response:
    return json_response(core_of(request).open_dialog(await body_json(request, "dialog")))


@routes.post(API + "/actions/dialogs/submit")
async def submit_dialog(request: web.Request) -> web.Response:
    body = await body_json(request, "dialog")
    return json_response(await core_of(request).submit_dialog(me(request), body))


@routes.post("/hooks/commands/{hook_id}", name="command_hook")
async def command_hook(request: web.Request) -> web.Response:
    core_of(request).command_hook(
        request.match_info["hook_id"], request.headers.get("Content-Type", ""), await request.read()
    )
    return web.Response(text="ok", content_type="text/plain")
