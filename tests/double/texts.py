"""What the server does to the texts of posts: Slack-style parsing and mention detection.

Written from Mattermost 5.36's source, in our own words:

- Slack-style parsing — app/command.go (``HandleCommandResponsePost``, ``CreateCommandPost``),
  app/slack.go (``ProcessSlackText``, ``ProcessSlackAttachments``), model/slack_attachment.go
  (``ParseSlackAttachment``, ``ParseSlackLinksToMarkdown``), app/integration_action.go
  (``DoPostActionWithCookie``: ``ephemeral_text``; an ``update`` is never parsed). Posts made
  through ``POST /posts`` are never parsed.
- Mentions — app/notification.go (``SendNotifications``, ``getExplicitMentions``,
  ``getMentionsEnabledFields``, ``processText``, ``checkForMention``,
  ``addMentionKeywordsForUser``, ``allowChannelMentions``) over the server's own markdown
  parser (shared/markdown: only plain text nodes count; code spans, code blocks and
  autolinked URLs never mention; backslash escapes and character references are text).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .util import Json

# model/slack_attachment.go: linkWithTextRegex. Go's [^…] classes match newlines too.
_SLACK_LINK = re.compile(r"<([^<|]+)\|([^>]+)>")
_SLACK_USER = re.compile(r"<@([a-zA-Z0-9]+)>")
_ANNOUNCEMENTS = (("<!channel>", "@channel"), ("<!here>", "@here"), ("<!all>", "@all"))

SYSTEM_MENTIONS = ("@here", "@channel", "@all")
MAX_NOTIFICATIONS_PER_CHANNEL = 1000  # TeamSettings.MaxNotificationsPerChannel default


# ---- Slack-style parsing ---------------------------------------------------------------
def slack_links(text: str) -> str:
    """``<target|label>`` becomes ``[label](target)`` (ParseSlackLinksToMarkdown)."""
    return _SLACK_LINK.sub(r"[\2](\1)", text)


def slack_text(text: str, username_of: Callable[[str], str | None]) -> str:
    """ProcessSlackText: ``<!channel>``/``<!here>``/``<!all>`` and ``<@user-id>`` expanded."""
    for slack, mention in _ANNOUNCEMENTS:
        text = text.replace(slack, mention)

    def user(match: re.Match[str]) -> str:
        name = username_of(match.group(1))
        return "@" + name if name else match.group(0)

    return _SLACK_USER.sub(user, text)


def parse_command_response(resp: Json, username_of: Callable[[str], str | None]) -> None:
    """What the server does, in place, to a (normalised) slash-command response.

    Without ``skip_slack_parsing``: ``text`` and the attachments' ``pretext``, ``text``,
    ``title`` and field values get ProcessSlackText, and ``text`` gets the link rewriting.
    Whatever the flag: the attachments' ``text``, ``pretext`` and string field values get the
    link rewriting (CreateCommandPost calls ParseSlackAttachment unconditionally).
    """
    skip = bool(resp.get("skip_slack_parsing"))
    attachments = resp.get("attachments") or []
    if not skip:
        resp["text"] = slack_links(slack_text(str(resp.get("text") or ""), username_of))
        for att in attachments:
            for key in ("pretext", "text", "title"):
                if att.get(key):
                    att[key] = slack_text(str(att[key]), username_of)
            for f in att.get("fields") or []:
                if f.get("value") is not None:
                    f["value"] = slack_text(str(f["value"]), username_of)
    for att in attachments:
        for key in ("text", "pretext"):
            if att.get(key):
                att[key] = slack_links(str(att[key]))
        for f in att.get("fields") or []:
            if isinstance(f.get("value"), str):
                f["value"] = slack_links(f["value"])


def parse_ephemeral_text(text: str, skip: bool) -> str:
    """``ephemeral_text`` of an action response: link rewriting unless skipped."""
    return text if skip else slack_links(text)


# ---- the server's markdown, as far as mentions are concerned ---------------------------
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BLOCK_PREFIX = re.compile(r"^ {0,3}(?:>\s?|[-+*]\s+|\d{1,9}[.)]\s+|#{1,6}(?:\s+|$))*")
_INLINE_LINK = re.compile(r"!?\[([^\]\n]*)\]\(\s*<?[^)\s>]*>?(?:\s+\"[^\"]*\")?\s*\)")
# shared/markdown/autolink.go: an allowed scheme right after a non-alphanumeric; after "://"
# a host character (not blank, not punctuation); the host runs until a character that is
# neither a host character nor "-"/"." and must not hold "_"; the link runs to the next blank
# (cut at "<"). www links need a "." in the host and a blank or "*_~)" before them.
_AUTOLINK = re.compile(
    r"(?i)(?<![A-Za-z0-9])(?:https?|ftp|mailto|tel)://(?=[^\W_])[^\s<]*"
    r"|(?<![^\s*_~)])www\.[^\s<]*"
)
_HOST_END = re.compile(r"[^\w.-]")
_TRAILING = re.compile(r"[?!.,:*_~'\"]+$")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_ASCII_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _autolink(line: str, i: int) -> int:
    """The length of the autolink starting at ``line[i]``, or 0."""
    found = _AUTOLINK.match(line, i)
    if found is None:
        return 0
    url = found.group(0)
    host = url.split("://", 1)[1] if "://" in url else url
    end = _HOST_END.search(host)
    if "_" in host[: end.start() if end else len(host)]:
        return 0
    return len(_TRAILING.sub("", url))


def _inline_runs(line: str, links: dict[str, bool]) -> list[str]:
    """The runs of consecutive plain-text nodes in one line of a paragraph.

    ``links["auto"]`` turns False after a "[" that opens no link: the server parses no
    autolink while a link delimiter is open in the paragraph (nor inside a link's label).
    """
    runs: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        runs.append("".join(buf))
        buf.clear()

    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line) and line[i + 1] in _ASCII_PUNCT:
            buf.append(line[i + 1])
            i += 2
            continue
        if c == "`":
            run = len(line[i:]) - len(line[i:].lstrip("`"))
            close = re.compile(r"(?<!`)" + "`" * run + r"(?!`)").search(line, i + run)
            if close is None:
                buf.append("`" * run)
                i += run
            else:
                flush()  # a code span: never a mention
                i = close.end()
            continue
        if c == "&":
            ent = _ENTITY.match(line, i)
            if ent is not None:
                buf.append(html.unescape(ent.group(0)))
                i = ent.end()
                continue
        if c in "[!":
            link = _INLINE_LINK.match(line, i)
            if link is not None:
                flush()  # the link node; its label is text of its own
                runs.extend(_inline_runs(link.group(1), {"auto": False}))
                i = link.end()
                continue
            if c == "[":
                links["auto"] = False
        size = _autolink(line, i) if links["auto"] and c in "hHfFmMtTwW" else 0
        if size:
            flush()  # an autolink: its text is not inspected
            i += size
            continue
        buf.append(c)
        i += 1
    flush()
    return runs


def text_runs(markdown: str) -> list[str]:
    """The plain text of ``markdown`` in the runs the server inspects for mentions.

    Each line is its own run (a line break is a node of its own); fenced and indented code
    blocks, code spans and autolinked URLs are skipped; backslash escapes and character
    references count as the text they stand for; a link's label counts, its target not.
    """
    runs: list[str] = []
    fence = ""
    in_paragraph = False
    links = {"auto": True}
    for raw in markdown.replace("\r\n", "\n").split("\n"):
        if fence:
            if raw.strip().startswith(fence):
                fence = ""
            continue
        opening = _FENCE.match(raw)
        if opening is not None:
            fence = opening.group(1)
            in_paragraph = False
            continue
        if not raw.strip():
            in_paragraph = False
            links["auto"] = True
            continue
        if not in_paragraph and (raw.startswith("    ") or raw.startswith("\t")):
            continue  # an indented code block
        line = _BLOCK_PREFIX.sub("", raw.lstrip() if in_paragraph else raw, count=1)
        in_paragraph = True
        runs.extend(_inline_runs(line, links))
    return [r for r in runs if r]


# ---- mentions ---------------------------------------------------------------------------
def _word_char(c: str) -> bool:
    """Go: c is ':', '.', '-', '_', '@', unicode.IsLetter(c) or unicode.IsNumber(c)."""
    return c in ":.-_@" or unicodedata.category(c)[0] in "LN"


def words(text: str) -> list[str]:
    """strings.FieldsFunc(text, not _word_char)."""
    out: list[str] = []
    current: list[str] = []
    for c in text:
        if _word_char(c):
            current.append(c)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return out


@dataclass
class Mentions:
    """ExplicitMentions: who a post notifies and which channel-wide words it used."""

    user_ids: set[str] = field(default_factory=set)
    here: bool = False
    channel: bool = False
    all: bool = False
    potential: list[str] = field(default_factory=list)

    def check(self, word: str, keywords: dict[str, set[str]]) -> bool:
        """checkForMention."""
        lower = word.lower()
        if lower == "@here":
            self.here = True
        elif lower == "@channel":
            self.channel = True
        elif lower == "@all":
            self.all = True
        ids = keywords.get(lower)
        if ids is None:
            ids = keywords.get(word)
        if ids is None:
            return False
        self.user_ids |= ids
        return True

    def process(self, text: str, keywords: dict[str, set[str]]) -> None:
        """processText."""
        for word in words(text):
            if word[0] == ":" and word[-1] == ":":
                continue  # an emoji
            word = word.lstrip(":.-_")
            if not word or self.check(word, keywords):
                continue
            stem = word
            found = False
            while stem and stem[-1] in ".-:_":
                stem = stem[:-1]
                if self.check(stem, keywords):
                    found = True
                    break
            if found:
                continue
            if word not in SYSTEM_MENTIONS and word.startswith("@"):
                stripped = word[:-1] if word[-1] in ".-:" else word
                self.potential.append(stripped[1:])
            elif any(ch in word for ch in ".-:"):
                for piece in re.split(r"[.\-:]+", word):
                    if (
                        piece
                        and not self.check(piece, keywords)
                        and piece not in SYSTEM_MENTIONS
                        and piece.startswith("@")
                    ):
                        self.potential.append(piece[1:])


def mention_fields(message: str, props: Json) -> list[str]:
    """getMentionsEnabledFields: the message, then each attachment's pretext and text."""
    texts = [message]
    for att in props.get("attachments") or []:
        if isinstance(att, dict):
            texts += [str(att[k]) for k in ("pretext", "text") if att.get(k)]
    return texts


@dataclass(frozen=True)
class Member:
    """What the mention finder needs of one channel member."""

    user_id: str
    username: str
    online: bool
    mention_keys: tuple[str, ...] = ()


def keywords_for(members: Iterable[Member], allow_channel_mentions: bool) -> dict[str, set[str]]:
    """getMentionKeywordsInChannel with default notify props (channel mentions on)."""
    keywords: dict[str, set[str]] = {}
    for m in members:
        keywords.setdefault("@" + m.username.lower(), set()).add(m.user_id)
        for key in m.mention_keys:
            if key.strip():
                keywords.setdefault(key.strip().lower(), set()).add(m.user_id)
        if allow_channel_mentions:
            keywords.setdefault("@channel", set()).add(m.user_id)
            keywords.setdefault("@all", set()).add(m.user_id)
            if m.online:
                keywords.setdefault("@here", set()).add(m.user_id)
    return keywords


def find_mentions(
    message: str,
    props: Json,
    *,
    members: list[Member],
    sender_id: str,
    allow_channel_mentions: bool,
) -> Mentions:
    """The users a new post in a (non-direct) channel notifies, as SendNotifications finds them."""
    allow = allow_channel_mentions and len(members) < MAX_NOTIFICATIONS_PER_CHANNEL
    keywords = keywords_for(members, allow)
    found = Mentions()
    for text in mention_fields(message, props):
        for run in text_runs(text):
            found.process(run, keywords)
    found.user_ids.discard(sender_id)
    return found


def describe(found: Mentions) -> dict[str, Any]:
    """A readable record of a post's notifications (for test failure messages)."""
    return {
        "user_ids": sorted(found.user_ids),
        "here": found.here,
        "channel": found.channel,
        "all": found.all,
    }
