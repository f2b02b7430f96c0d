"""The one set of rules for stages and tasks, used by every path that makes or changes them.

``playbooks.yaml``, the playbook dialog (stages as text), an import and the incident task
dialog and command all check with these functions, so a task accepted on one path is
accepted, shown and editable on every other. A playbook has at least one stage and every
stage at least one task, on every path (a running incident included: its last task of a
stage can be renamed, not removed). Pure: problems are returned as data with render
keys; nothing here knows how they are said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.limits import STAGE_TITLE, TASK_COMMAND, TASK_DESCRIPTION, TASK_TITLE
from bot.domain.models import StageTemplate


@dataclass(frozen=True)
class StageProblem:
    """What is wrong where: ``stage`` and ``task`` are 0-based; ``task`` None: the stage
    itself; ``stage`` None: the list of stages as a whole (``field`` "stages")."""

    stage: int | None
    task: int | None
    field: str  # "title" | "command" | "description" | "tasks" (a stage's) | "stages"
    reason: str  # a render key: a Limit's reason, "…_title_missing", "title_lines",
    # "command_slash", "stages_missing", "tasks_missing"


def title_problem(title: str, limit: str = "task") -> str:
    """The reason a stage (``limit="stage"``) or task title is refused, or "" when it is fine."""
    rule = STAGE_TITLE if limit == "stage" else TASK_TITLE
    if not title.strip():
        return f"{'stage' if limit == 'stage' else 'task'}_title_missing"
    if "\n" in title or "\r" in title:
        return "title_lines"
    return "" if rule.fits(title) else rule.reason


def task_problems(*, title: str, description: str, command: str) -> list[tuple[str, str]]:
    """``(field, reason)`` for each field of a task that breaks a rule; empty when all is well.

    A command is optional; given, it is one line that starts with ``/`` and has a name.
    """
    problems: list[tuple[str, str]] = []
    if why := title_problem(title):
        problems.append(("title", why))
    if command and (not command.startswith("/") or len(command.strip()) < 2 or "\n" in command):
        problems.append(("command", "command_slash"))
    elif not TASK_COMMAND.fits(command):
        problems.append(("command", TASK_COMMAND.reason))
    if not TASK_DESCRIPTION.fits(description):
        problems.append(("description", TASK_DESCRIPTION.reason))
    return problems


def stage_problems(stages: Sequence[StageTemplate]) -> list[StageProblem]:
    """Every rule broken by ``stages``, in order: a playbook has at least one stage, and every
    stage at least one task (an incident's checklist is its playbook's stages of tasks); the
    titles, commands and descriptions follow :func:`title_problem` and :func:`task_problems`.

    A running incident keeps the rule too: :func:`bot.domain.checklist.remove_task` refuses
    to remove the last task of a stage.
    """
    if not stages:
        return [StageProblem(None, None, "stages", "stages_missing")]
    out: list[StageProblem] = []
    for s, stage in enumerate(stages):
        if why := title_problem(stage.title, "stage"):
            out.append(StageProblem(s, None, "title", why))
        if not stage.tasks:
            out.append(StageProblem(s, None, "tasks", "tasks_missing"))
        for t, task in enumerate(stage.tasks):
            for field, reason in task_problems(
                title=task.title, description=task.description, command=task.command
            ):
                out.append(StageProblem(s, t, field, reason))
    return out
