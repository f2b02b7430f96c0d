"""The interactive checklist post, and everything said about stages and tasks.

Action ids carry the task's stable id and the intent (``check…`` / ``uncheck…``), Run the
task's last run, and stage buttons the stage they move from (``next1``): Mattermost looks a clicked action up in the
post as it is *now*, so a stale or double click finds no action, or one meaning the same
thing, never the opposite one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.limits import TASK_COMMAND, TASK_DESCRIPTION, TASK_TITLE
from bot.domain.models import Incident, Stage, Task, TaskState, TimelineEvent
from bot.domain.run_policy import RunDecision
from bot.render import post_size
from bot.render.format import code as code_span
from bot.render.format import (
    code_block,
    defuse_channel_mentions,
    markdown,
    markdown_line,
    name,
    timestamp,
)
from bot.render.messages import STATE_MARK
from bot.render.views import ButtonMaker, Names

COLOR_STAGE = "#1c58d9"
COLOR_DONE = "#3db887"
COLOR_OPEN = "#c5c5c5"
TITLE_MAX = TASK_TITLE.most
DESCRIPTION_MAX = TASK_DESCRIPTION.most
COMMAND_MAX = TASK_COMMAND.most
COMMAND_SHOWN = 80  # a longer command is cut in its row; Info shows it whole

STATE_WORD = {
    TaskState.OPEN: "",
    TaskState.IN_PROGRESS: "in progress",
    TaskState.DONE: "",
    TaskState.SKIPPED: "skipped",
}

STATE_NAME = {"open": "open", "in_progress": "in progress", "done": "done", "skipped": "skipped"}
STATE_WORDS = {
    "open": TaskState.OPEN,
    "progress": TaskState.IN_PROGRESS,
    "in-progress": TaskState.IN_PROGRESS,
    "started": TaskState.IN_PROGRESS,
    "done": TaskState.DONE,
    "skip": TaskState.SKIPPED,
    "skipped": TaskState.SKIPPED,
}


def code(text: str) -> str:
    """``text`` as a code span, shown exactly as written (see ``format.code``)."""
    return code_span(text)


# ---- the post ---------------------------------------------------------------------------


def shown_command(command: str) -> str:
    """The command as its row shows it: cut after ``COMMAND_SHOWN`` characters."""
    return command if len(command) <= COMMAND_SHOWN else command[: COMMAND_SHOWN - 1] + "…"


def has_info(task: Task) -> bool:
    """Whether the row offers Info: the task has notes, or a command its row cuts."""
    return bool(task.description) or len(task.command) > COMMAND_SHOWN


def task_line(number: int, task: Task, names: Names) -> str:
    parts = [f"**{number}.** {STATE_MARK[task.state]} {markdown_line(task.title)}"]
    if STATE_WORD[task.state]:
        parts.append(f"_{STATE_WORD[task.state]}_")
    parts.append(names.at(task.assignee_id) if task.assignee_id else "_no assignee_")
    if task.command:
        ran = f" (last run {timestamp(task.last_run_at)})" if task.last_run_at else ""
        parts.append(f"{code(shown_command(task.command))}{ran}")
    if task.description:
        parts.append(":information_source: has notes")
    return " · ".join(parts)


def _task_actions(task: Task, names: Names, buttons: ButtonMaker, incident_id: str) -> list[Any]:
    done = task.state in (TaskState.DONE, TaskState.SKIPPED)
    t = {"t": task.id}
    actions = [
        buttons.button(
            action_id=("uncheck" if done else "check") + task.id,
            label="Uncheck" if done else "Check",
            action="taskcheck",
            incident_id=incident_id,
            style="default" if done else "primary",
            params={**t, "to": "open" if done else "done"},
        ),
        buttons.user_select(
            action_id="assign" + task.id,
            label=names.at(task.assignee_id) if task.assignee_id else "Assign",
            action="taskassign",
            incident_id=incident_id,
            params=t,
        ),
    ]
    if task.command:
        actions.append(
            buttons.button(
                action_id=f"run{task.id}{task.last_run_at or ''}",
                label="Run",
                action="taskrun",
                incident_id=incident_id,
                params={**t, "ran": task.last_run_at},
            )
        )
    if has_info(task):
        actions.append(
            buttons.button(
                action_id="info" + task.id,
                label="Info",
                action="taskinfo",
                incident_id=incident_id,
                params=t,
            )
        )
    return actions


def _stage_actions(incident: Incident, buttons: ButtonMaker) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = []
    n = incident.active_stage + 1
    at = {"from": incident.active_stage}
    if incident.stages and incident.active_stage > 0:
        actions.append(
            buttons.button(
                action_id=f"prev{n}",
                label="Previous stage",
                action="stageprev",
                incident_id=incident.id,
                params=at,
            )
        )
    if incident.active_stage + 1 < len(incident.stages):
        actions.append(
            buttons.button(
                action_id=f"next{n}",
                label="Next stage",
                action="stagenext",
                incident_id=incident.id,
                style="primary",
                params=at,
            )
        )
    if incident.is_ongoing:
        actions.append(
            buttons.button(
                action_id="end",
                label="End incident",
                action="end",
                incident_id=incident.id,
                style="danger",
            )
        )
    else:
        actions.append(
            buttons.button(
                action_id="restart",
                label="Restart incident",
                action="restart",
                incident_id=incident.id,
            )
        )
    return actions


def checklist_blocks(
    incident: Incident, names: Names, buttons: ButtonMaker
) -> list[dict[str, Any]]:
    """The active stage as attachments: a header, one per task, then the stage buttons."""
    stage = incident.current_stage
    attachments: list[dict[str, Any]] = []
    if stage is None:
        header = {"fallback": "Checklist", "text": "This playbook has no stages."}
    else:
        header = {
            "fallback": f"Checklist: {stage.title}",
            "color": COLOR_STAGE,
            "title": f"Stage {incident.active_stage + 1}/{len(incident.stages)}: {stage.title}",
            "text": progress(stage) if stage.tasks else "_No tasks in this stage._",
        }
    attachments.append(header)
    for n, task in enumerate(stage.tasks if stage else (), start=1):
        done = task.state in (TaskState.DONE, TaskState.SKIPPED)
        attachments.append(
            {
                "fallback": f"{n}. {task.title}",
                "color": COLOR_DONE if done else COLOR_OPEN,
                "text": task_line(n, task, names),
                "actions": _task_actions(task, names, buttons, incident.id),
            }
        )
    attachments.append(
        {
            "fallback": "Stage actions",
            "text": _next_hint(incident),
            "actions": _stage_actions(incident, buttons),
        }
    )
    return attachments


def checklist_posts(
    incident: Incident, names: Names, buttons: ButtonMaker
) -> list[tuple[str, dict[str, Any]]]:
    """The checklist as posts (message, props), in order: as many as Mattermost needs.

    The blocks of :func:`checklist_blocks` are packed in order, each post holding as many as
    stay within the props budget (render/post_size); a post after the first says whose
    continuation it is. A block too large for a post of its own is never produced for a
    playbook that validates (:func:`problems`).
    """
    pages = pack(checklist_blocks(incident, names, buttons))
    stage = incident.current_stage
    posts: list[tuple[str, dict[str, Any]]] = []
    for number, page in enumerate(pages, start=1):
        message = ""
        if number > 1 and stage is not None:
            # No ~name the server would read: it would add props past the planned budget.
            message = defuse_channel_mentions(
                f"_Checklist of stage {incident.active_stage + 1}, {name(stage.title)},"
                f" continued ({number}/{len(pages)})_"
            )
        posts.append((message, {"attachments": page}))
    return posts


def pack(blocks: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """``blocks`` in order, split into runs whose props each fit in one bot post."""
    pages: list[list[dict[str, Any]]] = []
    sizes: list[int] = []
    for block in blocks:
        size = post_size.attachment_runes(block)
        if pages and post_size.attachments_runes([*sizes, size]) <= post_size.PROPS_BUDGET_RUNES:
            pages[-1].append(block)
            sizes.append(size)
        else:
            pages.append([block])
            sizes = [size]
    return pages


def progress(stage: Stage) -> str:
    return f"{stage.done_count}/{len(stage.tasks)} done"


def _next_hint(incident: Incident) -> str:
    if incident.active_stage + 1 < len(incident.stages):
        return f"Next: {name(incident.stages[incident.active_stage + 1].title)}"
    return "This is the last stage." if incident.stages else ""


# ---- lines in the channel ---------------------------------------------------------------


def _task(data: dict[str, Any]) -> str:
    return f"task {int(data['position']) + 1} **{markdown_line(str(data['title']))}**"


def _stage(index: int, title: str) -> str:
    return f"stage {index + 1} **{name(title)}**"


def change_line(event: TimelineEvent, names: Names) -> str:
    """One short sentence in the channel for a checklist event."""
    d = event.data
    who = names.at(event.actor_id)
    kind = event.kind.value
    if kind == "task_checked":
        return f"{who} checked off {_task(d)} ({name(d['stage_title'])})."
    if kind == "task_unchecked":
        return f"{who} unchecked {_task(d)} ({name(d['stage_title'])})."
    if kind == "task_assigned":
        return (
            f"{who} changed the assignee of {_task(d)} from {names.at(d['from'])}"
            f" to {names.at(d['to'])}."
        )
    if kind == "task_state_changed":
        return f"{who} set {_task(d)} to {STATE_NAME[d['to']]} (was {STATE_NAME[d['from']]})."
    if kind == "stage_changed":
        return (
            f"{who} moved the incident from {_stage(d['from'], d['from_title'])}"
            f" to {_stage(d['to'], d['to_title'])}."
        )
    if kind == "command_run":
        return f"{who} ran {code(str(d['command']))} for {_task(d)} (as the warroom bot)."
    if kind == "command_handed":
        return f"{who} took the command of {_task(d)} to run it themselves."
    op = d.get("op")
    where = _stage(d["stage"], d["stage_title"])
    if op == "added":
        return f"{who} added {_task(d)} to {where}."
    if op == "removed":
        return f"{who} removed {_task(d)} from {where}."
    if op == "moved":
        return f"{who} moved {_task(d)} of {where} to position {int(d['to']) + 1}."
    changed = ", ".join(d.get("changed", ()))
    return f"{who} edited {_task(d)} of {where} ({changed})."


# ---- replies to one person --------------------------------------------------------------


def task_info(number: int, task: Task, runs_as_bot: bool) -> str:
    """The Info button's answer; ``runs_as_bot``: Run executes the command itself."""
    lines = [f"**{number}.** {markdown_line(task.title)}"]
    lines.append(markdown(task.description) if task.description else "_No description._")
    if task.command:
        how = "Run runs it as the warroom bot" if runs_as_bot else "Run gives it to you to run"
        lines.append(f"Command: {code(task.command)} ({how})")
    return "\n".join(lines)


