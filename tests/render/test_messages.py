import pytest

from bot.errors import ChatUnavailable, Pending, WarroomError
from bot.render import messages


@pytest.mark.parametrize(
    "error",
    [ChatUnavailable("create_post"), Pending("start"), Pending("status_update"), Pending("x")],
    ids=["unavailable", "start", "status_update", "other"],
)
def test_an_unknown_outcome_never_claims_that_nothing_was_changed(error: WarroomError) -> None:
    """A timeout may hide a change the server made: say what is known, never "nothing"."""
    text = messages.error_text(error)
    assert "did not answer" in text
    assert "nothing was changed" not in text.lower()
    assert "nothing was changed" not in messages.unexpected_error().lower()


def test_a_pending_start_says_it_is_recorded_and_will_be_finished() -> None:
    text = messages.error_text(Pending("start"))
    assert "recorded" in text and "No need to start it again" in text
