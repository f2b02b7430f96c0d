"""Checklist transitions: tasks checked, assigned, run, edited and moved; stages changed.

Every function is ``(incident, …, actor_id, now) -> (incident, events)``. Tasks are named by
their stable id, so a click or command prepared against an older state still reaches the
task it meant (or is refused when that task is gone). Applying an intent that already holds
(checking a done task, moving from a stage the incident already left) changes nothing and
records nothing: double clicks are harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.domain.models import EventKind, Incident, Stage, Task, TaskState, TimelineEvent
from bot.domain.transitions import Transition
from bot.errors import InvalidTransition

DONE_STATES = (TaskState.DONE, TaskState.SKIPPED)


@dataclass(frozen=True)
class TaskRef:
    """Where a task is: its stage index and position (both 0-based) and the task itself."""

    stage: int
    index: int
    task: Task


def locate(incident: Incident, task_id: str) -> TaskRef:
    for s, stage in enumerate(incident.stages):
        for i, task in enumerate(stage.tasks):
            if task.id == task_id:
                return TaskRef(s, i, task)
    raise InvalidTransition("task_gone")


def _about(ref: TaskRef, incident: Incident) -> dict[str, Any]:
    return {
        "task_id": ref.task.id,
        "title": ref.task.title,
        "stage": ref.stage,
        "stage_title": incident.stages[ref.stage].title,
        "position": ref.index,
    }


def _with_stage(incident: Incident, index: int, stage: Stage) -> Incident:
    stages = list(incident.stages)
    stages[index] = stage
    return incident.model_copy(update={"stages": tuple(stages)})


def _with_tasks(incident: Incident, stage: int, tasks: list[Task]) -> Incident:
    return _with_stage(
        incident, stage, incident.stages[stage].model_copy(update={"tasks": tuple(tasks)})
    )


def _replace(incident: Incident, ref: TaskRef, task: Task) -> Incident:
    tasks = list(incident.stages[ref.stage].tasks)
    tasks[ref.index] = task
    return _with_tasks(incident, ref.stage, tasks)


# ---- checking ---------------------------------------------------------------------------


def set_done(
    incident: Incident, *, task_id: str, done: bool, actor_id: str, now: int
) -> Transition:
    """Check (``done``) or uncheck a task; a no-op when it already is in that state."""
    ref = locate(incident, task_id)
    if (ref.task.state in DONE_STATES) == done:
        return incident, []
    if done:
        task = ref.task.model_copy(
            update={"state": TaskState.DONE, "done_at": now, "done_by": actor_id}
        )
    else:
        task = ref.task.model_copy(update={"state": TaskState.OPEN, "done_at": None, "done_by": ""})
    kind = EventKind.TASK_CHECKED if done else EventKind.TASK_UNCHECKED
    event = TimelineEvent(kind=kind, at=now, actor_id=actor_id, data=_about(ref, incident))
    return _replace(incident, ref, task), [event]


def toggle(incident: Incident, *, task_id: str, actor_id: str, now: int) -> Transition:
    ref = locate(incident, task_id)
    done = ref.task.state not in DONE_STATES
    return set_done(incident, task_id=task_id, done=done, actor_id=actor_id, now=now)


def set_state(
    incident: Incident, *, task_id: str, state: TaskState, actor_id: str, now: int
) -> Transition:
    """Any state, e.g. in progress or skipped; done and skipped record who and when."""
    ref = locate(incident, task_id)
    if ref.task.state is state:
        return incident, []
    if state in DONE_STATES:
        update: dict[str, Any] = {"state": state, "done_at": now, "done_by": actor_id}
    else:
        update = {"state": state, "done_at": None, "done_by": ""}
    data = {**_about(ref, incident), "from": ref.task.state.value, "to": state.value}
    event = TimelineEvent(kind=EventKind.TASK_STATE_CHANGED, at=now, actor_id=actor_id, data=data)
    return _replace(incident, ref, ref.task.model_copy(update=update)), [event]


def assign(
    incident: Incident, *, task_id: str, assignee_id: str, actor_id: str, now: int
) -> Transition:
    ref = locate(incident, task_id)
    if ref.task.assignee_id == assignee_id:
        return incident, []
    task = ref.task.model_copy(update={"assignee_id": assignee_id})
    data = {**_about(ref, incident), "from": ref.task.assignee_id, "to": assignee_id}
    event = TimelineEvent(kind=EventKind.TASK_ASSIGNED, at=now, actor_id=actor_id, data=data)
    return _replace(incident, ref, task), [event]


def record_run(incident: Incident, *, task_id: str, actor_id: str, now: int) -> Transition:
    ref = locate(incident, task_id)
    task = ref.task.model_copy(update={"last_run_at": now})
    data = {**_about(ref, incident), "command": ref.task.command}
    event = TimelineEvent(kind=EventKind.COMMAND_RUN, at=now, actor_id=actor_id, data=data)
    return _replace(incident, ref, task), [event]


def record_handover(incident: Incident, *, task_id: str, actor_id: str, now: int) -> Transition:
    """Run handed the task's command to ``actor_id`` to run themselves: a timeline event only.

    The task's ``last_run_at`` stays: warroom cannot know whether or when the person ran it.
    """
    ref = locate(incident, task_id)
    data = {**_about(ref, incident), "command": ref.task.command}
    event = TimelineEvent(kind=EventKind.COMMAND_HANDED, at=now, actor_id=actor_id, data=data)
    return incident, [event]


# ---- stages -----------------------------------------------------------------------------


def stage_target(incident: Incident, step: int) -> int:
    """The stage index one ``step`` (+1 / -1) away; refused at either end or without stages."""
    if not incident.stages:
        raise InvalidTransition("no_stages")
    target = incident.active_stage + step
    if target < 0:
        raise InvalidTransition("first_stage")
    if target >= len(incident.stages):
        raise InvalidTransition("last_stage")
    return target


def open_tasks(incident: Incident) -> list[Task]:
    stage = incident.current_stage
    return [] if stage is None else [t for t in stage.tasks if t.state not in DONE_STATES]


def move_stage(
    incident: Incident, *, from_stage: int, step: int, actor_id: str, now: int
) -> Transition:
    """Move one stage on or back from ``from_stage``; a no-op if the incident already left it."""
    if incident.active_stage != from_stage:
        return incident, []
    target = stage_target(incident, step)
    moved = incident.model_copy(update={"active_stage": target})
    data = {
        "from": from_stage,
        "to": target,
        "from_title": incident.stages[from_stage].title,
        "to_title": incident.stages[target].title,
    }
    event = TimelineEvent(kind=EventKind.STAGE_CHANGED, at=now, actor_id=actor_id, data=data)
    return moved, [event]


# ---- editing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskFields:
    title: str
    description: str = ""
    command: str = ""


def _edited(
    ref: TaskRef, incident: Incident, op: str, actor_id: str, now: int, **extra: Any
) -> TimelineEvent:
    data = {**_about(ref, incident), "op": op, **extra}
    return TimelineEvent(kind=EventKind.TASK_EDITED, at=now, actor_id=actor_id, data=data)


def add_task(
    incident: Incident, *, stage: int, task_id: str, fields: TaskFields, actor_id: str, now: int
) -> Transition:
    if not 0 <= stage < len(incident.stages):
        raise InvalidTransition("stage_gone")
    task = Task(
        id=task_id, title=fields.title, description=fields.description, command=fields.command
    )
    tasks = [*incident.stages[stage].tasks, task]
    added = _with_tasks(incident, stage, tasks)
    ref = TaskRef(stage, len(tasks) - 1, task)
    return added, [_edited(ref, added, "added", actor_id, now)]


def edit_task(
    incident: Incident, *, task_id: str, fields: TaskFields, actor_id: str, now: int
) -> Transition:
    ref = locate(incident, task_id)
    changes = {
        name: value
        for name, value in (
            ("title", fields.title),
            ("description", fields.description),
            ("command", fields.command),
        )
        if getattr(ref.task, name) != value
    }
    if not changes:
        return incident, []
    task = ref.task.model_copy(update=changes)
    edited = _replace(incident, ref, task)
    event = _edited(
        TaskRef(ref.stage, ref.index, task), edited, "edited", actor_id, now,
        changed=sorted(changes), old_title=ref.task.title,
    )  # fmt: skip
    return edited, [event]


def remove_task(incident: Incident, *, task_id: str, actor_id: str, now: int) -> Transition:
    """Remove a task; refused (``last_task``) for the only task of its stage.

    Every stage has at least one task (:func:`bot.domain.stages.stage_problems`, the rule of
    every playbook path); the person renames the task or adds another first.
    """
    ref = locate(incident, task_id)
    tasks = list(incident.stages[ref.stage].tasks)
    if len(tasks) == 1:
        raise InvalidTransition("last_task")
    del tasks[ref.index]
    return _with_tasks(incident, ref.stage, tasks), [
        _edited(ref, incident, "removed", actor_id, now)
    ]


def move_task(
    incident: Incident, *, task_id: str, position: int, actor_id: str, now: int
) -> Transition:
    """Move a task to ``position`` (0-based) within its stage."""
    ref = locate(incident, task_id)
    tasks = list(incident.stages[ref.stage].tasks)
    if not 0 <= position < len(tasks):
        raise InvalidTransition("position_gone")
    if position == ref.index:
        return incident, []
    tasks.insert(position, tasks.pop(ref.index))
    moved = _with_tasks(incident, ref.stage, tasks)
    return moved, [_edited(ref, incident, "moved", actor_id, now, to=position)]
