from bot.domain import limits
from bot.domain.stages import StageProblem
from bot.render.limits import REASONS, WHAT, limit_text, stage_problem, too_long
from bot.render.messages import field_error


def test_every_limit_has_words_that_name_its_number() -> None:
    """Rule: each limit is said in one sentence naming what is limited and the number."""
    for limit in limits.ALL:
        assert limit.key in WHAT
        text = field_error(limit.reason)
        assert text == REASONS[limit.reason] == limit_text(limit)
        assert str(limit.most) in text and WHAT[limit.key] in text


def test_over_a_transport_limit_the_length_is_said() -> None:
    text = too_long(limits.COMMAND_TEXT, 17_000)
    assert "16383" in text and "17000" in text and "nothing was changed" in text


def test_stage_problems_name_the_path_as_the_source_writes_it() -> None:
    problem = StageProblem(1, 0, "title", "task_title_length")
    assert stage_problem(problem, stages="checklists", tasks="items").startswith(
        "checklists[1].items[0].title: A task title must be 1 to 150"
    )
    assert (
        stage_problem(StageProblem(None, None, "stages", "stages_missing"), stages="checklists")
        == "checklists: A playbook needs at least one stage."
    )
    assert (
        stage_problem(StageProblem(2, None, "tasks", "tasks_missing"), tasks="items")
        == "stages[2].items: A stage needs at least one task."
    )
