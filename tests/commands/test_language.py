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
