"""HTTP plumbing shared by the route modules: app keys, responses, auth."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .commands import Core
from .errors import MattermostHTTPError, invalid_body
from .faults import ConnectionDropped, Faults
from .state import FailRule, RequestRecord, User
from .util import VERSION_HEADER, Json, dumps, new_id
from .wire import route_not_found_body


@dataclass
class Control:
    """Switches a test flips on the server: outage, injected failures; the request log."""

    outage: bool = False
    fail_rules: list[FailRule] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    requests: list[RequestRecord] = field(default_factory=list)
    keep_bodies: bool = False  # the request log keeps each request's and answer's bytes

    def take_failure(self, method: str, path: str) -> FailRule | None:
        for rule in self.fail_rules:
            if rule.matches(method, path):
                rule.times -= 1
                if rule.times <= 0:
                    self.fail_rules.remove(rule)
                return rule
        return None


CORE = web.AppKey("core", Core)
CONTROL = web.AppKey("control", Control)
USER = web.RequestKey("user", User)
RECORDED = web.RequestKey("recorded", bool)
PUBLIC_ROUTES = {"ping", "websocket", "command_hook"}


def json_response(data: Any, status: int = 200) -> web.Response:
    """JSON with `Content-Type: application/json` exactly (no charset)."""
    return web.Response(
        status=status, body=dumps(data).encode(), headers={"Content-Type": "application/json"}
    )


def status_ok() -> web.Response:
    return json_response({"status": "OK"})


def error_response(err: MattermostHTTPError, headers: dict[str, str] | None = None) -> web.Response:
    response = json_response(err.body(new_id()), status=err.status)
    response.headers.update(headers or {})
    return response


def route_not_found(path: str) -> web.Response:
    return web.Response(
        status=404,
        body=route_not_found_body(path).encode(),
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )


def core_of(request: web.Request) -> Core:
    return request.app[CORE]


def me(request: web.Request) -> User:
    return request[USER]


def user_param(request: web.Request, name: str = "user_id") -> str:
    value = request.match_info[name]
    return me(request).id if value == "me" else value


async def body_json(request: web.Request, name: str) -> Any:
    try:
        return json.loads(await request.read())
    except ValueError:
        raise invalid_body(name) from None


async def body_object(request: web.Request, name: str) -> Json:
    value = await body_json(request, name)
    if not isinstance(value, dict):
        raise invalid_body(name)
    return value


def query_int(request: web.Request, name: str, default: int, maximum: int | None = None) -> int:
    try:
        value = int(request.query.get(name, default))
    except ValueError:
        raise MattermostHTTPError(
            400, "api.context.invalid_url_param.app_error", name=name
        ) from None
    value = max(value, 0)
    return min(value, maximum) if maximum is not None else value


def token_of(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "token") and value.strip():
        return value.strip()
    return request.query.get("access_token") or request.cookies.get("MMAUTHTOKEN")


def authenticate(request: web.Request) -> User:
    token = token_of(request)
    if not token:
        raise MattermostHTTPError(
            401, "api.context.session_expired.app_error", detailed_error="UserRequired"
        )
    user = core_of(request).state.user_by_token(token)
    if user is None:
        raise MattermostHTTPError(
            401, "api.context.session_expired.app_error", detailed_error=f"token={token}"
        )
    return user


@web.middleware
async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    control = request.app[CONTROL]
    began = time.perf_counter()

    async def answer() -> web.StreamResponse:
        try:
            return await _guarded(request, handler, control)
        except MattermostHTTPError as err:
            return error_response(err)

    rule = None if control.outage else control.faults.take(request.method, request.path)
    if rule is None:
        response = await answer()
    else:
        await request.read()  # kept for the handler, which may run after the client left
        try:
            response = await control.faults.serve(rule, answer)
        except ConnectionDropped:
            _record(request, control, 0, began)
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError from None  # aiohttp: the client went away
    _record(request, control, response.status, began, response)
    if not response.prepared:
        response.headers.setdefault("X-Request-Id", new_id())
        response.headers["X-Version-Id"] = VERSION_HEADER
    return response


def _record(
    request: web.Request,
    control: Control,
    status: int,
    began: float,
    response: web.StreamResponse | None = None,
) -> None:
    if not request.get(RECORDED):
        user = request.get(USER)
        user_id = user.id if isinstance(user, User) else None
        answered = time.perf_counter()
        if not control.keep_bodies:
            record = RequestRecord(request.method, request.path, user_id, status, began, answered)
        else:
            answer = response.body if isinstance(response, web.Response) else b""
            record = RequestRecord(
                request.method,
                request.path,
                user_id,
                status,
                began,
                answered,
                request.query_string,
                request._read_bytes or b"",  # what the handler read, if anything
                answer if isinstance(answer, bytes) else b"",
            )
        control.requests.append(record)


async def _guarded(request: web.Request, handler: Any, control: Control) -> web.StreamResponse:
    if control.outage:
        raise MattermostHTTPError(503, "double.outage")
    rule = control.take_failure(request.method, request.path)
    if rule is not None:
        err = MattermostHTTPError(rule.status, rule.error_id, rule.message)
        return error_response(err, rule.headers)
    match = request.match_info
    if match.http_exception is not None:
        if request.path.startswith("/api/"):
            return route_not_found(request.path)
        raise match.http_exception
    if match.route.name not in PUBLIC_ROUTES:
        request[USER] = authenticate(request)
    result: web.StreamResponse = await handler(request)
    return result