def command_block(command: str) -> str:
    """``command`` as a fenced code block that nothing in it can close or format."""
    return code_block(command)


def run_handed_over(command: str, decision: RunDecision) -> str:
    """Run's answer to the clicker when warroom does not run the command itself."""
    lines = [
        "Run this yourself in this channel (warroom runs task commands only with your own"
        " rights): copy it into the message box and send it.",
        command_block(command),
    ]
    if decision.refused_builtin:
        lines.append(
            f"{code('/' + decision.trigger)} changes memberships, channels or settings:"
            " warroom never runs it as the bot."
        )
    return "\n".join(lines)


def run_crashed(command: str) -> str:
    """A Run that failed on warroom's side: the command may or may not have run."""
    return (
        f"{code(command)}: something failed on my side while running it, so it may or may not"
        " have run. Check the channel, and click **Run** again if it did not."
    )


def run_failed(command: str, why: str) -> str:
    """Why an allowed command the bot was to run did not, or may not have, run."""
    if why == "maybe":
        return (
            f"{code(command)} may have run: Mattermost's answer was lost or it failed"
            " midway, so I did not record it; check the channel before you click **Run**"
            " again."
        )
    reason = {
        "unknown": "Mattermost doesn't know this command",
        "refused": "Mattermost refused to run it",
        "unavailable": "Mattermost did not answer or failed running it",
    }.get(why, why)
    return f"{code(command)} did not run: {reason}. Nothing was recorded."


