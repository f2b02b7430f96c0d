"""The aiohttp application: routes of every module plus the websocket."""

from __future__ import annotations

from aiohttp import web

from . import routes_channels, routes_integrations, routes_posts, routes_users
from .commands import Core
from .errors import MattermostHTTPError
from .plumbing import CONTROL, CORE, RECORDED, Control, core_of, middleware, token_of
from .state import RequestRecord


async def websocket(request: web.Request) -> web.StreamResponse:
    core = core_of(request)
    token = token_of(request)
    user_id: str | None = None
    if token:
        user = core.state.user_by_token(token)
        if user is None:
            raise MattermostHTTPError(
                401, "api.context.session_expired.app_error", detailed_error=f"token={token}"
            )
        user_id = user.id
    request[RECORDED] = True
    request.app[CONTROL].requests.append(RequestRecord("GET", request.path, user_id, 101))

    def resolve(tok: str) -> str | None:
        found = core.state.user_by_token(tok)
        return found.id if found else None

    return await core.hub.handle(request, user_id, resolve)


def build_app(core: Core, control: Control) -> web.Application:
    app = web.Application(middlewares=[middleware], client_max_size=64 * 1024 * 1024)
    app[CORE] = core
    app[CONTROL] = control
    app.router.add_get("/api/v4/websocket", websocket, name="websocket")
    for module in (routes_users, routes_channels, routes_integrations, routes_posts):
        app.router.add_routes(module.routes)
    return app
