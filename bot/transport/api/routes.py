"""The REST API under ``/api/v1``: one table of routes, served and described from it.

Each :class:`Route` names its method, path, query model, body model and answer model; the
aiohttp sub-application (:func:`build_api`) and the OpenAPI description
(:mod:`bot.transport.api.openapi`) are both built from :data:`ROUTES`, so they cannot differ.
Every error is answered as ``{"error": {"id", "message", "field"}}`` (:func:`answer_errors`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.commands.review import DEFAULT_DAYS, MAX_DAYS
from bot.domain.limits import IMPORT_FILE
from bot.errors import (
    ChatUnavailable,
    InputError,
    InvalidTransition,
    NotFound,
    Pending,
    PermissionDenied,
    StoreUnavailable,
    WarroomError,
)
from bot.log import get_logger
from bot.render import api as words
from bot.render import messages
from bot.services.container import Services
from bot.services.ports import User
from bot.transport.api.auth import Identities, Unauthenticated, bearer
from bot.transport.api.errors import ApiError
from bot.transport.api.incidents import IncidentQuery, IncidentsApi
from bot.transport.api.playbooks import PlaybooksApi
from bot.transport.api.schemas import (
    ID,
    CommanderIn,
    DeliveryList,
    DeliveryOut,
    ErrorDetail,
    ErrorOut,
    IncidentDetailOut,
    IncidentPage,
    PlaybookCreateIn,
    PlaybookExportOut,
    PlaybookImportIn,
    PlaybookImportOut,
    PlaybookIn,
    PlaybookList,
    PlaybookOut,
    SeverityIn,
    StartIn,
    StatsGroupOut,
    StatsOut,
    StatusIn,
    StatusUpdateOut,
    TaskAddIn,
    TaskAssignIn,
    TaskCheckIn,
    TaskStateIn,
    WebhookEnableIn,
    WebhookEnableOut,
    check_limits,
)
from bot.transport.api.teams import require_team
from bot.transport.intake import Malformed, parse_json_object

log = get_logger(__name__)

API_SERVICES = web.AppKey("api_services", Services)
IDENTITIES = web.AppKey("identities", Identities)
# The largest body chat's limits allow: an import text of IMPORT_FILE.most characters, each
# escaped as json.dumps does by default (at most 12 bytes: a surrogate pair as two \u escapes),
# and room for the other fields. Read by :func:`_read_bounded`, not by aiohttp's
# client_max_size: a sub-application's is not used (the root application's applies).
MAX_BODY = 12 * IMPORT_FILE.most + 64 * 1024


@dataclass(frozen=True)
class Call:
    """One authenticated API request, parsed: who, the path's ids, the query and the body."""

    svc: Services
    user: User
    path: dict[str, str]
    query: Any
    body: Any

    @property
    def api(self) -> IncidentsApi:
        return IncidentsApi(self.svc)


Handler = Callable[[Call], Awaitable[BaseModel]]


@dataclass(frozen=True)
class Route:
    """One operation of the API (also one operation of the OpenAPI description)."""

    method: str
    path: str
    name: str  # the OpenAPI operationId
    summary: str
    handler: Handler
    answer: type[BaseModel]
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = (401, 404, 503)
    tag: str = "incidents"


class TeamQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team: str = Field(pattern=ID, description="team id")


class StatsQuery(TeamQuery):
    days: int = Field(default=DEFAULT_DAYS, ge=1, le=MAX_DAYS)  # as /incident stats [days]


# ---- handlers -----------------------------------------------------------------------------


async def _list(c: Call) -> BaseModel:
    return await c.api.list(c.user.id, c.query)


async def _get(c: Call) -> BaseModel:
    return await c.api.detail(c.path["incident_id"], c.user.id)


async def _start(c: Call) -> BaseModel:
    return await c.api.start(c.user.id, c.body)


async def _end(c: Call) -> BaseModel:
    return await c.api.end(c.path["incident_id"], c.user.id)


async def _restart(c: Call) -> BaseModel:
    return await c.api.restart(c.path["incident_id"], c.user.id)


async def _commander(c: Call) -> BaseModel:
    return await c.api.commander(c.path["incident_id"], c.user.id, c.body)


async def _status(c: Call) -> BaseModel:
    return await c.api.status(c.path["incident_id"], c.user.id, c.body)


async def _severity(c: Call) -> BaseModel:
    return await c.api.severity(c.path["incident_id"], c.user.id, c.body)


async def _check(c: Call) -> BaseModel:
    return await c.api.check(c.path["incident_id"], c.path["task_id"], c.user.id, c.body)


