"""The HTTP edge: slash commands, buttons, dialogs, health and metrics.

Every callback is first read by :mod:`bot.transport.intake` (one bounded reader per content
type); a body that is not what Mattermost sends is answered 400 (413 when too large) by
:func:`refuse_malformed`, costing a counter and at most one log line a minute per endpoint
and reason. Then it is verified before it is parsed further: the slash-command token in
constant time and against the team it was registered on; buttons and dialogs by the HMAC of
their context/state (in the interaction router).
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import structlog
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.log import server_logger
from pydantic import ValidationError

from bot.commands.dispatch import run_command
from bot.commands.router import CommandRequest, CommandRouter, Reply, split
from bot.deadline import callback_deadline
from bot.domain.limits import COMMAND_TEXT
from bot.interactions.router import ActionRequest, DialogSubmission, InteractionRouter
from bot.log import get_logger
from bot.metrics import CONTENT_TYPE, Metrics
from bot.render import messages
from bot.render.limits import too_long
from bot.services.container import Services
from bot.transport.command_tokens import CommandTokens
from bot.transport.intake import MAX_BODY, Malformed, read_form, read_json_object

log = get_logger(__name__)

COMMAND_BUDGET_S = 20.0
REFUSAL_LOG_EVERY_S = 60.0
REJECTED = "warroom_callbacks_rejected_total"
REJECTED_HELP = "Callbacks refused before any work, by endpoint and reason"


class RefusalLog:
    """One warning per endpoint and reason per ``every`` seconds; the next says how many not."""

    def __init__(
        self, every: float = REFUSAL_LOG_EVERY_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._every = every
        self._clock = clock
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def note(self, endpoint: str, reason: str, **fields: object) -> None:
        now = self._clock()
        last = self._last.get((endpoint, reason))
        if last is not None and now - last[0] < self._every:
            self._last[(endpoint, reason)] = (last[0], last[1] + 1)
            return
        self._last[(endpoint, reason)] = (now, 0)
        unlogged = last[1] if last is not None else 0
        log.warning(
            "callback_refused", endpoint=endpoint, reason=reason, unlogged=unlogged, **fields
        )


SERVICES = web.AppKey("services", Services)
COMMANDS = web.AppKey("commands", CommandRouter)
INTERACTIONS = web.AppKey("interactions", InteractionRouter)
METRICS = web.AppKey("metrics", Metrics)
TOKENS = web.AppKey("tokens", CommandTokens)
READY: web.AppKey[Callable[[], bool]] = web.AppKey("ready")
REFUSALS = web.AppKey("refusals", RefusalLog)


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


@web.middleware
async def refuse_malformed(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Answer :class:`Malformed` with its status, a counter and a rate-limited log line."""
    try:
        return await handler(request)
    except Malformed as exc:
        endpoint = request.match_info.route.name or "other"
        _refused(request, endpoint, exc.reason)
        return _json({"error": messages.malformed_callback()}, exc.status)


def _refused(request: web.Request, endpoint: str, reason: str) -> None:
    request.app[METRICS].inc(REJECTED, REJECTED_HELP, endpoint=endpoint, reason=reason)
    request.app[REFUSALS].note(endpoint, reason, remote=request.remote)


class ServerLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's server log, except for requests broken at the HTTP level.

    aiohttp answers a request its parser refuses (a header given twice, a control character
    in a header, a bad request line) with 400 before any handler runs, and when a body's
    chunking or compression is broken it gives up on the connection after the handler
    answered; it logs each with a traceback at ERROR. Here they cost what any malformed
    callback costs: the counter (endpoint ``http``, reason ``bad_http`` or ``bad_body``)
    and the rate-limited line. Everything else is logged as aiohttp logs it.
    """

    def __init__(self, app: web.Application) -> None:
        super().__init__(server_logger, {})
        self._app = app

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info")
        reason = (
            "bad_http"
            if isinstance(exc, BadHttpMessage)
            else "bad_body"
            if isinstance(exc, web.RequestPayloadError)
            else None
        )
        if reason is None:
            super().log(level, msg, *args, **kwargs)
            return
        self._app[METRICS].inc(REJECTED, REJECTED_HELP, endpoint="http", reason=reason)
        self._app[REFUSALS].note("http", reason)


def http_runner(app: web.Application) -> web.AppRunner:
    """The runner for :func:`build_http_app`'s app, logging through :class:`ServerLog`."""
    return web.AppRunner(app, access_log=None, handle_signals=False, logger=ServerLog(app))


