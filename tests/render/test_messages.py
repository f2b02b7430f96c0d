"""Sentences of bot/render/messages.py that carry people's texts (issue 9, kinds 2 and 3)."""

from __future__ import annotations

import pytest

from bot.domain.models import Incident
from bot.errors import ChatUnavailable, Pending, WarroomError
from bot.render import messages
from bot.render.views import Names

A = "a" * 26
NAMES = Names({A: "alice"})
INCIDENT = Incident(
    id="i" * 26,
    team_id="t" * 26,
    channel_id="c" * 26,
    channel_name="channel-db-down",
    name="@channel db_down *now*",
    reporter_id=A,
    commander_id=A,
    created_at=0,
    playbook_title="Out_age",
    description="See https://wiki.example/db_fail_over\n**Impact:** @all",
)


def test_announcement_golden() -> None:
    assert messages.announcement(INCIDENT, NAMES) == (
        "#### :rotating_light: Incident: @\u2060channel db_down \\*now\\*\n"
        "Commander @alice · ~channel-db-down is private: ask @alice to add you to follow or help."
    )
    public = INCIDENT.model_copy(update={"private_channel": False})
    assert messages.announcement(public, NAMES).endswith(
        "Commander @alice · join ~channel-db-down to follow or help."
    )


def test_incident_started_golden() -> None:
    assert messages.incident_started(INCIDENT, NAMES) == (
        "@alice started the incident **@\u2060channel db_down \\*now\\***"
        " with playbook _Out_age_.\n"
        "> See https://wiki.example/db_fail_over\n"
        "> **Impact:** @\u2060all"
    )


def test_info_golden_shows_the_last_update_as_markdown() -> None:
    text = messages.info(INCIDENT, NAMES, 0, last_update="**Impact:** ~12%\n— @alice, now")
    assert text.splitlines()[0] == "### @\u2060channel db_down \\*now\\*"
    assert "**Last status update:**\n**Impact:** ~12%\n— @alice, now" in text
    assert "**Last status update:** none yet" in messages.info(INCIDENT, NAMES, 0)


def test_usage_lines_are_plain_code_spans() -> None:
    assert messages.usage("check") == "Usage: `/incident check <stage#> <task#>`"
    assert messages.unknown_subcommand("a`b").startswith("I don't know ``a`b``. ")


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
