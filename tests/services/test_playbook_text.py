"""The stages/tasks line format: strict parsing with line numbers, and render as its inverse."""

import pytest

from bot.domain.models import StageTemplate, TaskTemplate
from bot.render.playbooks import TEMPLATE_STAGES
from bot.services.playbook_text import PlaybookTextError, parse, render

TEXT = """\
## Triage
- Acknowledge the alert

- Page the owner | /page ops now
  First line of the description.

  Second paragraph, **markdown** kept.
- A \\| B
## Resolution
- Confirm recovery"""


def test_parse_reads_stages_tasks_commands_and_descriptions() -> None:
    stages = parse(TEXT)
    assert [s.title for s in stages] == ["Triage", "Resolution"]
    page = stages[0].tasks[1]
    assert (page.title, page.command) == ("Page the owner", "/page ops now")
    assert (
        page.description == "First line of the description.\n\nSecond paragraph, **markdown** kept."
    )
    assert stages[0].tasks[2].title == "A | B"
    assert stages[1].tasks == (TaskTemplate(title="Confirm recovery"),)


def test_render_is_the_inverse_of_parse() -> None:
    stages = parse(TEXT)
    assert parse(render(stages)) == stages
    assert render(stages).splitlines()[3] == "  First line of the description."
    template = parse(TEMPLATE_STAGES)
    assert [s.title for s in template] == ["Triage", "Investigation", "Resolution"]
    assert render(template) == TEMPLATE_STAGES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- task first", [(1, "task_before_stage")]),
        ("## S\n  orphan\n- t", [(2, "description_without_task")]),
        ("# S\n- t", [(1, "heading_level"), (2, "task_before_stage")]),
        ("## S\n- t | no slash", [(2, "command_slash")]),
        ("## S\n- t | /a | /b", [(2, "two_bars")]),
        ("## S\n- | /cmd", [(2, "task_title_missing")]),
        ("##\n- t", [(1, "stage_title_missing")]),
        ("## S\n- t\nplain words", [(3, "unknown_line")]),
        ("## S\n- " + "x" * 151, [(2, "task_title_length")]),
        ("## " + "x" * 151 + "\n- t", [(1, "stage_title_length")]),
        ("## S\n- t | /" + "x" * 150, [(2, "task_command_length")]),
        ("## S\n- t\n  " + "x" * 3001, [(2, "task_description_length")]),
        ("", [(0, "stages_missing")]),
        ("\n\n", [(0, "stages_missing")]),
        ("## Later", [(1, "tasks_missing")]),
        ("## A\n- t\n## B\n## C\n- u", [(3, "tasks_missing")]),
        ("junk", [(1, "unknown_line")]),  # said once: not also "no stages"
    ],
)
def test_every_bad_line_is_named(text: str, expected: list[tuple[int, str]]) -> None:
    with pytest.raises(PlaybookTextError) as info:
        parse(text)
    got = {(p.line, p.reason) for p in info.value.problems}
    assert got == set(expected)
    assert [p.line for p in info.value.problems] == sorted(p.line for p in info.value.problems)


def test_at_most_five_problems_are_reported() -> None:
    with pytest.raises(PlaybookTextError) as info:
        parse("\n".join(["junk"] * 12))
    assert len(info.value.problems) == 5


def test_a_stage_without_tasks_renders_alone() -> None:
    """A playbook saved before every stage needed a task is still shown (and then refused
    on save until the stage gets a task, as on every path)."""
    assert render((StageTemplate(title="Empty"),)) == "## Empty"
