from bot.domain.models import StageTemplate, TaskTemplate
from bot.domain.stages import StageProblem, stage_problems, task_problems, title_problem


def test_one_rule_set_for_stages_and_tasks() -> None:
    """Rule: stages and tasks are checked by one function on every path: a playbook has at
    least one stage and every stage at least one task; titles 1–150 and one line, a command
    one line starting with / of at most 150, a description of at most 3000."""
    assert stage_problems(()) == [StageProblem(None, None, "stages", "stages_missing")]
    assert stage_problems((StageTemplate(title="Later"),)) == [
        StageProblem(0, None, "tasks", "tasks_missing")
    ]
    one = StageTemplate(title="Do", tasks=(TaskTemplate(title="it"),))
    assert stage_problems((one,)) == []
    assert stage_problems((one, StageTemplate(title=""))) == [
        StageProblem(1, None, "title", "stage_title_missing"),
        StageProblem(1, None, "tasks", "tasks_missing"),
    ]
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