async def _state(c: Call) -> BaseModel:
    return await c.api.state(c.path["incident_id"], c.path["task_id"], c.user.id, c.body)


async def _assign(c: Call) -> BaseModel:
    return await c.api.assign(c.path["incident_id"], c.path["task_id"], c.user.id, c.body)


async def _add(c: Call) -> BaseModel:
    return await c.api.add(c.path["incident_id"], c.user.id, c.body)


async def _remove(c: Call) -> BaseModel:
    return await c.api.remove(c.path["incident_id"], c.path["task_id"], c.user.id)


async def _deliveries(c: Call) -> BaseModel:
    """System admins only, as ``/incident webhooks``: deliveries show the playbook's endpoints."""
    incident = await c.api.viewable(c.path["incident_id"], c.user.id)
    if not await c.svc.directory.is_admin(c.user.id):
        raise PermissionDenied("webhooks_admins_only")
    rows = await c.svc.webhooks.store.for_incident(incident.id, 100)
    return DeliveryList(items=[DeliveryOut.of(d) for d in rows])


async def _enable_webhook(c: Call) -> BaseModel:
    """System admins only, as ``/incident webhooks enable <url>``."""
    if not await c.svc.directory.is_admin(c.user.id):
        raise PermissionDenied("webhooks_enable_admins_only")
    body: WebhookEnableIn = c.body
    lifted = await c.svc.webhooks.enable(c.user.id, body.url)
    return WebhookEnableOut(url=body.url, endpoints=lifted)


async def _playbooks(c: Call) -> BaseModel:
    team = await require_team(c.svc, c.user.id, c.query.team)
    usable = await c.svc.playbooks.usable(team, c.user.id)
    return PlaybookList(items=[PlaybookOut.of(pb) for pb in usable])


async def _playbook(c: Call) -> BaseModel:
    """A playbook the caller may see (and start with) in its team; else not found."""
    pb = await c.svc.playbooks.stored(c.path["playbook_id"])
    if pb is None:
        raise NotFound("playbook")
    caller = await c.svc.playbooks.caller(pb.team_id, c.user.id)
    if not caller.sees(pb):
        raise NotFound("playbook")
    return PlaybookOut.of(pb)


async def _pb_create(c: Call) -> BaseModel:
    return await PlaybooksApi(c.svc).create(c.user.id, c.body)


async def _pb_update(c: Call) -> BaseModel:
    return await PlaybooksApi(c.svc).update(c.path["playbook_id"], c.user.id, c.body)


async def _pb_delete(c: Call) -> BaseModel:
    return await PlaybooksApi(c.svc).delete(c.path["playbook_id"], c.user.id)


async def _pb_export(c: Call) -> BaseModel:
    return await PlaybooksApi(c.svc).export(c.path["playbook_id"], c.user.id)


async def _pb_import(c: Call) -> BaseModel:
    return await PlaybooksApi(c.svc).import_(c.user.id, c.body)


async def _stats(c: Call) -> BaseModel:
    team = await require_team(c.svc, c.user.id, c.query.team)
    result = await c.svc.review.stats(team, c.user.id, c.query.days, c.svc.severity_levels())

    def group(g: Any) -> StatsGroupOut:
        return StatsGroupOut(
            started=g.started,
            ended=g.ended,
            ongoing=g.ongoing,
            mean_ms_to_end=g.mean_ms,
            median_ms_to_end=g.median_ms,
        )

    return StatsOut(
        days=result.days,
        total=group(result.total),
        by_playbook={k: group(v) for k, v in result.by_playbook.items()},
        by_severity={k: group(v) for k, v in result.by_severity.items()},
    )


_I = "/incidents/{incident_id}"
_T = _I + "/tasks/{task_id}"
_CHANGE = (400, 401, 403, 404, 409, 503)

