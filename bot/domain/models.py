"""Pure domain models: incidents, their stages and tasks, playbooks, timeline events."""

from __future__ import annotations

import secrets
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TaskState(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    SKIPPED = "skipped"


class IncidentStatus(StrEnum):
    ONGOING = "ongoing"
    ENDED = "ended"


class Webhook(BaseModel):
    """A playbook's outgoing webhook (playbooks.yaml only): where to, which event types
    (bot/domain/webhooks.py), and the environment variable holding the signing secret."""

    model_config = ConfigDict(frozen=True)

    url: str
    events: tuple[str, ...]
    secret_env: str


class TaskTemplate(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    description: str = ""
    command: str = ""


class StageTemplate(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    tasks: tuple[TaskTemplate, ...] = ()


class Playbook(BaseModel):
    """A playbook as warroom uses it: every user and channel already resolved to ids."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    team_id: str
    description: str = ""
    stages: tuple[StageTemplate, ...] = ()
    private_channel: bool = True
    broadcast_channel_id: str = ""
    reminder_minutes: int | None = None
    status_template: str = ""
    invite_user_ids: tuple[str, ...] = ()
    member_ids: tuple[str, ...] = ()
    team_wide: bool = False
    source: str = "file"
    # Who chose ``broadcast_channel_id`` in chat: warroom posts there on their say-so, so they
    # must still be able to read it when an incident starts (issue 9). "" for playbooks.yaml
    # (the operator's own configuration) and for chat playbooks saved before this was kept.
    broadcast_set_by: str = ""
    run_commands: tuple[str, ...] = ()  # triggers Run may execute as the bot (file only)
    # Signals (playbooks.yaml only): a message in one of these channels that contains one
    # of these words or phrases gets one offer to start an incident with this playbook.
    signal_keywords: tuple[str, ...] = ()
    signal_channel_ids: tuple[str, ...] = ()
    # Outgoing webhooks (playbooks.yaml only, issue 14): bot.domain.webhooks.Webhook.
    webhooks: tuple[Webhook, ...] = ()


def new_task_id() -> str:
    """A short stable id for a task: buttons carry it, so moves and edits never misdirect."""
    return secrets.token_hex(4)


class Task(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=new_task_id)
    title: str
    description: str = ""
    command: str = ""
    state: TaskState = TaskState.OPEN
    assignee_id: str = ""
    done_at: int | None = None
    done_by: str = ""
    last_run_at: int | None = None

    @classmethod
    def from_template(cls, template: TaskTemplate) -> Task:
        return cls(title=template.title, description=template.description, command=template.command)


class Stage(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    tasks: tuple[Task, ...] = ()

    @classmethod
    def from_template(cls, template: StageTemplate) -> Stage:
        return cls(title=template.title, tasks=tuple(Task.from_template(t) for t in template.tasks))

    @property
    def done_count(self) -> int:
        return sum(1 for t in self.tasks if t.state in (TaskState.DONE, TaskState.SKIPPED))


class Incident(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    team_id: str
    channel_id: str
    channel_name: str
    name: str
    description: str = ""
    playbook_id: str = ""
    playbook_title: str = ""
    reporter_id: str
    commander_id: str
    status: IncidentStatus = IncidentStatus.ONGOING
    created_at: int
    ended_at: int | None = None
    stages: tuple[Stage, ...] = ()
    active_stage: int = 0
    private_channel: bool = True
    broadcast_channel_id: str = ""
    run_commands: tuple[str, ...] = ()  # the playbook's, copied at start
    reminder_minutes: int | None = None
    status_template: str = ""
    severity: str = ""
    origin_post_id: str = ""
    card_post_id: str = ""
    checklist_post_id: str = ""  # the checklist's first post
    checklist_more_post_ids: tuple[str, ...] = ()  # its further posts, when one can't hold it
    # The incident channel was archived in Mattermost (followed: channel_deleted/restored).
    channel_archived: bool = False
    version: int = 0

    @model_validator(mode="before")
    @classmethod
    def _legacy_task_ids(cls, data: Any) -> Any:
        """Tasks saved before tasks had ids get one from their place, the same on every load."""
        if not isinstance(data, dict) or not isinstance(data.get("stages"), list | tuple):
            return data
        stages = []
        for s, stage in enumerate(data["stages"]):
            if isinstance(stage, dict) and isinstance(stage.get("tasks"), list | tuple):
                tasks = [
                    {**t, "id": f"s{s}t{i}"} if isinstance(t, dict) and "id" not in t else t
                    for i, t in enumerate(stage["tasks"])
                ]
                stage = {**stage, "tasks": tasks}
            stages.append(stage)
        return {**data, "stages": stages}

    @property
    def checklist_post_ids(self) -> tuple[str, ...]:
        """Every post of the checklist, in order (empty until the first one exists)."""
        if not self.checklist_post_id:
            return ()
        return (self.checklist_post_id, *self.checklist_more_post_ids)

    @property
    def is_ongoing(self) -> bool:
        return self.status is IncidentStatus.ONGOING

    @property
    def current_stage(self) -> Stage | None:
        if not self.stages:
            return None
        return self.stages[self.active_stage]

    def duration_ms(self, now_ms: int) -> int:
        end = self.ended_at if self.ended_at is not None else now_ms
        return max(0, end - self.created_at)


class EventKind(StrEnum):
    CREATED = "created"
    ENDED = "ended"
    RESTARTED = "restarted"
    COMMANDER_CHANGED = "commander_changed"
    ANNOUNCED = "announced"
    STAGE_CHANGED = "stage_changed"
    TASK_CHECKED = "task_checked"
    TASK_UNCHECKED = "task_unchecked"
    TASK_ASSIGNED = "task_assigned"
    TASK_STATE_CHANGED = "task_state_changed"
    TASK_EDITED = "task_edited"
    COMMAND_RUN = "command_run"
    COMMAND_HANDED = "command_handed"  # Run gave the clicker the command to run themselves
    STATUS_UPDATED = "status_updated"
    MEMBER_JOINED = "member_joined"
    MEMBER_LEFT = "member_left"
    POST_PINNED = "post_pinned"
    SEVERITY_CHANGED = "severity_changed"
    CHANNEL_RENAMED = "channel_renamed"
    CHANNEL_ARCHIVED = "channel_archived"
    CHANNEL_RESTORED = "channel_restored"


class TimelineEvent(BaseModel):
    """Something that happened to an incident, as recorded on its timeline."""

    model_config = ConfigDict(frozen=True)

    kind: EventKind
    at: int
    actor_id: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
