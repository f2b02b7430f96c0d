"""The status dialog, the card's and the reminder's "Update status" button, "Dismiss"."""

from __future__ import annotations

from bot.domain.models import Incident
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
from bot.render import status as render
from bot.services.container import Services

STATUS_DIALOG_TTL_MS = 60 * 60 * 1000


def register(router: InteractionRouter) -> None:
    router.dialog("status", submit_status)
    router.action("status", click_update)
    router.action("dismiss", click_dismiss)


async def open_status_dialog(
    svc: Services, incident: Incident, *, user_id: str, trigger_id: str
) -> None:
    """Members only, ongoing incidents only; pre-filled with the newest update."""
    await svc.directory.require_member(incident, user_id)
    if not incident.is_ongoing:
        raise InvalidTransition("already_ended")
    message, reminder = await svc.status.prefill(incident)
    state = svc.signer.sign(
        "status",
        expires_at=svc.clock.now_ms() + STATUS_DIALOG_TTL_MS,
        incident_id=incident.id,
        user_id=user_id,
        one_shot=True,
    )
    dialog = render.status_dialog(
        url=svc.urls.dialog,
        state=state,
        incident=incident,
        message=message,
        reminder_seconds=reminder,
        choices=svc.status.reminder_choices(),
    )
    await svc.chat.open_dialog(trigger_id, dialog["url"], dialog["dialog"])


async def submit_status(svc: Services, sub: DialogSubmission, claims: Claims) -> DialogResponse:
    message = sub.text("message")
    errors: dict[str, str] = {}
    if not message:
        errors["message"] = render.field_error("message_required")
    elif len(message) > render.MESSAGE_MAX:
        errors["message"] = render.field_error("message_too_long")
    seconds = svc.status.parse_reminder(sub.text("reminder"))
    if seconds is None:
        errors["reminder"] = render.field_error("bad_reminder")
    if errors or seconds is None:
        return DialogResponse(errors=errors)
    await svc.status.submit(
        incident_id=claims.i,
        author_id=sub.user_id,
        message=message,
        reminder_seconds=seconds,
        once=one_shot(claims),
    )
    return DialogResponse()


async def _clicked_incident(svc: Services, req: ActionRequest, claims: Claims) -> Incident:
    incident = await svc.incidents.get(claims.i)
    if incident.channel_id != req.channel_id:
        raise NotFound("incident")
    return incident


async def click_update(svc: Services, req: ActionRequest, claims: Claims) -> ActionResponse:
    incident = await _clicked_incident(svc, req, claims)
    await open_status_dialog(svc, incident, user_id=req.user_id, trigger_id=req.trigger_id)
    return ActionResponse()


async def click_dismiss(svc: Services, req: ActionRequest, claims: Claims) -> ActionResponse:
    incident = await _clicked_incident(svc, req, claims)
    await svc.directory.require_member(incident, req.user_id)
    reminder_id = claims.p.get("r")
    if not isinstance(reminder_id, int):
        raise NotFound("post")
    await svc.status.dismiss(reminder_id, incident)
    return ActionResponse()
