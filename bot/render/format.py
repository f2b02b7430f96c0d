"""Formatting helpers shared by every renderer: durations, times, and the one text pipeline.

The text pipeline (every person-written text that warroom places in a post goes through
exactly one of these helpers):

- ``markdown(text)`` — what a person wrote as markdown (status updates, descriptions, task
  titles, quoted posts): shown as markdown, links work, nothing escaped; only mentions are
  defused. ``markdown_line`` is the same for one-line places (list items, table-free lines).
- ``name(text)`` — a name (incident, playbook, stage, severity) placed *inside* warroom's
  own markup (``**…**``, ``_…_``, a heading, a link label): one line, and only the characters
  that could close or open that markup are backslash-escaped.
- ``cell(text)`` — a name in a table cell: ``name`` plus ``|``.
- ``code(text)`` — a code span that shows ``text`` exactly, whatever backticks it holds;
  ``code_block(text)`` the same as a fenced block.
- ``quote(text)`` — person-written markdown as a block quote.

Mentions (``@channel``, ``@all``, ``@here``, ``@someone``) in person-written text never notify
anyone where warroom copies it: see ``defuse_mentions``. Mattermost 5.36 has no post prop that
turns notifications off: ``mentionHighlightDisabled`` (model/post.go) only stops the web app's
highlighting and is set by the server itself (app/post.go, CreatePost) when the author lacks
``use_channel_mentions``; the notifications themselves are decided from the text alone
(app/notification.go). So the text must carry the defusing.

The one exception is a status update in its own incident channel (render/status.update_post):
the person wrote it for that channel, so its mentions work there (and only there).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

WORD_JOINER = "\u2060"

# An "@" the server could read as the start of a mention: not preceded by an ASCII letter or
# digit. Mattermost 5.36 (app/notification.go, ExplicitMentions.processText) splits the text
# of a post into words at every character that is not a letter, a number or one of ":.-_@",
# trims leading ":.-_", and looks each word (and its pieces split at ".-:") up as "@name",
# "@channel", "@all" or "@here". An "@" that follows a letter or a number stays inside a word
# that does not start with "@" (an e-mail address), so it can never start a mention. Only
# ASCII letters and digits are trusted: what else is a letter depends on the Unicode version
# (5.36 is built with Go 1.15, Unicode 13; Python's tables are newer), so an "@" after any
# other character is defused too (invisible, and harmless where it was not needed).
_MENTION_AT = re.compile(r"(?<![A-Za-z0-9])@(?!\u2060)(?=\S)")
# "@" written as a character reference: the server's markdown decodes it before looking.
_AT_REFERENCE = re.compile(r"&(?:#0*64|#[xX]0*40|commat);")
# Characters that open or close warroom's inline markup around a name. "_" only matters at a
# word edge: Mattermost does not read "db_fail_over" as emphasis.
_NAME_SPECIAL = re.compile(r"([\\`*~\[\]])|_(?![^\W_])|(?<![^\W_])_")
# Parts of a text the server never reads for mentions, and that a word joiner would change
# or break (shared/markdown: only plain text nodes are read): closed fenced code blocks, code
# spans (on one line, not opened by an escaped backtick), the target of an inline link, and
# an autolinked URL (allowed scheme or "www.", a host without "_", the rest up to a blank or
# "<").
_FENCED = re.compile(
    r"^ {0,3}(?P<fence>`{3,}|~{3,})[^\n]*\n(?:.*\n)*? {0,3}(?P=fence)[`~]*[ \t]*$", re.MULTILINE
)
_CODE_SPAN = re.compile(r"(?<![\\`])(?P<ticks>`+)(?!`).*?(?<!`)(?P=ticks)(?!`)")
_LINK_TARGET = re.compile(r"(?<!\\)!?\[[^\[\]\n]*\](?P<target>\(\s*[^()\s]*\))")
_URL = re.compile(
    r"(?<![A-Za-z0-9])(?i:https?|ftp|mailto|tel)://[^\W_](?:[^\W_]|[.-])*(?=[/?#:\s<]|$)[^\s<]*"
    # a www link (shared/markdown/autolink.go parseWWWAutolink): lower-case "www", up to three
    # digits and "."; a blank or one of "*_~)" (or nothing) before it; a host without "_"
    r"|(?<![^\s*_~)])www\d{0,3}\.(?:[^\W_]|[.-])+(?=[/?#:\s<]|$)[^\s<]*"
)
_NEWLINES = re.compile(r"\s*[\r\n]+\s*")
_BACKTICKS = re.compile(r"`+")


def defuse_mentions(text: str) -> str:
    """Make ``@channel``, ``@all``, ``@here`` and ``@someone`` in ``text`` notify nobody.

    A WORD JOINER (U+2060, invisible, zero width, no line break) goes right after each "@"
    that could start a mention. The server splits words at every character that is neither
    a letter nor a number nor one of ``:.-_@`` (Go's ``unicode.IsLetter``/``IsNumber``;
    U+2060 is a format character, category Cf), so ``@\u2060channel`` becomes the words ``@``
    and ``channel``: no keyword, no notification, and the reader sees ``@channel``.
    Backslash-escaping (``\\@``) or an HTML entity (``&#64;``) would NOT work: the server's
    markdown parser (shared/markdown, inlines.go) turns both back into the text ``@`` and
    joins neighbouring text before looking for mentions. Posts are not Unicode-sanitised
    (model.SanitizeUnicode applies to channel, team and user names only, and U+2060 is not
    in its blocklist). An "@" after an ASCII letter or digit (``ops@example.com``) is left alone.
    An "@" written as a character reference (``&#64;``, ``&#x40;``, ``&commat;``) becomes
    a plain "@" first (it reads the same).

    Left untouched, because the server never reads them for mentions and a word joiner would
    change them: code blocks and code spans, link targets and autolinked URLs
    (``https://medium.com/@ops/post`` stays a working link). A URL inside a link label, or
    after an unclosed ``[``, is read by the server and so is defused. The function is
    idempotent.

    Short texts (names, task titles: the same few rendered again on every change) are
    remembered, at most :data:`DEFUSED_KEPT` of them.
    """
    if len(text) <= DEFUSED_SHORT:
        return _defuse_short(text)
    return _defuse(text)


DEFUSED_SHORT = 200  # characters
DEFUSED_KEPT = 2048


def _defuse(text: str) -> str:
    out: list[str] = []
    at = 0
    for start, end in _protected(text):
        out.append(_defuse_plain(text, at, start))
        out.append(text[start:end])
        at = end
    out.append(_defuse_plain(text, at, len(text)))
    return "".join(out)


_defuse_short = lru_cache(maxsize=DEFUSED_KEPT)(_defuse)


def _defuse_plain(text: str, start: int, end: int) -> str:
    """``text[start:end]`` (plain text for the server) with its mentions defused."""
    before = text[start - 1] if start > 0 else ""
    part = before + _AT_REFERENCE.sub("@", text[start:end])
    return _MENTION_AT.sub("@" + WORD_JOINER, part)[len(before) :]


def _protected(text: str) -> list[tuple[int, int]]:
    """The (start, end) ranges of ``text`` that the server does not read for mentions."""
    ranges: list[tuple[int, int]] = [m.span() for m in _FENCED.finditer(text)]

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in ranges)

    for found in _CODE_SPAN.finditer(text):
        if free(*found.span()):
            ranges.append(found.span())
    for link in _LINK_TARGET.finditer(text):
        if free(*link.span()):
            ranges.append(link.span("target"))
    for url in _URL.finditer(text):
        if "[" not in text[: url.start()] and free(*url.span()):
            ranges.append(url.span())
    return sorted(ranges)


# model/channel_mentions.go: the server reads ``~`` + [A-Za-z0-9_-] not preceded by an ASCII
# word character (Go's \B) as a channel mention.
_CHANNEL_TILDE = re.compile(r"(?<![A-Za-z0-9_])~(?=[A-Za-z0-9_-])")


def defuse_channel_mentions(text: str) -> str:
    """``text`` with every ``~name`` the server would read as a channel mention broken by a
    WORD JOINER (U+2060, invisible) right after the ``~``; the reader still sees ``~name``.

    For the message of a post whose props warroom plans close to Mattermost's 8,000-rune
    limit: for each such ``~name`` of a public channel the 5.36 server adds
    ``props.channel_mentions[name]`` (app/post.go FillInPostProps, on create and every
    edit), and those runes count towards the limit (render/post_size). A backslash before
    the ``~`` (as :func:`name` writes it) does not stop that. Idempotent.
    """
    return _CHANNEL_TILDE.sub("~" + WORD_JOINER, text)


def one_line(text: str) -> str:
    """Line breaks (and the blanks around them) become one space; ends are stripped."""
    return _NEWLINES.sub(" ", text).strip()


def markdown(text: str) -> str:
    """A person's markdown, shown as markdown (links work); mentions defused."""
    return defuse_mentions(text)


def markdown_line(text: str) -> str:
    """A person's markdown in a one-line place (a list item, a field line); mentions defused."""
    return defuse_mentions(one_line(text))


def name(text: str) -> str:
    """A name placed inside warroom's markup (``**…**``, ``_…_``, a heading, a link label).

    One line; ``\\ ` * ~ [ ]``, word-edge ``_`` and a final ``#`` are backslash-escaped so
    that the name can neither end warroom's markup early nor start its own; mentions defused.
    Everything else is left as written (Mattermost shows it as typed).
    """
    escaped = _NAME_SPECIAL.sub(lambda m: "\\" + m.group(0), one_line(text))
    if escaped.endswith("#"):  # a heading would drop it as a closing sequence
        escaped = escaped[:-1] + "\\#"
    return defuse_mentions(escaped)


def cell(text: str) -> str:
    """A name in a markdown table cell: ``name`` plus ``|`` escaped (it would end the cell)."""
    return name(text).replace("|", "\\|")


def code(text: str) -> str:
    """``text`` as a code span shown exactly as written (one line).

    The fence is one backtick longer than the longest run of backticks inside, and a space
    pads a text that starts or ends with a backtick (CommonMark code spans). Mentions inside
    a code span never notify (the server's mention finder skips code spans), so nothing else
    is needed.
    """
    flat = one_line(text) or " "
    longest = max((len(run) for run in _BACKTICKS.findall(flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def code_block(text: str, language: str = "") -> str:
    """``text`` as a fenced code block shown exactly as written.

    The fence is longer than any run of backticks in ``text`` (at least three), so no line
    of ``text`` can close it early.
    """
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip(chr(10))}\n{fence}"


def duration(ms: int) -> str:
    """``< 1m``, ``Nm``, ``Nh``, ``Nh Nm``, ``Nd``, ``Nd Nh Nm`` with zero parts omitted."""
    minutes = max(0, ms) // 60_000
    if minutes == 0:
        return "< 1m"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    return " ".join(p for p in parts if p)


def timestamp(ms: int) -> str:
    """Epoch milliseconds as ``YYYY-MM-DD HH:MM UTC``."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def channel_link(channel_name: str) -> str:
    """``~name``: Mattermost links a channel's URL name (``a-z 0-9 - _``) written after ``~``."""
    return f"~{channel_name}"


def quote(text: str, limit: int = 500) -> str:
    """A person's markdown as a block quote, cut at ``limit`` characters; mentions defused."""
    cut = text if len(text) <= limit else text[: limit - 1] + "…"
    return "\n".join(f"> {defuse_mentions(line)}" for line in cut.splitlines() or [""])