ROUTES: tuple[Route, ...] = (
    Route("GET", "/incidents", "listIncidents", "Incidents the caller may view",
          _list, IncidentPage, query=IncidentQuery, errors=(400, 401, 404, 503)),
    Route("POST", "/incidents", "startIncident", "Start an incident",
          _start, IncidentDetailOut, body=StartIn, status=201,
          errors=(202, 400, 401, 403, 404, 503)),
    Route("GET", _I, "getIncident", "One incident with checklist, updates and timeline",
          _get, IncidentDetailOut),
    Route("POST", _I + "/end", "endIncident", "End the incident",
          _end, IncidentDetailOut, errors=_CHANGE),
    Route("POST", _I + "/restart", "restartIncident", "Restart an ended incident",
          _restart, IncidentDetailOut, errors=_CHANGE),
    Route("POST", _I + "/commander", "changeCommander", "Hand command to a channel member",
          _commander, IncidentDetailOut, body=CommanderIn, errors=_CHANGE),
    Route("POST", _I + "/status-updates", "postStatusUpdate", "Post a status update",
          _status, StatusUpdateOut, body=StatusIn, status=201, errors=(202, *_CHANGE)),
    Route("POST", _I + "/severity", "setSeverity", "Set the severity",
          _severity, IncidentDetailOut, body=SeverityIn, errors=_CHANGE),
    Route("POST", _I + "/tasks", "addTask", "Add a task to a stage",
          _add, IncidentDetailOut, body=TaskAddIn, status=201, errors=_CHANGE),
    Route("POST", _T + "/check", "checkTask", "Check or uncheck a task",
          _check, IncidentDetailOut, body=TaskCheckIn, errors=_CHANGE),
    Route("POST", _T + "/state", "setTaskState", "Set a task's state",
          _state, IncidentDetailOut, body=TaskStateIn, errors=_CHANGE),
    Route("POST", _T + "/assign", "assignTask", "Assign (or unassign) a task",
          _assign, IncidentDetailOut, body=TaskAssignIn, errors=_CHANGE),
    Route("DELETE", _T, "removeTask", "Remove a task",
          _remove, IncidentDetailOut, errors=_CHANGE),
    Route("GET", _I + "/webhook-deliveries", "listWebhookDeliveries",
          "The incident's newest 100 webhook deliveries (system admins)",
          _deliveries, DeliveryList, errors=(401, 403, 404, 503), tag="webhooks"),
    Route("POST", "/webhooks/enable", "enableWebhook",
          "Send again to an endpoint disabled by a 410 (system admins)",
          _enable_webhook, WebhookEnableOut, body=WebhookEnableIn,
          errors=(400, 401, 403, 503), tag="webhooks"),
    Route("GET", "/playbooks", "listPlaybooks", "Playbooks the caller may start with",
          _playbooks, PlaybookList, query=TeamQuery, errors=(400, 401, 404, 503), tag="playbooks"),
    Route("GET", "/playbooks/{playbook_id}", "getPlaybook", "One playbook",
          _playbook, PlaybookOut, tag="playbooks"),
    Route("POST", "/playbooks", "createPlaybook", "Create a playbook (as in chat)",
          _pb_create, PlaybookOut, body=PlaybookCreateIn, status=201,
          errors=(400, 401, 403, 404, 503), tag="playbooks"),
    Route("PUT", "/playbooks/{playbook_id}", "updatePlaybook", "Change a playbook (members)",
          _pb_update, PlaybookOut, body=PlaybookIn, errors=_CHANGE, tag="playbooks"),
    Route("DELETE", "/playbooks/{playbook_id}", "deletePlaybook", "Delete a playbook (members)",
          _pb_delete, PlaybookOut, errors=_CHANGE, tag="playbooks"),
    Route("GET", "/playbooks/{playbook_id}/export", "exportPlaybook",
          "The playbook as playbooks.yaml takes it",
          _pb_export, PlaybookExportOut, tag="playbooks"),
    Route("POST", "/playbooks/import", "importPlaybook",
          "Import warroom YAML or a Mattermost Playbooks export",
          _pb_import, PlaybookImportOut, body=PlaybookImportIn, status=201,
          errors=(400, 401, 403, 404, 503), tag="playbooks"),
    Route("GET", "/stats", "getStats", "Counts and times to end",
          _stats, StatsOut, query=StatsQuery, errors=(400, 401, 404, 503), tag="stats"),
)  # fmt: skip


# ---- the edge: authentication, parsing, one error shape ------------------------------------


def error_response(status: int, detail: ErrorDetail) -> web.Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body = ErrorOut(error=detail).model_dump_json()
    return web.Response(text=body, status=status, content_type="application/json", headers=headers)


def _of_domain(exc: WarroomError) -> ApiError:
    """The status and shape of a domain error (the words as chat says them)."""
    text = messages.error_text(exc)
    if isinstance(exc, NotFound):
        return ApiError(404, f"{exc.what}_not_found", text)
    if isinstance(exc, PermissionDenied):
        return ApiError(403, exc.reason, text)
    if isinstance(exc, InvalidTransition):
        return ApiError(409, exc.reason, text)
    if isinstance(exc, InputError):
        own = words.api_error(exc.reason) if exc.reason in API_REASONS else text
        return ApiError(400, exc.reason, own, exc.field)
    if isinstance(exc, Pending):
        return ApiError(202, "pending", words.api_error("pending"))
    if isinstance(exc, ChatUnavailable):
        return ApiError(503, "unavailable", words.api_error("unavailable"))
    if isinstance(exc, StoreUnavailable):
        return ApiError(503, "store_unavailable", words.api_error("store_unavailable"))
    return ApiError(500, "unexpected", words.api_error("unexpected"))