@web.middleware
async def request_context(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Give each callback a request id that every log line it causes carries (tasks it
    spawns copy the context), and clear it afterwards: one connection serves many requests."""
    with structlog.contextvars.bound_contextvars(
        request_id=request.headers.get("X-Request-Id", "")[:64] or _request_id(),
        path=request.path,
    ):
        return await handler(request)


_REQUEST_IDS = itertools.count()
_RUN = secrets.token_hex(4)  # this process's: ids stay unique across restarts


def _request_id() -> str:
    """A request id (16 hex digits) unique in this run and, by its random half, across runs:
    a counter, no read of the random source per request."""
    return f"{_RUN}{next(_REQUEST_IDS) & 0xFFFFFFFF:08x}"


def bind_people(*, user_id: str, channel_id: str, team_id: str = "") -> None:
    """Bind who acts where (Mattermost's ids, from a verified or parsed callback) to the
    request's log context."""
    structlog.contextvars.bind_contextvars(
        user_id=user_id or None, channel_id=channel_id or None, team_id=team_id or None
    )


def _subcommand(commands: CommandRouter, text: str) -> str:
    """A metric label for the slash subcommand: a registered name, else "unknown"."""
    head = split(text)[0]
    return (head or "help") if not head or commands.get(head) else "unknown"


async def handle_command(request: web.Request) -> web.Response:
    app = request.app
    metrics = app[METRICS]
    form = await read_form(request)
    presented = form.get("token", "")
    header = request.headers.get("Authorization", "")
    if header.startswith("Token ") and not hmac.compare_digest(
        header[6:].encode(), presented.encode()
    ):
        presented = ""
    if not await app[TOKENS].check(presented, form.get("team_id", "")):
        _refused(request, "command", "token")
        # 200, so that Mattermost shows the reason instead of a bare "command failed".
        return _json(Reply(messages.unknown_command_token()).to_json())
    req = _command_request(form)
    if isinstance(req, Reply):
        return _json(req.to_json())
    bind_people(user_id=req.user_id, channel_id=req.channel_id, team_id=req.team_id)
    svc = app[SERVICES]
    started = time.perf_counter()
    # No report: the reply below (or the late reply) is how the caller learns how it went, and
    # run_command answers every failure with a reply of its own.
    work = svc.tasks.spawn(
        f"command-{req.trigger_id[:8]}", run_command(svc, app[COMMANDS], req), report=None
    )
    with svc.tasks.foreground.serving():  # the re-sync's walks give way meanwhile
        await asyncio.wait((work,), timeout=COMMAND_BUDGET_S)  # never cancels the work itself
    if work.done():
        reply: Reply = work.result()
    else:
        # Too slow for Mattermost's 30 s: answer now, deliver the result via response_url.
        svc.tasks.spawn(
            "command-late-reply",
            _late_reply(svc, work, req),
            report=svc.notifier.reporter(
                req.user_id, req.channel_id, messages.late_reply_failed(messages.unexpected_error())
            ),
        )
        reply = Reply(messages.still_working())
    took = time.perf_counter() - started
    subcommand = _subcommand(app[COMMANDS], req.text)
    metrics.observe_callback("command", subcommand, took)
    # The one line per slash command (run_command logs refusals and failures on their own).
    log.info("command_answered", subcommand=subcommand, ms=round(took * 1000, 1))
    return _json(reply.to_json())


def _command_request(form: dict[str, str]) -> CommandRequest | Reply:
    """The validated command, or the answer to a text longer than warroom reads (the
    person's to fix). Other invalid or missing fields raise :class:`Malformed`."""
    try:
        return CommandRequest.model_validate(form)
    except ValidationError as exc:
        if all(e["loc"] == ("text",) and e["type"] == "string_too_long" for e in exc.errors()):
            return Reply(too_long(COMMAND_TEXT, len(form.get("text", ""))))
        raise Malformed("fields") from exc


async def _late_reply(svc: Services, work: Awaitable[Reply], req: CommandRequest) -> None:
    """Deliver a slow command's reply through ``response_url``; if Mattermost refuses it, the
    caller gets the reply privately instead (it is never lost)."""
    reply = await work
    try:
        if not req.response_url.startswith(("http://", "https://")):
            raise ValueError("no usable response_url")
        timeout = aiohttp.ClientTimeout(total=10)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(req.response_url, json=reply.to_json()) as answer,
        ):
            answer.raise_for_status()
    except (ValueError, aiohttp.ClientError, TimeoutError) as exc:
        log.warning("late_reply_refused", error=repr(exc))
        await svc.notifier.tell(req.user_id, req.channel_id, messages.late_reply_failed(reply.text))


async def handle_action(request: web.Request) -> web.Response:
    try:
        req = ActionRequest.model_validate(await read_json_object(request))
    except ValidationError as exc:
        raise Malformed("fields") from exc
    bind_people(user_id=req.user_id, channel_id=req.channel_id, team_id=req.team_id)
    started = time.perf_counter()
    svc = request.app[SERVICES]
    router = request.app[INTERACTIONS]
    # Answered within Mattermost's wait; the re-sync's walks give way meanwhile.
    with callback_deadline(svc.clock.now_ms), svc.tasks.foreground.serving():
        response = await router.handle_action(svc, req)
    name = structlog.contextvars.get_contextvars().get("action")  # bound once verified
    request.app[METRICS].observe_callback(
        "action", name if name in router.actions else "unverified", time.perf_counter() - started
    )
    return _json(response.to_json())


async def handle_dialog(request: web.Request) -> web.Response:
    try:
        sub = DialogSubmission.model_validate(await read_json_object(request))
    except ValidationError as exc:
        raise Malformed("fields") from exc
    bind_people(user_id=sub.user_id, channel_id=sub.channel_id, team_id=sub.team_id)
    started = time.perf_counter()
    svc = request.app[SERVICES]
    router = request.app[INTERACTIONS]
    # Answered within Mattermost's wait; the re-sync's walks give way meanwhile.
    with callback_deadline(svc.clock.now_ms), svc.tasks.foreground.serving():
        response = await router.handle_dialog(svc, sub)
    name = structlog.contextvars.get_contextvars().get("dialog")  # bound once verified
    request.app[METRICS].observe_callback(
        "dialog",
        name if name in router.dialogs else ("cancelled" if sub.cancelled else "unverified"),
        time.perf_counter() - started,
    )
    return _json(response.to_json())


async def healthz(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    ready = request.app[READY]()
    return _json({"ready": ready}, 200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    body = await request.app[METRICS].render()
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE  # text/plain; version=0.0.4
    return response


def build_http_app(
    *,
    services: Services,
    commands: CommandRouter,
    interactions: InteractionRouter,
    metrics_registry: Metrics,
    tokens: CommandTokens,
    ready: Callable[[], bool],
    api: web.Application | None = None,
) -> web.Application:
    """warroom's HTTP app: Mattermost's callbacks, health, metrics and (``api``) the REST
    API mounted at ``/api/v1``."""
    app = web.Application(client_max_size=MAX_BODY, middlewares=[request_context, refuse_malformed])
    app[SERVICES] = services
    app[COMMANDS] = commands
    app[INTERACTIONS] = interactions
    app[METRICS] = metrics_registry
    app[TOKENS] = tokens
    app[READY] = ready
    app[REFUSALS] = RefusalLog()
    app.router.add_post("/mattermost/command", handle_command, name="command")
    app.router.add_post("/mattermost/action", handle_action, name="action")
    app.router.add_post("/mattermost/dialog", handle_dialog, name="dialog")
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    if api is not None:
        app.add_subapp("/api/v1", api)
    return app
