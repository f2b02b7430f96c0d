from bot.domain.models import StageTemplate, TaskTemplate
from bot.domain.stages import StageProblem, stage_problems, task_problems, title_problem


def test_one_rule_set_for_stages_and_tasks() -> None:
    """Rule: stages and tasks are checked by one function on every path: titles 1–150 and one
    line, a command one line starting with / of at most 150, a description of at most 3000;
    no stages, and stages without tasks, are allowed."""
    assert stage_problems(()) == []
    assert stage_problems((StageTemplate(title="Later"),)) == []
    stages = (
        StageTemplate(
            title="x" * 151,
            tasks=(
                TaskTemplate(title="", command="echo"),
                TaskTemplate(title="a\nb", command="/" + "x" * 150, description="d" * 3001),
            ),
        ),
    )
    assert stage_problems(stages) == [
        StageProblem(0, None, "title", "stage_title_length"),
        StageProblem(0, 0, "title", "task_title_missing"),
        StageProblem(0, 0, "command", "command_slash"),
        StageProblem(0, 1, "title", "title_lines"),
        StageProblem(0, 1, "command", "task_command_length"),
        StageProblem(0, 1, "description", "task_description_length"),
    ]


def test_the_limits_are_inclusive() -> None:
    assert title_problem("x" * 150) == "" and title_problem("x" * 151) == "task_title_length"
    assert task_problems(title="t", description="d" * 3000, command="/" + "x" * 149) == []
    assert task_problems(title="t", description="", command="/") == [("command", "command_slash")]