def not_a_number(text: str) -> str:
    return code(text[:32]) + "."


def stage_range(count: int) -> str:
    return f"This incident has stages 1–{count}." if count > 1 else "This incident has 1 stage."


def task_range(stage_number: int, stage: Stage) -> str:
    count = len(stage.tasks)
    if count == 0:
        return f"Stage {stage_number} has no tasks."
    if count == 1:
        return f"Stage {stage_number} has 1 task."
    return f"Stage {stage_number} has tasks 1–{count}."


def confirm_next_intro(incident: Incident, open_tasks: Sequence[Task]) -> str:
    stage = incident.current_stage
    title = stage.title if stage else ""
    target = incident.stages[incident.active_stage + 1].title
    listed = "\n".join(f"- {markdown_line(t.title)}" for t in open_tasks[:10])
    more = f"\n- … and {len(open_tasks) - 10} more" if len(open_tasks) > 10 else ""
    return (
        f"**{name(title)}** still has {len(open_tasks)} open task(s):\n{listed}{more}\n\n"
        f"Move on to **{name(target)}** anyway?"
    )


# ---- dialogs ----------------------------------------------------------------------------


def stage_dialog(*, url: str, state: str, intro: str) -> dict[str, Any]:
    return {
        "url": url,
        "dialog": {
            "callback_id": "stagenext",
            "title": "Next stage",
            "introduction_text": intro,
            "submit_label": "Move on",
            "notify_on_cancel": False,
            "state": state,
            "elements": [],
        },
    }


