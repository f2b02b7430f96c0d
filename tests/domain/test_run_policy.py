"""Run's policy: the bot runs only allowed triggers, never a membership/settings built-in."""

from __future__ import annotations

import pytest

from bot.domain.run_policy import (
    REFUSED_BUILTINS,
    RunMode,
    decide,
    normalise_triggers,
    refused_of,
    trigger_of,
)


def test_trigger_of() -> None:
    assert trigger_of("/Invite @bob ~x") == "invite"
    assert trigger_of("  /echo hi") == "echo"
    assert trigger_of("no slash") == ""
    assert trigger_of("") == ""


def test_nothing_runs_as_the_bot_by_default() -> None:
    for command in ("/echo hi", "/jira create", "/invite @me ~x", "plain text"):
        assert decide(command, frozenset()).mode is RunMode.HAND_OVER


def test_an_allowed_trigger_runs_as_the_bot() -> None:
    allowed = normalise_triggers(["/Echo", " jira "])
    assert allowed == {"echo", "jira"}
    assert decide("/jira create", allowed).mode is RunMode.EXECUTE
    assert decide("/echo hi", allowed).mode is RunMode.EXECUTE
    assert decide("/other", allowed).mode is RunMode.HAND_OVER


@pytest.mark.parametrize(
    "trigger", ["invite", "kick", "remove", "join", "leave", "msg", "header", "rename", "status"]
)
def test_membership_and_settings_builtins_are_refused_even_when_allowed(trigger: str) -> None:
    decision = decide(f"/{trigger} @x ~y", frozenset({trigger}))
    assert decision.mode is RunMode.HAND_OVER and decision.refused_builtin
    assert not decide(f"/{trigger} @x", frozenset()).refused_builtin


def test_post_only_builtins_may_be_allowed() -> None:
    assert not {"echo", "me", "shrug", "code"} & REFUSED_BUILTINS
    assert refused_of(["echo", "invite", "Kick"]) == ["invite", "kick"]
