"""Buttons and dialogs of the incident lifecycle: start and end dialogs, end/restart buttons."""

from __future__ import annotations

from bot.domain.limits import INCIDENT_DESCRIPTION, INCIDENT_NAME
from bot.domain.models import Incident
from bot.domain.naming import display_name
from bot.domain.signing import Claims
from bot.errors import InvalidTransition, NotFound
from bot.interactions.router import (
    ActionRequest,
    ActionResponse,
    DialogResponse,
    DialogSubmission,
    InteractionRouter,
    one_shot,
)
from bot.log import get_logger
from bot.render import dialogs, messages
from bot.services.container import Services
from bot.services.starts import StartRequest

log = get_logger(__name__)
END_CONFIRM_TTL_MS = 15 * 60 * 1000


def register(router: InteractionRouter) -> None:
    router.dialog("start", submit_start)
    router.dialog("end", submit_end)
    router.action("end", click_end)
    router.action("restart", click_restart)


async def submit_start(svc: Services, sub: DialogSubmission, claims: Claims) -> DialogResponse:
    team_id = str(claims.p.get("team", ""))
    name = display_name(sub.text("name"))
    description = sub.text("description")
    errors: dict[str, str] = {}
    for field, value, limit in (
        ("name", name, INCIDENT_NAME),
        ("description", description, INCIDENT_DESCRIPTION),
    ):
        if not limit.fits(value):
            errors[field] = messages.field_error(limit.reason)
    severity = sub.text("severity")
    if severity and severity not in svc.severity_levels():
        errors["severity"] = messages.field_error("unknown_severity")
    playbook = await svc.playbooks.get_usable(team_id, sub.user_id, sub.text("playbook"))
    if playbook is None:
        errors["playbook"] = messages.field_error("playbook_not_usable")
    if errors or playbook is None:
        return DialogResponse(errors=errors)
    origin = str(claims.p.get("origin", ""))
    origin_link = ""
    if origin:
        team = await svc.chat.get_team(team_id)
        origin_link = f"{svc.urls.mattermost}/{team.name}/pl/{origin}"
    await svc.incidents.start(
        StartRequest(
            reporter_id=sub.user_id,
            team_id=team_id,
            origin_channel_id=str(claims.p.get("channel", "")) or sub.channel_id,
            playbook=playbook,
            name=name,
            description=description,
            origin_post_id=origin,
            origin_link=origin_link,
            severity=severity,
        ),
        once=one_shot(claims),
    )
    return DialogResponse(spent=True)  # the start is recorded with its nonce spent


async def submit_end(svc: Services, sub: DialogSubmission, claims: Claims) -> DialogResponse:
    incident = await svc.incidents.get(claims.i)
    await svc.directory.require_member(incident, sub.user_id)
    await svc.incidents.end(incident.id, sub.user_id, once=one_shot(claims))
    return DialogResponse()


async def open_end_dialog(
    svc: Services, incident: Incident, *, user_id: str, trigger_id: str
) -> None:
    """Ask to confirm ending (the /incident end command and the End button alike)."""
    if not incident.is_ongoing:
        raise InvalidTransition("already_ended")
    state = svc.signer.sign(
        "end",
        expires_at=svc.clock.now_ms() + END_CONFIRM_TTL_MS,
        incident_id=incident.id,
        user_id=user_id,
        one_shot=True,
    )
    dialog = dialogs.end_dialog(url=svc.urls.dialog, state=state, incident=incident)
    await svc.chat.open_dialog(trigger_id, dialog["url"], dialog["dialog"])


async def click_end(svc: Services, req: ActionRequest, claims: Claims) -> ActionResponse:
    incident = await svc.incidents.get(claims.i)
    if incident.channel_id != req.channel_id:
        raise NotFound("incident")
    await svc.directory.require_member(incident, req.user_id)
    await open_end_dialog(svc, incident, user_id=req.user_id, trigger_id=req.trigger_id)
    return ActionResponse()


async def click_restart(svc: Services, req: ActionRequest, claims: Claims) -> ActionResponse:
    incident = await svc.incidents.get(claims.i)
    if incident.channel_id != req.channel_id:
        raise NotFound("incident")
    await svc.directory.require_member(incident, req.user_id)
    await svc.incidents.restart(incident.id, req.user_id)
    return ActionResponse()