def task_dialog(*, url: str, state: str, stage: Stage, task: Task | None = None) -> dict[str, Any]:
    """Add a task to ``stage`` (no ``task``) or edit ``task``."""
    return {
        "url": url,
        "dialog": {
            "callback_id": "taskedit",
            "title": "Edit task" if task else "Add task",
            "introduction_text": f"Stage: {name(stage.title)}. Changes apply to this incident only.",
            "submit_label": "Save" if task else "Add",
            "notify_on_cancel": False,
            "state": state,
            "elements": [
                {
                    "display_name": "Title",
                    "name": "title",
                    "type": "text",
                    "min_length": 1,
                    "max_length": TITLE_MAX,
                    "default": task.title if task else "",
                },
                {
                    "display_name": "Description",
                    "name": "description",
                    "type": "textarea",
                    "optional": True,
                    "max_length": DESCRIPTION_MAX,
                    "default": task.description if task else "",
                    "help_text": "Markdown, shown by the Info button.",
                },
                {
                    "display_name": "Slash command",
                    "name": "command",
                    "type": "text",
                    "optional": True,
                    "max_length": COMMAND_MAX,
                    "default": task.command if task else "",
                    "placeholder": "/echo hello",
                    "help_text": "Run gives it to the clicker to run; the bot runs only commands an admin allowed.",
                },
            ],
        },
    }


HELP: dict[str, str] = {
    "check": "Check off a task of the checklist, or uncheck it (numbers as shown).",
    "stage": "Move to the next stage (asks to confirm while tasks are open) or back.",
    "task": (
        "`task add <stage#> [title]` (no title: a dialog), `task edit <stage#> <task#>`,"
        " `task remove <stage#> <task#>`, `task move <stage#> <task#> <position>`,"
        " `task state <stage#> <task#> open|progress|done|skipped`,"
        " `task assign <stage#> <task#> @user|nobody`."
    ),
}
