"""Incidents through the API: list (filters, sort, cursor), one, and every change chat offers.

Each handler applies the rights of chat to the caller (bot/services/directory.py): an incident
the caller may not view is "not found" (as in chat, its existence is not revealed); a change
needs membership of the incident channel (or system admin), like the slash commands.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.commands.incident import USERNAME
from bot.domain import checklist
from bot.domain.models import Incident, IncidentStatus, TaskState, new_task_id
from bot.domain.stages import title_problem
from bot.errors import InputError, NotFound
from bot.services.checklist import Change, ChecklistService
from bot.services.container import Services
from bot.services.ports import IncidentFilter, IncidentSort, SortKey
from bot.services.starts import StartRequest
from bot.transport.api.schemas import (
    ID,
    CommanderIn,
    IncidentDetailOut,
    IncidentOut,
    IncidentPage,
    SeverityIn,
    StageOut,
    StartIn,
    StatusIn,
    StatusUpdateOut,
    TaskAddIn,
    TaskAssignIn,
    TaskCheckIn,
    TaskStateIn,
    TimelineEventOut,
)
from bot.transport.api.teams import require_team, teams_of

Sort = Literal["created_at", "-created_at", "ended_at", "-ended_at", "name", "-name"]


class IncidentQuery(BaseModel):
    """Filters of ``GET /incidents``; times in ms since the epoch, bounds inclusive."""

    model_config = ConfigDict(extra="forbid")

    team: str | None = Field(default=None, pattern=ID, description="team id")
    status: IncidentStatus | None = None
    commander: str | None = Field(default=None, pattern=ID, description="user id")
    playbook: str | None = Field(default=None, max_length=64, description="playbook id")
    severity: str | None = Field(default=None, max_length=32)
    started_after: int | None = Field(default=None, ge=0)
    started_before: int | None = Field(default=None, ge=0)
    ended_after: int | None = Field(default=None, ge=0)
    ended_before: int | None = Field(default=None, ge=0)
    sort: Sort = "-created_at"
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=512)


class IncidentsApi:
    """The incident handlers, over the app's :class:`Services`."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    # ---- reading ------------------------------------------------------------------------

    async def list(self, user_id: str, query: IncidentQuery) -> IncidentPage:
        teams = (
            [await require_team(self.svc, user_id, query.team)]
            if query.team
            else await teams_of(self.svc, user_id)
        )
        field: IncidentSort = query.sort.lstrip("-")  # type: ignore[assignment]
        after = decode_cursor(query.cursor, query.sort) if query.cursor else None
        found, unknown = await self.svc.incidents.page_for(
            teams,
            user_id,
            where=_filter(query),
            sort=field,
            descending=query.sort.startswith("-"),
            after=after,
            limit=query.limit + 1,  # one more: whether there is a next page
        )
        page = found[: query.limit]
        more = len(found) > query.limit
        return IncidentPage(
            items=[IncidentOut.of(i) for i in page],
            next_cursor=encode_cursor(query.sort, _key(page[-1], field)) if more else "",
            unknown=unknown,
        )

    async def viewable(self, incident_id: str, user_id: str) -> Incident:
        """The incident if ``user_id`` may view it; :class:`NotFound` otherwise (also when
        it exists: chat never tells a private incident exists either)."""
        incident = await self.svc.incidents.store.get(incident_id)
        if incident is None or not await self.svc.directory.can_view(incident, user_id):
            raise NotFound("incident")
        return incident

    async def changeable(self, incident_id: str, user_id: str) -> Incident:
        """Viewable, and the caller is a member of its channel (or a system admin)."""
        incident = await self.viewable(incident_id, user_id)
        await self.svc.directory.require_member(incident, user_id)
        return incident

    async def detail(self, incident_id: str, user_id: str) -> IncidentDetailOut:
        return await self.shown(await self.viewable(incident_id, user_id))

    async def shown(self, incident: Incident) -> IncidentDetailOut:
        """``incident`` as the API shows one (also the incident of a webhook event)."""
        updates = await self.svc.status.store.all(incident.id)
        timeline = await self.svc.incidents.store.timeline(incident.id)
        base = IncidentOut.of(incident).model_dump()
        return IncidentDetailOut(
            **base,
            stages=[StageOut.of(s) for s in incident.stages],
            status_updates=[StatusUpdateOut.of(u) for u in updates if u.deleted_at is None],
            timeline=[TimelineEventOut.of(e) for e in timeline],
        )

    # ---- changing -----------------------------------------------------------------------

    async def start(self, user_id: str, body: StartIn) -> IncidentDetailOut:
        """As the start dialog: a playbook the caller may use, a known severity."""
        await require_team(self.svc, user_id, body.team_id)
        severity = self._level(body.severity, field="severity") if body.severity else ""
        playbook = await self.svc.playbooks.get_usable(body.team_id, user_id, body.playbook_id)
        if playbook is None:
            raise InputError("playbook_not_usable", field="playbook_id")
        incident = await self.svc.incidents.start(
            StartRequest(
                reporter_id=user_id,
                team_id=body.team_id,
                origin_channel_id="",  # the reporter is told by direct message
                playbook=playbook,
                name=body.name.strip(),
                description=body.description,
                severity=severity,
            )
        )
        return await self.shown(incident)

    async def end(self, incident_id: str, user_id: str) -> IncidentDetailOut:
        await self.changeable(incident_id, user_id)
        return await self.shown(await self.svc.incidents.end(incident_id, user_id))

    async def restart(self, incident_id: str, user_id: str) -> IncidentDetailOut:
        await self.changeable(incident_id, user_id)
        return await self.shown(await self.svc.incidents.restart(incident_id, user_id))

    async def commander(
        self, incident_id: str, user_id: str, body: CommanderIn
    ) -> IncidentDetailOut:
        if not USERNAME.match(body.username.lower()):
            raise InputError("bad_username", field="username")
        await self.changeable(incident_id, user_id)
        try:
            saved = await self.svc.incidents.change_commander(incident_id, user_id, body.username)
        except NotFound as exc:
            raise InputError("unknown_user", field="username") from exc
        return await self.shown(saved)

    async def status(self, incident_id: str, user_id: str, body: StatusIn) -> StatusUpdateOut:
        if (
            body.reminder_seconds
            and body.reminder_seconds not in self.svc.status.reminder_choices()
        ):
            raise InputError("reminder_choice", field="reminder_seconds")
        await self.changeable(incident_id, user_id)
        update = await self.svc.status.submit(
            incident_id=incident_id,
            author_id=user_id,
            message=body.message,
            reminder_seconds=body.reminder_seconds,
        )
        return StatusUpdateOut.of(update)

    async def severity(self, incident_id: str, user_id: str, body: SeverityIn) -> IncidentDetailOut:
        level = self._level(body.level, field="level")
        incident = await self.changeable(incident_id, user_id)
        await self.svc.review.set_severity(incident, user_id, level)
        return await self.shown(await self.svc.incidents.get(incident_id))

    def _level(self, given: str, *, field: str) -> str:
        levels = self.svc.severity_levels()
        level = next((lv for lv in levels if lv.lower() == given.lower()), None)
        if level is None:
            raise InputError("unknown_severity", field=field, detail=", ".join(levels))
        return level

    # ---- tasks --------------------------------------------------------------------------

    async def _task_change(
        self, incident_id: str, task_id: str, user_id: str, change: Change
    ) -> IncidentDetailOut:
        incident = await self.changeable(incident_id, user_id)
        if not any(t.id == task_id for s in incident.stages for t in s.tasks):
            raise NotFound("task")
        saved, _ = await ChecklistService.of(self.svc).change(incident_id, change)
        return await self.shown(saved)

    async def check(
        self, incident_id: str, task_id: str, user_id: str, body: TaskCheckIn
    ) -> IncidentDetailOut:
        now = self.svc.clock.now_ms()
        return await self._task_change(
            incident_id,
            task_id,
            user_id,
            lambda cur: checklist.set_done(
                cur, task_id=task_id, done=body.done, actor_id=user_id, now=now
            ),
        )

    async def state(
        self, incident_id: str, task_id: str, user_id: str, body: TaskStateIn
    ) -> IncidentDetailOut:
        now = self.svc.clock.now_ms()
        state: TaskState = body.state
        return await self._task_change(
            incident_id,
            task_id,
            user_id,
            lambda cur: checklist.set_state(
                cur, task_id=task_id, state=state, actor_id=user_id, now=now
            ),
        )

    async def remove(self, incident_id: str, task_id: str, user_id: str) -> IncidentDetailOut:
        now = self.svc.clock.now_ms()
        return await self._task_change(
            incident_id,
            task_id,
            user_id,
            lambda cur: checklist.remove_task(cur, task_id=task_id, actor_id=user_id, now=now),
        )

    async def assign(
        self, incident_id: str, task_id: str, user_id: str, body: TaskAssignIn
    ) -> IncidentDetailOut:
        incident = await self.changeable(incident_id, user_id)
        if not any(t.id == task_id for s in incident.stages for t in s.tasks):
            raise NotFound("task")
        assignee = ""
        if body.username:
            if not USERNAME.match(body.username.lower()):
                raise InputError("bad_username", field="username")
            try:
                assignee = (await self.svc.directory.by_username(body.username)).id
            except NotFound as exc:
                raise InputError("unknown_user", field="username") from exc
        await ChecklistService.of(self.svc).assign(
            incident, actor_id=user_id, task_id=task_id, user_id=assignee
        )
        return await self.shown(await self.svc.incidents.get(incident_id))

    async def add(self, incident_id: str, user_id: str, body: TaskAddIn) -> IncidentDetailOut:
        incident = await self.changeable(incident_id, user_id)
        if why := title_problem(body.title):
            raise InputError(why, field="title")
        if body.stage >= len(incident.stages):
            raise InputError("stage_out_of_range", field="stage")
        fields = checklist.TaskFields(title=body.title)
        task_id = new_task_id()
        now = self.svc.clock.now_ms()
        saved, _ = await ChecklistService.of(self.svc).change(
            incident_id,
            lambda cur: checklist.add_task(
                cur, stage=body.stage, task_id=task_id, fields=fields, actor_id=user_id, now=now
            ),
        )
        return await self.shown(saved)


