"""How warroom says that a text does not fit: one sentence per limit, naming the number."""

from __future__ import annotations

from bot.domain import limits
from bot.domain.limits import Limit
from bot.domain.stages import StageProblem

WHAT: dict[str, str] = {
    "incident_name": "The incident name",
    "incident_description": "The description (it becomes the channel header)",
    "channel_name": "A channel URL name",
    "stage_title": "A stage title",
    "task_title": "A task title",
    "task_command": "A task's slash command",
    "task_description": "A task's description",
    "playbook_title": "The playbook title",
    "playbook_description": "The playbook description",
    "status_template": "The status update template",
    "stages_text": "The stages and tasks text",
    "dialog_text": "This field",
    "status_message": "A status update",
    "import_paste": "Pasted text",
    "import_file": "An import file",
    "command_text": "A command",
    "severity_level": "A severity level",
    "team_name": "A team name",
    "command_trigger": "A command trigger",
}
# Where a limit is Mattermost's own, say so: the person then knows no setting changes it.
_MATTERMOST = {
    "incident_name": "Mattermost's limit for a channel name",
    "incident_description": "Mattermost's limit for a channel header",
    "stages_text": "what a Mattermost dialog field holds",
    "import_paste": "what a Mattermost dialog field holds; attach a file instead",
    "command_text": "what Mattermost's message box takes",
}
# Advice only where it works: `playbooks.yaml` has no stages-text field (a playbook of any
# size fits there), but its description has the same limit as the dialog's.
_HINT = {
    "stages_text": " Manage a playbook this large in `playbooks.yaml`.",
}


def limit_text(limit: Limit) -> str:
    """One sentence: what is limited, to how many characters, and (if so) whose limit it is."""
    what = WHAT[limit.key]
    if limit.least > 1:
        span = f"{limit.least} to {limit.most} characters"
    elif limit.least == 1:
        span = f"1 to {limit.most} characters"
    else:
        span = f"at most {limit.most} characters"
    whose = f" ({_MATTERMOST[limit.key]})" if limit.key in _MATTERMOST else ""
    return f"{what} must be {span}{whose}.{_HINT.get(limit.key, '')}"


REASONS: dict[str, str] = {limit.reason: limit_text(limit) for limit in limits.ALL}
PROBLEMS: dict[str, str] = {
    "stage_title_missing": "The stage title is missing.",
    "task_title_missing": "The task title is missing.",
    "title_lines": "A title is one line.",
    "command_slash": "A command starts with / (e.g. /echo hi) and is one line.",
    "stages_missing": "A playbook needs at least one stage.",
    "tasks_missing": "A stage needs at least one task.",
}
# playbooks.yaml as a whole (bot/services/playbook_file.py).
FILE_PROBLEMS: dict[str, str] = {
    "file_empty": (
        "the file is empty: it needs a `playbooks:` list (the README has an example;"
        " `playbooks: []` says on purpose that all playbooks are made in chat)"
    ),
    "file_no_playbooks": (
        "playbooks: missing: the file needs a `playbooks:` list of playbooks"
        " (`playbooks: []` says on purpose that all playbooks are made in chat)"
    ),
}
REASONS.update(PROBLEMS)


def too_long(limit: Limit, length: int) -> str:
    """Input over a transport limit: how long it was, and the most that fits."""
    return f"{limit_text(limit)} This one has {length}; nothing was changed."


def stage_problem(problem: StageProblem, *, stages: str = "stages", tasks: str = "tasks") -> str:
    """``stages[1].tasks[0].title: A task title must be 1 to 150 characters.`` style lines.

    ``stages``/``tasks`` name the lists as the source writes them (``checklists``/``items``);
    a playbook without stages reads ``stages: …``, a stage without tasks ``stages[1].tasks: …``.
    """
    said = REASONS.get(problem.reason, "not valid")
    if problem.stage is None:
        return f"{stages}: {said}"
    where = f"{stages}[{problem.stage}]"
    if problem.task is not None:
        where += f".{tasks}[{problem.task}]"
    field = tasks if problem.field == "tasks" else problem.field
    return f"{where}.{field}: {said}"
