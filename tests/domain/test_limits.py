import pytest

from bot.domain import limits
from bot.domain.limits import Limit
from bot.errors import InputError


def test_fits_counts_characters_not_bytes() -> None:
    name = Limit("incident_name", 3, least=2)
    assert name.fits("ЖЖЖ") and not name.fits("Ж") and not name.fits("ЖЖЖЖ")


def test_check_raises_the_limits_reason_on_the_field() -> None:
    with pytest.raises(InputError) as info:
        limits.TASK_TITLE.check("x" * 151, field="title")
    assert (info.value.reason, info.value.field) == ("task_title_length", "title")
    assert limits.TASK_TITLE.check("ok") == "ok"


def test_values_that_end_up_in_mattermost_use_mattermosts_limits() -> None:
    """Rule: a limit on a value that ends up in Mattermost is Mattermost's own (5.36 model/):
    channel display name 64 runes, header 1024, a dialog text field 150, a textarea 3000."""
    assert limits.INCIDENT_NAME.most == 64 and limits.INCIDENT_DESCRIPTION.most == 1024
    assert limits.CHANNEL_NAME.least == 2 and limits.CHANNEL_NAME.most == 64
    for one_line in (limits.TASK_TITLE, limits.STAGE_TITLE, limits.TASK_COMMAND):
        assert one_line.most == limits.DIALOG_TEXT_MAX == 150
    for area in (limits.TASK_DESCRIPTION, limits.PLAYBOOK_DESCRIPTION, limits.STATUS_TEMPLATE):
        assert area.most == limits.DIALOG_TEXTAREA_MAX == 3000
    assert limits.COMMAND_TEXT.most == limits.POST_MESSAGE_MAX == 16_383
    assert len({limit.key for limit in limits.ALL}) == len(limits.ALL)
