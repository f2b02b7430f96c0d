"""Stages and tasks as text: the line format of the playbook dialogs, parsed strictly.

```
## Triage                      a stage
- Acknowledge the alert        a task
- Page the owner | /page ops   a task with its slash command
  Check the service catalogue. an indented line: the description of the task above
```

Blank lines are ignored (inside a description they are kept as paragraph breaks). A literal
``|`` in a task title is written ``\\|``. :func:`render` writes the same format back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.models import StageTemplate, TaskTemplate
from bot.domain.stages import stage_problems

MAX_PROBLEMS = 5
_UNESCAPED_BAR = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class LineProblem:
    line: int  # 1-based; 0 for the text as a whole
    reason: str  # key understood by render.playbooks


class PlaybookTextError(Exception):
    def __init__(self, problems: list[LineProblem]) -> None:
        super().__init__("; ".join(f"line {p.line}: {p.reason}" for p in problems))
        self.problems = problems


@dataclass
class _Task:
    title: str
    command: str
    line: int
    description: list[str]


@dataclass
class _Stage:
    title: str
    line: int
    tasks: list[_Task]


def _task(line_no: int, body: str, problems: list[LineProblem]) -> _Task:
    parts = _UNESCAPED_BAR.split(body)
    if len(parts) > 2:
        problems.append(LineProblem(line_no, "two_bars"))
        parts = parts[:2]
    title = parts[0].strip().replace("\\|", "|")
    command = parts[1].strip() if len(parts) == 2 else ""
    if len(parts) == 2 and not command:
        problems.append(LineProblem(line_no, "command_slash"))
    return _Task(title, command, line_no, [])


def _lines(text: str, problems: list[LineProblem]) -> list[_Stage]:
    stages: list[_Stage] = []
    task: _Task | None = None
    for n, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        line = raw.rstrip()
        if not line.strip():
            if task is not None and task.description:
                task.description.append("")
            continue
        if line[0] in " \t":
            if task is None:
                problems.append(LineProblem(n, "description_without_task"))
            else:
                task.description.append(line.strip())
            continue
        task = None
        if line.startswith("## ") or line == "##":
            stages.append(_Stage(line[2:].strip(), n, []))
        elif line.startswith("#"):
            problems.append(LineProblem(n, "heading_level"))
        elif line.startswith("- ") or line == "-":
            if not stages:
                problems.append(LineProblem(n, "task_before_stage"))
                continue
            task = _task(n, line[1:], problems)
            stages[-1].tasks.append(task)
        else:
            problems.append(LineProblem(n, "unknown_line"))
    return stages


def parse(text: str) -> tuple[StageTemplate, ...]:
    """The stages written in ``text``; :class:`PlaybookTextError` lists every line at fault.

    Beyond the line format, the stages must pass :func:`bot.domain.stages.stage_problems`,
    the rules every other path (``playbooks.yaml``, imports, the task dialog) applies too:
    at least one stage (empty text is refused, as line 0), each with at least one task.
    """
    problems: list[LineProblem] = []
    parsed = _lines(text, problems)
    stages = _templates(parsed)
    for p in stage_problems(stages):
        if p.stage is None:
            if not problems:  # lines that are not stages were said already
                problems.append(LineProblem(0, p.reason))
            continue
        stage = parsed[p.stage]
        line = stage.line if p.task is None else stage.tasks[p.task].line
        problems.append(LineProblem(line, p.reason))
    if problems:
        problems.sort(key=lambda p: p.line)
        raise PlaybookTextError(problems[:MAX_PROBLEMS])
    return stages


def _templates(stages: list[_Stage]) -> tuple[StageTemplate, ...]:
    return tuple(
        StageTemplate(
            title=s.title,
            tasks=tuple(
                TaskTemplate(
                    title=t.title, command=t.command, description="\n".join(t.description).strip()
                )
                for t in s.tasks
            ),
        )
        for s in stages
    )


def render(stages: Sequence[StageTemplate]) -> str:
    """The line format of ``stages``: ``parse(render(s)) == s`` for every valid playbook."""
    out: list[str] = []
    for stage in stages:
        out.append(f"## {stage.title}")
        for task in stage.tasks:
            line = "- " + task.title.replace("|", "\\|")
            if task.command:
                line += f" | {task.command}"
            out.append(line)
            for desc in task.description.split("\n") if task.description else []:
                out.append(f"  {desc}" if desc.strip() else "")
    return "\n".join(out)
