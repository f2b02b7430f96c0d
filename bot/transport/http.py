"""The HTTP edge: slash commands, buttons, dialogs, health and metrics.

Every callback is verified before it is parsed further: the slash-command token in constant
time; buttons and dialogs by the HMAC of their context/state (in the interaction router).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import ValidationError

from bot.commands.dispatch import run_command
from bot.commands.router import CommandRequest, CommandRouter, Reply
from bot.interactions.router import ActionRequest, DialogSubmission, InteractionRouter
from bot.log import get_logger
from bot.metrics import Metrics
from bot.render import messages
from bot.services.container import Services
from bot.transport.command_tokens import CommandTokens

log = get_logger(__name__)

MAX_BODY = 256 * 1024
COMMAND_BUDGET_S = 20.0

SERVICES = web.AppKey("services", Services)
COMMANDS = web.AppKey("commands", CommandRouter)
INTERACTIONS = web.AppKey("interactions", InteractionRouter)
METRICS = web.AppKey("metrics", Metrics)
TOKENS = web.AppKey("tokens", CommandTokens)
READY: web.AppKey[Callable[[], bool]] = web.AppKey("ready")


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


async def handle_command(request: web.Request) -> web.Response:
    app = request.app
    metrics = app[METRICS]
    form = await request.post()
    presented = str(form.get("token", ""))
    header = request.headers.get("Authorization", "")
    if header.startswith("Token ") and not hmac.compare_digest(
        header[6:].encode(), presented.encode()
    ):
        presented = ""
    if not await app[TOKENS].check(presented):
        metrics.inc("warroom_callbacks_rejected_total", "Callbacks refused", kind="command")
        log.warning("command_token_rejected", remote=request.remote)
        # 200, so that Mattermost shows the reason instead of a bare "command failed".
        return _json({"response_type": "ephemeral", "text": messages.unknown_command_token()})
    try:
        req = CommandRequest.model_validate({k: str(v) for k, v in form.items()})
    except ValidationError as exc:
        log.warning("command_malformed", errors=exc.error_count())
        return _json({"response_type": "ephemeral", "text": messages.unexpected_error()})
    svc = app[SERVICES]
    started = time.perf_counter()
    work = svc.tasks.spawn(f"command-{req.trigger_id[:8]}", run_command(svc, app[COMMANDS], req))
    try:
        reply: Reply = await asyncio.wait_for(asyncio.shield(work), COMMAND_BUDGET_S)
    except TimeoutError:
        # Too slow for Mattermost's 30 s: answer now, deliver the result via response_url.
        svc.tasks.spawn("command-late-reply", _late_reply(work, req.response_url))
        reply = Reply(messages.still_working())
    metrics.inc("warroom_commands_total", "Slash commands handled")
    log.info("command_answered", ms=round((time.perf_counter() - started) * 1000, 1))
    return _json(reply.to_json())


async def _late_reply(work: Awaitable[Reply], response_url: str) -> None:
    reply = await work
    if not response_url.startswith(("http://", "https://")):
        return
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        await session.post(response_url, json=reply.to_json())


async def _json_body(request: web.Request) -> dict[str, Any] | None:
    try:
        raw = await request.read()
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


async def handle_action(request: web.Request) -> web.Response:
    body = await _json_body(request)
    try:
        req = ActionRequest.model_validate(body)
    except ValidationError:
        request.app[METRICS].inc("warroom_callbacks_rejected_total", kind="action")
        return _json({"ephemeral_text": messages.bad_callback()})
    response = await request.app[INTERACTIONS].handle_action(request.app[SERVICES], req)
    request.app[METRICS].inc("warroom_actions_total", "Button clicks handled")
    return _json(response.to_json())


async def handle_dialog(request: web.Request) -> web.Response:
    body = await _json_body(request)
    try:
        sub = DialogSubmission.model_validate(body)
    except ValidationError:
        request.app[METRICS].inc("warroom_callbacks_rejected_total", kind="dialog")
        return _json({"error": messages.field_error("stale_dialog")})
    response = await request.app[INTERACTIONS].handle_dialog(request.app[SERVICES], sub)
    request.app[METRICS].inc("warroom_dialogs_total", "Dialog submissions handled")
    return _json(response.to_json())


async def healthz(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    ready = request.app[READY]()
    return _json({"ready": ready}, 200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    return web.Response(text=request.app[METRICS].render(), content_type="text/plain")


def build_http_app(
    *,
    services: Services,
    commands: CommandRouter,
    interactions: InteractionRouter,
    metrics_registry: Metrics,
    tokens: CommandTokens,
    ready: Callable[[], bool],
) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[SERVICES] = services
    app[COMMANDS] = commands
    app[INTERACTIONS] = interactions
    app[METRICS] = metrics_registry
    app[TOKENS] = tokens
    app[READY] = ready
    app.router.add_post("/mattermost/command", handle_command)
    app.router.add_post("/mattermost/action", handle_action)
    app.router.add_post("/mattermost/dialog", handle_dialog)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app
