"""The one-line start: ``start "DB down" with "Service outage" sev SEV2`` starts at once.

It checks what the start dialog's submission checks (name length, a playbook the caller may
use, a known severity) and starts through the same service, so both ways behave alike.
"""

from __future__ import annotations

from bot.domain.limits import INCIDENT_NAME
from bot.domain.naming import display_name
from bot.errors import InputError
from bot.services.container import Services
from bot.services.starts import StartRequest

from .language import OneLineStart
from .router import CommandRequest, Reply


async def start_now(svc: Services, req: CommandRequest, line: OneLineStart) -> Reply:
    """Start the incident described by ``line`` for ``req.user_id`` in ``req.team_id``.

    Raises :class:`InputError` (name length, severity), ``NotFound``/``InputError`` from
    the playbook lookup (unknown or ambiguous), ``PermissionDenied`` (guests). The reporter
    is told by the start itself, as after the dialog.
    """
    name = display_name(line.name)
    INCIDENT_NAME.check(name, field="start")
    severity = ""
    if line.severity:
        levels = svc.severity_levels()
        severity = next((lv for lv in levels if lv.lower() == line.severity.lower()), "")
        if not severity:
            raise InputError("unknown_severity", field="start", detail=", ".join(levels))
    caller = await svc.playbooks.caller(req.team_id, req.user_id)
    playbook = await svc.playbooks.find(caller, line.playbook)
    await svc.incidents.start(
        StartRequest(
            reporter_id=req.user_id,
            team_id=req.team_id,
            origin_channel_id=req.channel_id,
            playbook=playbook,
            name=name,
            description="",
            severity=severity,
        )
    )
    return Reply()