# ---- filtering, sorting, pages ----------------------------------------------------------


def _filter(q: IncidentQuery) -> IncidentFilter:
    """The query's filters, for the store (which applies them in SQL)."""
    return IncidentFilter(
        status=q.status,
        commander_id=q.commander,
        playbook_id=q.playbook,
        severity=q.severity,
        started_after=q.started_after,
        started_before=q.started_before,
        ended_after=q.ended_after,
        ended_before=q.ended_before,
    )


Key = SortKey


def _key(incident: Incident, field: str) -> Key:
    if field == "name":
        return (incident.name.lower(), incident.id)
    if field == "ended_at":
        return (incident.ended_at if incident.ended_at is not None else -1, incident.id)
    return (incident.created_at, incident.id)


def encode_cursor(sort: str, key: Key) -> str:
    """An opaque cursor: the sort and the last item's sort key (base64url of JSON)."""
    raw = json.dumps([sort, key[0], key[1]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> Key:
    """The key a cursor of :func:`encode_cursor` holds; :class:`InputError` ``bad_cursor``
    when it is not one, or was given out for another sort."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InputError("bad_cursor", field="cursor") from exc
    if (
        not isinstance(data, list)
        or len(data) != 3
        or data[0] != sort
        or type(data[1]) is not (str if sort.lstrip("-") == "name" else int)
        or not isinstance(data[2], str)
    ):
        raise InputError("bad_cursor", field="cursor")
    return (data[1], data[2])
