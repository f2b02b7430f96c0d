"""Playbooks through the API: create, update, delete, export, import — as in chat.

The same services and rules as ``/incident playbook …``: authors are team members (not
guests), only a playbook's members (and system admins) change it, playbooks.yaml ones are
read-only, every stage and task rule of every path (bot/domain/stages.py) applies.
"""

from __future__ import annotations

from bot.domain.models import Playbook, StageTemplate, TaskTemplate
from bot.domain.stages import stage_problems
from bot.errors import InputError, NotFound
from bot.render import playbooks as playbook_words
from bot.render.limits import stage_problem
from bot.services.container import Services
from bot.services.playbook_file import REMINDER_CHOICES
from bot.services.playbook_import import NotImportable, read
from bot.services.playbook_rules import Caller, PlaybookDraft
from bot.transport.api.errors import ApiError
from bot.transport.api.schemas import (
    PlaybookCreateIn,
    PlaybookExportOut,
    PlaybookImportIn,
    PlaybookImportOut,
    PlaybookIn,
    PlaybookOut,
)
from bot.transport.api.teams import require_team


class PlaybooksApi:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def _draft(self, team_id: str, user_id: str, body: PlaybookIn) -> PlaybookDraft:
        stages = tuple(
            StageTemplate(
                title=s.title,
                tasks=tuple(
                    TaskTemplate(title=t.title, description=t.description, command=t.command)
                    for t in s.tasks
                ),
            )
            for s in body.stages
        )
        problems = stage_problems(stages)
        if problems:
            first = problems[0]
            field = "stages" if first.stage is None else f"stages.{first.stage}"
            if first.task is not None:
                field += f".tasks.{first.task}"
            raise ApiError(400, first.reason, stage_problem(first), field)
        if body.reminder_minutes not in REMINDER_CHOICES:
            raise InputError("bad_reminder", field="reminder_minutes")
        invite = await self.svc.playbooks.team_users(team_id, body.invite, field="invite")
        broadcast = await self.svc.playbooks.team_channel(
            team_id, body.broadcast_channel_id, field="broadcast_channel_id", user_id=user_id
        )
        return PlaybookDraft(
            title=body.title.strip(),
            description=body.description,
            private=body.private,
            broadcast_channel_id=broadcast,
            reminder_minutes=body.reminder_minutes,
            status_template=body.status_template,
            invite_user_ids=tuple(invite),
            team_wide=body.team_wide,
            stages=stages,
        )

    async def _caller_of(self, playbook_id: str, user_id: str) -> tuple[Caller, Playbook]:
        """The caller in the playbook's team, if they may see it; else not found."""
        pb = await self.svc.playbooks.stored(playbook_id)
        if pb is None:
            raise NotFound("playbook")
        caller = await self.svc.playbooks.caller(pb.team_id, user_id)
        if not caller.sees(pb):
            raise NotFound("playbook")
        return caller, pb

    async def create(self, user_id: str, body: PlaybookCreateIn) -> PlaybookOut:
        await require_team(self.svc, user_id, body.team_id)
        caller = await self.svc.playbooks.caller(body.team_id, user_id)
        self.svc.playbooks.require_author(caller)
        draft = await self._draft(body.team_id, user_id, body)
        return PlaybookOut.of(await self.svc.playbooks.create(caller, draft))

    async def update(self, playbook_id: str, user_id: str, body: PlaybookIn) -> PlaybookOut:
        caller, pb = await self._caller_of(playbook_id, user_id)
        await self.svc.playbooks.editable(caller, playbook_id)  # refusals before the checks
        draft = await self._draft(pb.team_id, user_id, body)
        return PlaybookOut.of(await self.svc.playbooks.update(caller, playbook_id, draft))

    async def delete(self, playbook_id: str, user_id: str) -> PlaybookOut:
        caller, _ = await self._caller_of(playbook_id, user_id)
        return PlaybookOut.of(await self.svc.playbooks.delete(caller, playbook_id))

    async def export(self, playbook_id: str, user_id: str) -> PlaybookExportOut:
        _, pb = await self._caller_of(playbook_id, user_id)
        return PlaybookExportOut(yaml=await self.svc.playbooks.export(pb, user_id))

    async def import_(self, user_id: str, body: PlaybookImportIn) -> PlaybookImportOut:
        await require_team(self.svc, user_id, body.team_id)
        caller = await self.svc.playbooks.caller(body.team_id, user_id)
        try:
            report = await self.svc.playbooks.import_draft(caller, read(body.text))
        except NotImportable as exc:
            text = playbook_words.import_failed(exc.reason, exc.problems)
            raise ApiError(400, exc.reason, text, "text") from None
        if report.playbook is None:  # import_draft saves one or raises
            raise RuntimeError("the import saved no playbook")
        return PlaybookImportOut(
            playbook=PlaybookOut.of(report.playbook),
            unmapped=list(report.draft.unmapped),
            unknown_users=list(report.unknown_users),
            unknown_channels=list(report.unknown_channels),
        )
