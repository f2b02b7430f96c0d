"""Slash-command tokens: constant-time, bound to the team they were registered on."""

from bot.transport.verify import CommandToken, token_ok

TEAM_A, TEAM_B = "a" * 26, "b" * 26


def test_a_command_token_is_accepted_only_from_the_team_it_was_registered_on() -> None:
    """The rule: a token bound to a team opens that team only; a plain one (the old
    WARROOM_COMMAND_TOKENS format) any team; an unknown or empty token none."""
    known = [CommandToken("tok-a", TEAM_A), CommandToken("tok-any")]
    assert token_ok("tok-a", TEAM_A, known)
    assert not token_ok("tok-a", TEAM_B, known)
    assert not token_ok("tok-a", "", known)
    assert token_ok("tok-any", TEAM_A, known) and token_ok("tok-any", TEAM_B, known)
    assert not token_ok("tok-b", TEAM_B, known)
    assert not token_ok("", TEAM_A, [CommandToken("", None)])
