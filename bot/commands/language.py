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

# What may stand before the command: punctuation and markdown left over from the mention
# (``@warroom, list``, ``**@warroom** list``, ``@warroom - list``), then ``/incident``.
_LEAD = re.compile(r"^(?:[^\w/\"'~@]|_)*(?:/?incident\b)?\s*", re.IGNORECASE)
_HEAD_GAP = re.compile(r"^(\S+)\s+")
_TEAM_NAME = re.compile(r"~?([a-z0-9][a-z0-9_\-]{0,63})", re.IGNORECASE)
# 5.36 app/notification.go processText: a word is a run of letters, digits and ``:.-_@``.
_WORD = re.compile(r"[\w:.\-@]+")
_BACKTICKS = re.compile(r"`+")
_SUFFIX_CHARS = ".-:_"
_SPLIT_CHARS = re.compile(r"[.\-:]")
_LEADING_MENTION = re.compile(r"[^\w@]*@[\w.\-]+")  # nothing but a mention before the end
START_SEPARATOR = "with"
SEVERITY_WORDS = ("sev", "severity")


def _normalise(text: str) -> str:
    """Drop a leading ``/incident``/``incident``; one space between the head and the rest."""
    text = _LEAD.sub("", text, count=1).strip()
    return _HEAD_GAP.sub(r"\1 ", text, count=1)


def dm_text(message: str, bot_username: str = "") -> str:
    """The command in a direct message to the bot: the whole message, less a leading
    ``@<bot_username>`` (people write ``@warroom list`` in the DM too)."""
    if bot_username:
        end = mention_end(message, bot_username)
        if end is not None and _LEADING_MENTION.fullmatch(message[:end]):
            message = message[end:]
    return _normalise(message)


def mention_text(message: str, bot_username: str) -> str | None:
    """The command after the first ``@<bot_username>`` in ``message``; None if not mentioned.

    The mention is found as Mattermost finds it (see :func:`mention_end`), so any message
    the server counts as mentioning the bot by name yields its command.
    """
    end = mention_end(message, bot_username)
    return None if end is None else _normalise(message[end:])


def mention_end(message: str, username: str) -> int | None:
    """Where the first mention of ``@username`` in ``message`` ends (an offset), or None.

    Mattermost 5.36's rule (``app/notification.go`` ``getExplicitMentions``/``processText``,
    read for this, not copied): only markdown text counts (not code); words are runs of
    letters, digits and ``:.-_@``; ``:word:`` is an emoji; leading ``:.-_`` are dropped; a word
    matches case-insensitively, else again with its trailing ``.-:_`` removed one by one;
    a word that starts with ``@`` and still does not match names someone else; any other
    word is also tried in pieces split at ``.-:`` (``see.@warroom``).
    """
    wanted = "@" + username.lower()
    text = without_code(message)
    for found in _WORD.finditer(text):
        word, start = found.group(0), found.start()
        if len(word) > 1 and word[0] == ":" and word[-1] == ":":
            continue
        trimmed = word.lstrip(":.-_")
        start += len(word) - len(trimmed)
        candidate = trimmed
        while candidate:
            if candidate.lower() == wanted:
                return start + len(candidate)
            if candidate[-1] not in _SUFFIX_CHARS:
                break
            candidate = candidate[:-1]
        if trimmed.startswith("@"):
            continue
        offset = start
        for piece in _SPLIT_CHARS.split(trimmed):
            if piece.lower() == wanted:
                return offset + len(piece)
            offset += len(piece) + 1
    return None


def team_suffix(text: str) -> tuple[str, str]:
    """``"list in acme"`` -> ``("list", "acme")``; ``("list", "")`` without a suffix.

    The caller checks that the word names a team; if not, the text is used unchanged.
    """
    parts = text.rsplit(maxsplit=2)  # one pass; a regex search here was quadratic in spaces
    if len(parts) < 3 or parts[1].lower() != "in":
        return text, ""
    name = _TEAM_NAME.fullmatch(parts[2])
    return (parts[0], name.group(1).lower()) if name else (text, "")


def without_code(message: str) -> str:
    """``message`` with its code spans (fences too) blanked, offsets kept: what the server
    does not read for mentions. CommonMark's pairing: a run of n backticks closes at the
    next run of exactly n; a run without one is plain text, and the runs after it may still
    pair. Linear in the message (a regex for this backtracks without end on backticks).
    """
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(message)]
    if len(runs) < 2:
        return message
    following: list[int | None] = [None] * len(runs)  # the next run of the same length
    last_of_length: dict[int, int] = {}
    for i in range(len(runs) - 1, -1, -1):
        length = runs[i][1] - runs[i][0]
        following[i] = last_of_length.get(length)
        last_of_length[length] = i
    pieces: list[str] = []
    kept, i = 0, 0
    while i < len(runs):
        j = following[i]
        if j is None:
            i += 1
            continue
        start, end = runs[i][0], runs[j][1]
        pieces += [message[kept:start], " " * (end - start)]
        kept, i = end, j + 1
    pieces.append(message[kept:])
    return "".join(pieces)


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
