"""The chat side of the one command language: what a message means as a command."""

from __future__ import annotations

import pytest

from bot.commands.language import (
    OneLineStart,
    dm_text,
    mention_text,
    one_line_start,
    suggest,
    team_suffix,
)
from bot.commands.router import split
from bot.errors import InputError


@pytest.mark.parametrize(
    ("message", "command"),
    [
        ("help", "help"),
        ("  Incident   LIST ", "LIST"),
        ("/incident list", "list"),
        ("/INCIDENT   stats   30", "stats 30"),
        ("incidents", "incidents"),  # only the whole word `incident` is dropped
        ("start Payments down", "start Payments down"),
    ],
)
def test_a_direct_message_is_the_text_after_the_trigger(message: str, command: str) -> None:
    assert dm_text(message) == command


@pytest.mark.parametrize(
    ("message", "command"),
    [("@warroom list", "list"), ("  @WarRoom: list", "list"), ("list @warroom", "list @warroom")],
)
def test_a_direct_message_may_start_with_the_mention(message: str, command: str) -> None:
    assert dm_text(message, "warroom") == command


def test_the_parser_forgives_case_and_spaces_like_the_slash_command() -> None:
    assert split(dm_text("  Incident   LIST "))[0] == "list"
    assert split(dm_text("STATS    30 "))[:2] == ("stats", ["30"])


@pytest.mark.parametrize(
    ("message", "command"),
    [
        ("@warroom help", "help"),
        ("hey @WarRoom,   info", "info"),
        ("@warroom: /incident end", "end"),
        ("thanks @warroom.", ""),
        ("@warroom", ""),
        ("@warroomx help", None),
        ("mail me at x@warroom.io", None),
        ("no mention here", None),
        ("**@warroom** list", "list"),
        ("@warroom_ list", "list"),
        ("@warroom... list", "list"),
        ("see.@warroom list", "list"),  # split at `.` like the server does
        ("`@warroom list` or @warroom help", "help"),  # code is not read
        ("```\n@warroom list\n```", None),
        (":@warroom: list", None),  # an emoji, not a mention
        ("@warroom.io list", None),  # someone else's name
        ("@warroom-bot list", None),
    ],
)
def test_a_mention_is_the_text_after_the_first_mention_the_server_counts(
    message: str, command: str | None
) -> None:
    assert mention_text(message, "warroom") == command


def test_a_team_named_at_the_end() -> None:
    assert team_suffix("list in acme") == ("list", "acme")
    assert team_suffix("start Fire in Kitchen") == ("start Fire", "kitchen")
    assert team_suffix("in acme") == ("in acme", "")
    assert team_suffix("list") == ("list", "")


def test_near_misses_get_the_closest_command() -> None:
    names = ["check", "commander", "help", "list", "start"]
    assert suggest("chekc", names) == "check"
    assert suggest("strat", names) == "start"
    assert suggest("xyzzy", names) is None
    assert suggest("", names) is None


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        (
            '"DB down" with "Service outage" sev SEV2',
            OneLineStart("DB down", "Service outage", "SEV2"),
        ),
        ("DB down with Outage", OneLineStart("DB down", "Outage", "")),
        (
            '"Down with the DB" WITH outage severity sev1',
            OneLineStart("Down with the DB", "outage", "sev1"),
        ),
        ("Fight with fire with Outage", OneLineStart("Fight with fire", "Outage", "")),
        ("Payments down", None),
        ('"unbalanced with x', None),
    ],
)
def test_the_one_line_start(rest: str, expected: OneLineStart | None) -> None:
    assert one_line_start(rest) == expected


@pytest.mark.parametrize(
    "rest", ["with Outage", "DB down with", "X with Outage sev", "X with Y sev 1 2"]
)
def test_an_incomplete_one_line_start_is_refused_with_its_form(rest: str) -> None:
    with pytest.raises(InputError) as caught:
        one_line_start(rest)
    assert caught.value.reason == "one_line_start"


POST_MAX = 16383  # 5.36 model.POST_MESSAGE_MAX_RUNES_V2: the longest message anyone can send


@pytest.mark.parametrize(
    "message",
    [
        "`" * POST_MAX,
        "``a" * (POST_MAX // 3),
        "a" + " " * (POST_MAX - 2) + "b",
        "a" + " \t" * (POST_MAX // 2 - 1) + "x",
        "@warroom " + "x." * (POST_MAX // 2 - 5),
    ],
)
def test_reading_a_message_takes_time_linear_in_its_length(message: str) -> None:
    """Rule: the chat language reads any message, up to the longest the server accepts,
    in one pass (the event loop must never stall on what a person types). Before, a DM of
    backticks took minutes in the code-span search and one of spaces seconds in the team
    suffix search, both quadratic or worse."""
    assert mention_text(message, "warroom") is not None or "@warroom" not in message
    assert isinstance(dm_text(message, "warroom"), str)
    assert team_suffix(message)[1] == ""


def test_code_spans_pair_backtick_runs_of_the_same_length() -> None:
    """CommonMark: a span closes at the next run of as many backticks; an unmatched run is
    literal text and the runs after it may still pair up."""
    assert mention_text("``` `@warroom list` @warroom help", "warroom") == "help"
    assert mention_text("`` @warroom list ``", "warroom") is None
    assert mention_text("`` @warroom list `", "warroom") == "list `"
