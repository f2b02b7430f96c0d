"""What a task's **Run** button may do with the task's slash command.

Mattermost runs a slash command only as the user whose token calls ``/commands/execute``: the
bot cannot run one with the clicker's rights. Run therefore never lends the bot's rights
(issue 9, kind 1). By default it *hands the command over*: the clicker gets the exact command
to run themselves. The bot runs a command itself only when the administrator allowed its
trigger (``WARROOM_RUN_COMMANDS``) and the trigger is not one of Mattermost's built-in
commands that change memberships, channels, teams, the user's status or settings: those are
refused even when allowed, because run as the bot they would use the bot's memberships.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

# Every built-in trigger of Mattermost 5.36 (server source app/slashcommands/command_*.go)
# except the four that only post a message in the channel they run in (echo, me, shrug,
# code). Each of these changes a membership (invite, invite_people, kick, remove, join, open,
# leave, msg, groupmsg), a channel (header, purpose, rename, mute, share-channel,
# secure-connection), the caller's status or settings (away, online, offline, dnd,
# status (custom status), expand, collapse, settings, logout) or acts on the whole server (test), or
# is meaningful only in a person's own client (help, search, shortcuts).
REFUSED_BUILTINS = frozenset(
    {
        "invite",
        "invite_people",
        "kick",
        "remove",
        "join",
        "open",
        "leave",
        "msg",
        "groupmsg",
        "mute",
        "header",
        "purpose",
        "rename",
        "share-channel",
        "secure-connection",
        "away",
        "online",
        "offline",
        "dnd",
        "status",
        "expand",
        "collapse",
        "settings",
        "logout",
        "test",
        "help",
        "search",
        "shortcuts",
    }
)


class RunMode(StrEnum):
    EXECUTE = "execute"  # the bot runs it (allowed trigger, not a refused built-in)
    HAND_OVER = "hand_over"  # the clicker gets the command to run it themselves


@dataclass(frozen=True)
class RunDecision:
    mode: RunMode
    trigger: str
    refused_builtin: bool = False  # allowed by the administrator but never run by the bot


def trigger_of(command: str) -> str:
    """The lowercase trigger of ``/trigger args`` ("" when ``command`` has none)."""
    head = command.strip().split(" ", 1)[0]
    return head[1:].lower() if head.startswith("/") else ""


def normalise_triggers(triggers: Iterable[str]) -> frozenset[str]:
    """``["/Echo", " jira "]`` -> ``{"echo", "jira"}``; blanks dropped."""
    return frozenset(t.strip().lstrip("/").lower() for t in triggers if t.strip().lstrip("/"))


def refused_of(allowed: Iterable[str]) -> list[str]:
    """The allowed triggers that Run refuses anyway, sorted (for the start-up warning)."""
    return sorted(normalise_triggers(allowed) & REFUSED_BUILTINS)


def decide(command: str, allowed: frozenset[str]) -> RunDecision:
    """How Run treats ``command`` given the administrator's ``allowed`` triggers."""
    trigger = trigger_of(command)
    if trigger in REFUSED_BUILTINS:
        return RunDecision(RunMode.HAND_OVER, trigger, refused_builtin=trigger in allowed)
    if trigger and trigger in allowed:
        return RunDecision(RunMode.EXECUTE, trigger)
    return RunDecision(RunMode.HAND_OVER, trigger)