API_REASONS = {"bad_cursor", "unknown_user", "reminder_choice"}


def _of_validation(exc: ValidationError) -> ApiError:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"])
    return ApiError(400, "invalid_field", words.invalid_field(first["type"]), field)


@web.middleware
async def answer_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every refusal under ``/api/v1`` in the one error shape, with its status."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.error)
    except web.HTTPMethodNotAllowed:
        return error_response(
            405, ErrorDetail(id="method_not_allowed", message=words.api_error("method_not_allowed"))
        )
    except web.HTTPNotFound:
        return error_response(
            404, ErrorDetail(id="route_not_found", message=words.api_error("route_not_found"))
        )
    except web.HTTPRequestEntityTooLarge:
        return error_response(
            413, ErrorDetail(id="too_large", message=words.api_error("too_large"))
        )
    except WarroomError as exc:
        mapped = _of_domain(exc)
        log.info("api_refused", path=request.path, error=mapped.error.id)
        return error_response(mapped.status, mapped.error)
    except Exception:
        log.exception("api_failed", path=request.path, method=request.method)
        return error_response(
            500, ErrorDetail(id="unexpected", message=words.api_error("unexpected"))
        )


async def _caller(request: web.Request) -> User:
    try:
        token = bearer(request.headers.get("Authorization", ""))
        return await request.app[IDENTITIES].user(token)
    except Unauthenticated:
        raise ApiError(401, "unauthenticated", words.api_error("unauthenticated")) from None


def _query(route: Route, request: web.Request) -> BaseModel | None:
    if route.query is None:
        return None
    for key in request.query:
        if len(request.query.getall(key)) > 1:  # dict() would keep the first and drop the rest
            raise ApiError(400, "invalid_field", words.invalid_field("repeated"), key)
    try:
        return route.query.model_validate(dict(request.query))
    except ValidationError as exc:
        raise _of_validation(exc) from None


async def _body(route: Route, request: web.Request) -> BaseModel | None:
    if route.body is None:
        return None
    raw = await _read_bounded(request, MAX_BODY)
    try:
        # Read as chat's callbacks are (bot/transport/intake.py): UTF-8, nesting bounded
        # before json.loads recurses, no key twice, no NaN, an object.
        data = parse_json_object(raw or b"{}")
    except Malformed:
        raise ApiError(400, "not_json", words.api_error("not_json")) from None
    try:
        body = route.body.model_validate(data)
    except ValidationError as exc:
        raise _of_validation(exc) from None
    check_limits(body)
    return body


async def _read_bounded(request: web.Request, most: int) -> bytes:
    """The body, at most ``most`` bytes; :class:`ApiError` 413 beyond (Content-Length first)."""
    too_large = ApiError(413, "too_large", words.api_error("too_large"))
    if request.content_length is not None and request.content_length > most:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > most:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _endpoint(route: Route) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def endpoint(request: web.Request) -> web.Response:
        user = await _caller(request)
        query = _query(route, request)
        body = await _body(route, request)
        path = dict(request.match_info)
        for key in ("incident_id", "playbook_id"):
            if key in path and len(path[key]) > 64:
                raise NotFound(key.split("_")[0])
        call = Call(request.app[API_SERVICES], user, path, query, body)
        result = await route.handler(call)
        return web.Response(
            text=result.model_dump_json(), status=route.status, content_type="application/json"
        )

    return endpoint


def build_api(services: Services, identities: Identities) -> web.Application:
    """The ``/api/v1`` sub-application (mounted by :func:`bot.transport.http.build_http_app`)."""
    from bot.transport.api.openapi import openapi  # the description of this very table

    api = web.Application(middlewares=[answer_errors])
    api[API_SERVICES] = services
    api[IDENTITIES] = identities
    for route in ROUTES:
        api.router.add_route(route.method, route.path, _endpoint(route), name=route.name)
    document = openapi()

    async def serve_openapi(request: web.Request) -> web.Response:
        return web.json_response(document)

    api.router.add_get("/openapi.json", serve_openapi, name="openapi")

    async def close(_: web.Application) -> None:
        await identities.close()

    api.on_cleanup.append(close)
    return api
