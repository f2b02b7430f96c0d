"""Verifying slash-command calls: the token Mattermost sends, bound to its team.

Mattermost signs nothing in a slash-command call; the command's token (in the form, and as
``Authorization: Token …``) is the only proof it comes from Mattermost, and a token is
registered on one team (``app/command.go``: ``p.Set("team_id", cmd.TeamId)``). Buttons and
dialogs are verified by the HMAC of warroom's own context and state
(:mod:`bot.domain.signing`).
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CommandToken:
    """A slash-command token and the id of the team it was registered on.

    ``team_id`` None means any team: a plain entry of ``WARROOM_COMMAND_TOKENS``.
    """

    token: str
    team_id: str | None = None


def token_ok(presented: str, team_id: str, known: Sequence[CommandToken]) -> bool:
    """Whether ``presented`` is a known token registered on ``team_id`` (or on any team).

    Every known token is compared, in constant time, so the time taken says nothing about
    which one matched.
    """
    ok = False
    for candidate in known:
        same = hmac.compare_digest(presented.encode(), candidate.token.encode())
        here = candidate.team_id is None or hmac.compare_digest(
            team_id.encode(), candidate.team_id.encode()
        )
        ok |= same & here
    return ok and bool(presented)
