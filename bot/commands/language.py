"""The command language shared by ``/incident``, direct messages and @mentions: pure functions.

A chat message becomes the same text a slash command carries after its trigger: the bot's
mention and a leading ``/incident`` or ``incident`` are dropped, case of the subcommand and
extra spaces are forgiven (``"  @warroom   Incident  LIST "`` -> ``"list"``). The one parser,
:func:`bot.commands.router.split`, then reads it for every transport.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

from bot.errors import InputError

_LEAD = re.compile(r"^[\s:,]*(?:/?incident\b)?\s*", re.IGNORECASE)
_HEAD_GAP = re.compile(r"^(\S+)\s+")
_TEAM_SUFFIX = re.compile(r"\s+in\s+~?([a-z0-9][a-z0-9_\-]{0,63})\s*$", re.IGNORECASE)
_NAME_CHARS = "a-z0-9._\\-"
START_SEPARATOR = "with"
SEVERITY_WORDS = ("sev", "severity")


def _normalise(text: str) -> str:
    """Drop a leading ``/incident``/``incident``; one space between the head and the rest."""
    text = _LEAD.sub("", text, count=1).strip()
    return _HEAD_GAP.sub(r"\1 ", text, count=1)


def dm_text(message: str) -> str:
    """The command in a direct message to the bot: the whole message."""
    return _normalise(message)


def mention_text(message: str, bot_username: str) -> str | None:
    """The command after the first ``@<bot_username>`` in ``message``; None if not mentioned.

    Mattermost matches a mention case-insensitively and ends it at a character that cannot
    be part of a username (``@warroom,`` and ``@warroom:`` mention; ``@warroomx`` does not).
    """
    pattern = re.compile(
        rf"(?<![{_NAME_CHARS}])@{re.escape(bot_username)}(?![{_NAME_CHARS}])", re.IGNORECASE
    )
    found = pattern.search(message)
    if found is None:
        # A trailing dot is not part of the name ("thanks @warroom.") in Mattermost either.
        found = re.search(rf"@{re.escape(bot_username)}\.(?=\s|$)", message, re.IGNORECASE)
        if found is None:
            return None
    return _normalise(message[found.end() :])


def team_suffix(text: str) -> tuple[str, str]:
    """``"list in acme"`` -> ``("list", "acme")``; ``("list", "")`` without a suffix.

    The caller checks that the word names a team; if not, the text is used unchanged.
    """
    found = _TEAM_SUFFIX.search(text)
    if found is None or found.start() == 0:
        return text, ""
    return text[: found.start()].rstrip(), found.group(1).lower()


def suggest(word: str, names: Iterable[str]) -> str | None:
    """The known name closest to a near miss (``chekc`` -> ``check``), or None."""
    if not word:
        return None
    close = difflib.get_close_matches(word.lower(), list(names), n=1, cutoff=0.6)
    return close[0] if close else None


@dataclass(frozen=True)
class OneLineStart:
    """``start "DB down" with "Service outage" sev SEV2``: everything the dialog asks."""

    name: str
    playbook: str
    severity: str = ""


def one_line_start(rest: str) -> OneLineStart | None:
    """The complete one-line start in ``rest`` (the text after ``start``), or None.

    None means "not the one-line form" (no ``with``, or unbalanced quotes): the dialog
    opens instead. Quotes group words (``"Down with the DB"`` is one name); unquoted, the
    last ``with`` separates the name from the playbook. Raises :class:`InputError` for a
    one-line form with a part missing (no name, no playbook, ``sev`` without a level).
    """
    try:
        words = shlex.split(rest)
    except ValueError:
        return None
    lowered = [w.lower() for w in words]
    if START_SEPARATOR not in lowered:
        return None
    cut = len(lowered) - 1 - lowered[::-1].index(START_SEPARATOR)
    name, after = words[:cut], words[cut + 1 :]
    severity = ""
    sev_at = next((i for i, w in enumerate(after) if w.lower() in SEVERITY_WORDS), None)
    if sev_at is not None:
        level = after[sev_at + 1 :]
        if len(level) != 1:
            raise InputError("one_line_start", field="start")
        severity, after = level[0], after[:sev_at]
    if not name or not after:
        raise InputError("one_line_start", field="start")
    return OneLineStart(name=" ".join(name), playbook=" ".join(after), severity=severity)
