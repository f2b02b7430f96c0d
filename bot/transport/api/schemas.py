"""The REST API's bodies: what callers send and what warroom answers, as pydantic models.

These models are the single source of the OpenAPI description (:mod:`.openapi`): nothing
about a body is written by hand anywhere else. Incidents, tasks and playbooks are shown
from the domain models; requests carry the same limits as chat (``bot/domain/limits.py``),
checked by the same :meth:`~bot.domain.limits.Limit.check` so both paths refuse alike.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.limits import (
    IMPORT_FILE,
    INCIDENT_DESCRIPTION,
    INCIDENT_NAME,
    PLAYBOOK_DESCRIPTION,
    PLAYBOOK_TITLE,
    SEVERITY_LEVEL,
    STATUS_MESSAGE,
    STATUS_TEMPLATE,
    TASK_TITLE,
    Limit,
)
from bot.domain.models import Incident, IncidentStatus, Playbook, Stage, TaskState, TimelineEvent
from bot.domain.webhooks import Delivery

ID = r"^[a-z0-9]{26}$"  # a Mattermost id (and warroom's incident and playbook ids)
_EX_ID = "8dj1rzp3hbgwmx5nq7tk4sy6ca"


def _bounds(limit: Limit) -> Any:
    """min/maxLength of ``limit`` in the OpenAPI description (pydantic does not check them)."""
    return Field(
        json_schema_extra={
            "maxLength": limit.most,
            **({"minLength": limit.least} if limit.least else {}),
        }
    )


# Text fields bounded by a limit of chat: checked by :func:`check_limits` with the limit's own
# ``check``, so a text is refused with the same words on every path.
IncidentName = Annotated[str, INCIDENT_NAME, _bounds(INCIDENT_NAME)]
IncidentDescription = Annotated[str, INCIDENT_DESCRIPTION, _bounds(INCIDENT_DESCRIPTION)]
StatusMessage = Annotated[str, STATUS_MESSAGE, _bounds(STATUS_MESSAGE)]
TaskTitle = Annotated[str, TASK_TITLE, _bounds(TASK_TITLE)]
PlaybookTitle = Annotated[str, PLAYBOOK_TITLE, _bounds(PLAYBOOK_TITLE)]
PlaybookDescription = Annotated[str, PLAYBOOK_DESCRIPTION, _bounds(PLAYBOOK_DESCRIPTION)]
StatusTemplate = Annotated[str, STATUS_TEMPLATE, _bounds(STATUS_TEMPLATE)]
ImportText = Annotated[str, IMPORT_FILE, _bounds(IMPORT_FILE)]


def check_limits(body: BaseModel) -> None:
    """Check every limit-bounded text field of ``body`` (the aliases above).

    Raises :class:`~bot.errors.InputError` (the limit's reason, the field's name) for the first
    text that does not fit.
    """
    for name, info in type(body).model_fields.items():
        for limit in info.metadata:
            if isinstance(limit, Limit):
                limit.check(getattr(body, name), field=name)


class Body(BaseModel):
    """A request body: unknown fields are refused (a typo is said, not ignored)."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """A response body."""

    model_config = ConfigDict(extra="forbid")


# ---- errors -------------------------------------------------------------------------------


class ErrorDetail(Out):
    """``id``: a stable key for programs; ``message``: for people; ``field``: the body or
    query field at fault, "" when none."""

    id: str = Field(examples=["not_channel_member"])
    message: str = Field(examples=["Only members of the incident channel can do that."])
    field: str = Field(default="", examples=[""])


class ErrorOut(Out):
    """Every error the API answers has this one shape."""

    error: ErrorDetail


# ---- incidents ----------------------------------------------------------------------------


class TaskOut(Out):
    id: str = Field(examples=["a1b2c3d4"])
    title: str = Field(examples=["Acknowledge the alert"])
    description: str = ""
    command: str = ""
    state: TaskState
    assignee_id: str = ""
    done_at: int | None = Field(default=None, description="ms since the epoch")
    done_by: str = ""


class StageOut(Out):
    title: str = Field(examples=["Triage"])
    tasks: list[TaskOut]

    @classmethod
    def of(cls, stage: Stage) -> StageOut:
        return cls(
            title=stage.title,
            tasks=[
                TaskOut.model_validate(t.model_dump(exclude={"last_run_at"})) for t in stage.tasks
            ],
        )


class IncidentOut(Out):
    """An incident as a list shows it. Times are milliseconds since the epoch (UTC)."""

    id: str = Field(examples=[_EX_ID])
    team_id: str
    channel_id: str
    channel_name: str = Field(examples=["db-down"])
    name: str = Field(examples=["DB down"])
    description: str = ""
    playbook_id: str = ""
    playbook_title: str = Field(default="", examples=["Outage"])
    reporter_id: str
    commander_id: str
    status: IncidentStatus
    severity: str = Field(default="", examples=["SEV2"])
    created_at: int = Field(examples=[1764480000000])
    ended_at: int | None = None
    active_stage: int = Field(ge=0, description="index into stages, 0-based")

    @classmethod
    def of(cls, incident: Incident) -> IncidentOut:
        return cls.model_validate(incident.model_dump(include=set(cls.model_fields)))


class StatusUpdateOut(Out):
    id: int
    author_id: str
    message: str = Field(examples=["Impact: checkout down for 5% of users"])
    post_id: str
    created_at: int

    @classmethod
    def of(cls, update: BaseModel) -> StatusUpdateOut:
        """From a stored status update (any model with these fields)."""
        return cls.model_validate(update.model_dump(include=set(cls.model_fields)))


class TimelineEventOut(Out):
    kind: str = Field(examples=["commander_changed"])
    at: int
    actor_id: str = ""
    data: dict[str, str | int | bool | None] = Field(default_factory=dict)

    @classmethod
    def of(cls, event: TimelineEvent) -> TimelineEventOut:
        data = {
            k: v if isinstance(v, str | int | bool) or v is None else str(v)
            for k, v in event.data.items()
        }
        return cls(kind=event.kind.value, at=event.at, actor_id=event.actor_id, data=data)


class IncidentDetailOut(IncidentOut):
    """One incident with its checklist, status updates (oldest first) and timeline."""

    stages: list[StageOut]
    status_updates: list[StatusUpdateOut]
    timeline: list[TimelineEventOut]


class IncidentPage(Out):
    """One page of incidents; pass ``next_cursor`` as ``cursor`` for the next ("" at the end)."""

    items: list[IncidentOut]
    next_cursor: str = ""
    unknown: int = Field(
        default=0,
        description="private incidents left out because warroom does not know their"
        " channel's members right now (it lists them again meanwhile; ask again shortly)",
    )


# ---- requests on incidents ----------------------------------------------------------------


class StartIn(Body):
    """Start an incident with a playbook the caller may use (as the start dialog)."""

    team_id: str = Field(pattern=ID, examples=[_EX_ID])
    playbook_id: str = Field(examples=[_EX_ID])
    name: IncidentName = Field(examples=["DB down"])
    description: IncidentDescription = ""
    severity: str = Field(default="", max_length=SEVERITY_LEVEL.most, examples=["SEV2"])


class CommanderIn(Body):
    username: str = Field(min_length=1, max_length=65, examples=["@bob"])


class StatusIn(Body):
    message: StatusMessage = Field(examples=["Impact: checkout is down."])
    reminder_seconds: int = Field(default=0, ge=0, le=7 * 24 * 3600)


class SeverityIn(Body):
    level: str = Field(min_length=1, max_length=SEVERITY_LEVEL.most, examples=["SEV1"])


class TaskCheckIn(Body):
    done: bool = True


class TaskStateIn(Body):
    state: TaskState


class TaskAssignIn(Body):
    """``username`` "" unassigns."""

    username: str = Field(default="", max_length=65, examples=["@alice"])


class TaskAddIn(Body):
    stage: int = Field(ge=0, le=999, description="index of the stage, 0-based")
    title: TaskTitle = Field(examples=["Page the database owner"])


# ---- webhook deliveries -------------------------------------------------------------------


class DeliveryOut(Out):
    """One webhook delivery: ``state`` pending (retrying), delivered, failed (gave up after
    25 hours), disabled (the endpoint answered 410) or refused (the target resolved only to
    addresses it may not reach; ``last_error`` says which)."""

    id: str = Field(description="the event id (Warroom-Event-Id)")
    event_type: str = Field(examples=["started"])
    url: str
    state: str = Field(examples=["delivered"])
    attempts: int
    last_status: int | None = None
    last_error: str = ""
    created_at: int
    settled_at: int | None = None

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        return cls.model_validate(delivery.model_dump(mode="json", include=set(cls.model_fields)))


class DeliveryList(Out):
    items: list[DeliveryOut]


class WebhookEnableIn(Body):
    """An endpoint to send to again after it answered 410 Gone (the exact ``url`` of a
    playbook's webhook, as the deliveries show it)."""

    url: str = Field(min_length=1, max_length=2000, examples=["https://status.example.com/hook"])


class WebhookEnableOut(Out):
    """``endpoints``: how many playbooks' webhooks with this ``url`` were re-enabled (0 when
    it was not disabled). Deliveries already marked disabled are not resent."""

    url: str
    endpoints: int


# ---- playbooks and stats ------------------------------------------------------------------


class StageTemplateOut(Out):
    title: str
    tasks: list[str] = Field(description="the tasks' titles")


class PlaybookOut(Out):
    id: str = Field(examples=[_EX_ID])
    title: str = Field(examples=["Outage"])
    team_id: str
    description: str = ""
    private_channel: bool
    reminder_minutes: int | None = None
    source: str = Field(examples=["file"], description='"file" (playbooks.yaml) or "chat"')
    stages: list[StageTemplateOut]

    @classmethod
    def of(cls, pb: Playbook) -> PlaybookOut:
        return cls(
            id=pb.id,
            title=pb.title,
            team_id=pb.team_id,
            description=pb.description,
            private_channel=pb.private_channel,
            reminder_minutes=pb.reminder_minutes,
            source=pb.source,
            stages=[
                StageTemplateOut(title=s.title, tasks=[t.title for t in s.tasks]) for s in pb.stages
            ],
        )


class PlaybookList(Out):
    items: list[PlaybookOut]


class StatsGroupOut(Out):
    started: int
    ended: int
    ongoing: int
    mean_ms_to_end: int | None = None
    median_ms_to_end: int | None = None


class StatsOut(Out):
    """Incidents the caller may view, started or ended in the last ``days`` days."""

    days: int
    total: StatsGroupOut
    by_playbook: dict[str, StatsGroupOut]
    by_severity: dict[str, StatsGroupOut]


# ---- playbooks: create, update, import, export --------------------------------------------


class TaskIn(Body):
    title: str = Field(examples=["Acknowledge the alert"])
    description: str = ""
    command: str = Field(default="", examples=["/echo paging the owner"])


class StageIn(Body):
    title: str = Field(examples=["Triage"])
    tasks: list[TaskIn] = Field(max_length=200)


class PlaybookIn(Body):
    """A chat playbook, as the create and edit dialogs set it (members: the creator; webhooks
    and signals belong to playbooks.yaml). ``invite``: usernames; ``broadcast_channel_id``:
    a channel of the team that the caller can read, "" for none."""

    title: PlaybookTitle = Field(examples=["Service outage"])
    description: PlaybookDescription = ""
    private: bool = True
    broadcast_channel_id: str = Field(default="", pattern=r"^([a-z0-9]{26})?$")
    reminder_minutes: int = Field(default=0, description="0, 15, 30, 60, 240 or 1440")
    status_template: StatusTemplate = ""
    invite: list[str] = Field(default_factory=list, max_length=50, examples=[["@alice"]])
    team_wide: bool = False
    stages: list[StageIn] = Field(max_length=50)


class PlaybookCreateIn(PlaybookIn):
    team_id: str = Field(pattern=ID, examples=[_EX_ID])


class PlaybookImportIn(Body):
    """What ``/incident playbook import`` takes: warroom's YAML export, or a Mattermost
    Incident Management / Playbooks JSON export."""

    team_id: str = Field(pattern=ID, examples=[_EX_ID])
    text: ImportText = Field(examples=["playbooks:\n- title: Outage\n  team: acme\n  ..."])


class PlaybookImportOut(Out):
    playbook: PlaybookOut
    unmapped: list[str] = Field(description="what has no equivalent in warroom (left out)")
    unknown_users: list[str]
    unknown_channels: list[str]


class PlaybookExportOut(Out):
    yaml: str = Field(description="the playbook as playbooks.yaml accepts it")
