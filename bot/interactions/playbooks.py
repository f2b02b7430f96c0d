"""The playbook dialogs: create, edit, delete (confirmation) and import (pasted text)."""

from __future__ import annotations

from typing import Any

from bot.domain import limits
from bot.domain.models import StageTemplate
from bot.domain.signing import Claims
from bot.errors import ChatUnavailable, InputError
from bot.interactions.router import (
    DialogResponse,
    DialogSubmission,
    InteractionRouter,
    one_shot,
)
from bot.log import get_logger
from bot.render import messages
from bot.render import playbooks as render
from bot.services import playbook_text
from bot.services.container import Services
from bot.services.playbook_file import REMINDER_CHOICES
from bot.services.playbook_import import NotImportable, read
from bot.services.playbook_rules import PlaybookDraft
from bot.services.ports import ChatRefused

log = get_logger(__name__)

# Each field of the playbook dialog and its limit (bot/domain/limits.py).
FIELD_LIMITS = {
    "title": limits.PLAYBOOK_TITLE,
    "description": limits.PLAYBOOK_DESCRIPTION,
    "stages": limits.STAGES_TEXT,
    "status_template": limits.STATUS_TEMPLATE,
    "invite": limits.DIALOG_TEXT,
}


def register(router: InteractionRouter) -> None:
    router.dialog("pb_create", submit_create)
    router.dialog("pb_edit", submit_edit)
    router.dialog("pb_delete", submit_delete)
    router.dialog("pb_import", submit_import)


def _flag(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def _field_error(exc: InputError) -> str:
    text = messages.field_error(exc.reason)
    return f"{text} {exc.detail}" if exc.detail else text


async def _draft(
    svc: Services, sub: DialogSubmission, team_id: str, *, creating: bool
) -> tuple[PlaybookDraft | None, dict[str, str]]:
    """The dialog's fields, checked; every problem becomes an error on its field."""
    errors: dict[str, str] = {}
    template = creating and sub.text("start_from") == render.TEMPLATE_VALUE
    title = sub.text("title")
    for name, limit in FIELD_LIMITS.items():
        if not limit.fits(sub.text(name)):
            errors[name] = messages.field_error(limit.reason)
    stages_text = str(sub.submission.get("stages") or "").rstrip()
    if not stages_text.strip() and template:
        stages_text = render.TEMPLATE_STAGES
    stages: tuple[StageTemplate, ...] = ()
    if "stages" not in errors:
        try:
            stages = playbook_text.parse(stages_text)
        except playbook_text.PlaybookTextError as exc:
            errors["stages"] = render.text_problems(exc.problems)
    reminder = sub.text("reminder") or "0"
    if not reminder.isdigit() or int(reminder) not in REMINDER_CHOICES:
        errors["reminder"] = messages.field_error("bad_reminder")
    invite: list[str] = []
    broadcast = ""
    try:
        names = sub.text("invite").replace(",", " ").split()
        invite = await svc.playbooks.team_users(team_id, names, field="invite")
    except InputError as exc:
        errors.setdefault("invite", _field_error(exc))
    try:
        broadcast = await svc.playbooks.team_channel(
            team_id, sub.text("broadcast"), field="broadcast", user_id=sub.user_id
        )
    except InputError as exc:
        errors["broadcast"] = _field_error(exc)
    if errors:
        return None, errors
    draft = PlaybookDraft(
        title=title,
        description=sub.text("description") or (render.TEMPLATE_DESCRIPTION if template else ""),
        private=_flag(sub.submission.get("private"), True),
        broadcast_channel_id=broadcast,
        reminder_minutes=int(reminder),
        status_template=sub.text("status_template") or (render.TEMPLATE_STATUS if template else ""),
        invite_user_ids=tuple(invite),
        team_wide=_flag(sub.submission.get("team_wide"), False),
        stages=stages,
    )
    return draft, {}


def _where(claims: Claims) -> tuple[str, str]:
    return str(claims.p.get("team", "")), str(claims.p.get("channel", ""))


async def submit_create(svc: Services, sub: DialogSubmission, claims: Claims) -> DialogResponse:
    team_id, channel_id = _where(claims)
    caller = await svc.playbooks.caller(team_id, sub.user_id)
    draft, errors = await _draft(svc, sub, team_id, creating=True)
    if draft is None:
        return DialogResponse(errors=errors)
    pb = await svc.playbooks.create(caller, draft, once=one_shot(claims))
    return await _confirm(svc, sub.user_id, channel_id, render.created(pb))


async def submit_edit(svc: Services, sub: DialogSubmission, claims: Claims) -> DialogResponse:
    team_id, channel_id = _where(claims)
    caller = await svc.playbooks.caller(team_id, sub.user_id)
    draft, errors = await _draft(svc, sub, team_id, creating=False)
    if draft is None:
        return DialogResponse(errors=errors)
    pb = await svc.playbooks.update(
        caller, str(claims.p.get("playbook", "")), draft, once=one_shot(claims)
    )
    return await _confirm(svc, sub.user_id, channel_id, render.updated(pb))


async def submit_delete(svc: Services, sub: DialogSubmission, claims: Claims) -> DialogResponse:
    team_id, channel_id = _where(claims)
    caller = await svc.playbooks.caller(team_id, sub.user_id)
    pb = await svc.playbooks.delete(
        caller, str(claims.p.get("playbook", "")), once=one_shot(claims)
    )
    return await _confirm(svc, sub.user_id, channel_id, render.deleted(pb))


async def submit_import(svc: Services, sub: DialogSubmission, claims: Claims) -> DialogResponse:
    team_id, channel_id = _where(claims)
    caller = await svc.playbooks.caller(team_id, sub.user_id)
    text = str(sub.submission.get("export") or "")
    if not limits.IMPORT_PASTE.fits(text):
        return DialogResponse(errors={"export": messages.field_error(limits.IMPORT_PASTE.reason)})
    try:
        report = await svc.playbooks.import_draft(caller, read(text), once=one_shot(claims))
    except NotImportable as exc:
        return DialogResponse(
            errors={"export": render.import_field_error(exc.reason, exc.problems)}
        )
    except InputError as exc:
        return DialogResponse(errors={"export": _field_error(exc)})
    return await _confirm(svc, sub.user_id, channel_id, render.imported(report))


async def _confirm(svc: Services, user_id: str, channel_id: str, text: str) -> DialogResponse:
    """Tell the person the change is made (it is saved, with the dialog's nonce). If
    Mattermost does not show the confirmation, the dialog says it instead: a made change is
    never answered as an error to try again."""
    try:
        await svc.notifier.tell(user_id, channel_id, text)
    except (ChatUnavailable, ChatRefused) as exc:
        log.warning("playbook_confirmation_not_shown", user_id=user_id, error=repr(exc))
        return DialogResponse(error=messages.done_unconfirmed(text))
    return DialogResponse()
