"""Channel URL names derived from incident names.

Mattermost 5.36 accepts a channel URL name only if ``model.IsValidChannelIdentifier`` does
(model/utils.go): 2 to 64 characters of ``a-z 0-9 - _``, starting and ending with a letter or
digit (``CHANNEL_NAME_MIN_LENGTH``/``CHANNEL_NAME_MAX_LENGTH`` in model/channel.go). Every
incident name warroom accepts (see :data:`bot.domain.limits.INCIDENT_NAME`) must yield such a
name, so :func:`channel_name_for` transliterates what is cheap (accented Latin, Cyrillic) and
otherwise falls back to ``incident-…`` plus a short digest of the name: stable for one name,
readable where possible, never refused for its shape.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata

from bot.domain.limits import CHANNEL_NAME

_SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_SUFFIX_ROOM = 6  # "-" and a clash suffix of up to 5 characters
_DIGEST_LENGTH = 6
_FALLBACK = "incident"
# model.IsValidChannelIdentifier (5.36 model/utils.go), in our words.
_VALID = re.compile(r"^[a-z0-9]+([a-z0-9\-_]+|(__)?)[a-z0-9]+$")
# A 26-character lower-case alphanumeric word is what Mattermost ids look like (model.IsValidId):
# a channel URL name of that shape is mistaken for a channel id by links and the web app.
_ID_LIKE = re.compile(r"^[a-z0-9]{26}$")

# Letters NFKD does not split into an ASCII letter plus marks.
_LATIN = {
    "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "ł": "l", "þ": "th",
    "ı": "i", "ħ": "h", "ŋ": "ng",
}  # fmt: skip
_CYRILLIC_LETTERS = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґўј"
_CYRILLIC_LATIN = (
    "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch - y - e iu ia i i ie g u j"
)
# The hard and soft signs ("-" above) are written as nothing.
_CYRILLIC = {
    k: ("" if v == "-" else v)
    for k, v in zip(_CYRILLIC_LETTERS, _CYRILLIC_LATIN.split(" "), strict=True)
}


# model.SanitizeUnicode (5.36 model/utils.go, filterBlocklist), in our words: the characters
# the server drops from a channel's display name and URL name when it saves the channel
# (Channel.PreSave / PreUpdate in model/channel.go).
_SANITIZED = frozenset(
    "\u0340\u0341\u17a3\u17d3\u2028\u2029\u202a\u202b\u202c\u202d\u202e"
    "\u206a\u206b\u206c\u206d\u206e\u206f\ufff9\ufffa\ufffb\ufeff\ufffc"
)


def _kept(char: str) -> bool:
    point = ord(char)
    return (
        char not in _SANITIZED
        and not 0x1D173 <= point <= 0x1D17A  # musical notation scoping
        and not 0xE0000 <= point <= 0xE007F  # language tags
    )


def display_name(text: str) -> str:
    """``text`` as Mattermost saves it as a channel's display name, stripped.

    The server silently drops BIDI embedding controls (U+202A-U+202E), line and paragraph
    separators, the byte order mark and a few deprecated characters (model.SanitizeUnicode),
    so an incident name is cleaned the same way *before* its length is checked: the name
    warroom stores, shows and copies into other channels is then exactly the name people see
    on the channel, and a hidden right-to-left override never travels with it.
    """
    return "".join(c for c in text if _kept(c)).strip()


def is_valid_channel_name(name: str) -> bool:
    """True when Mattermost 5.36 accepts ``name`` as a channel URL name (and it is not id-like)."""
    return (
        CHANNEL_NAME.least <= len(name) <= CHANNEL_NAME.most
        and _VALID.match(name) is not None
        and _ID_LIKE.match(name) is None
    )


def _transliterate(text: str) -> tuple[str, bool]:
    """``text`` in lower-case ASCII; the flag says a letter or digit had no ASCII form."""
    out: list[str] = []
    lost = False
    for char in text.lower():
        if char.isascii():
            out.append(char)
            continue
        mapped = _LATIN.get(char, _CYRILLIC.get(char))
        if mapped is not None:
            out.append(mapped)  # the hard and soft signs are written as nothing
            continue
        decomposed = unicodedata.normalize("NFKD", char)
        mapped = "".join(c for c in decomposed if c.isascii()).lower()
        if mapped:
            out.append(mapped)
        elif char.isspace() or unicodedata.category(char)[0] in "PZ":
            out.append(" ")
        elif unicodedata.category(char)[0] in "LN":
            lost = True  # e.g. Chinese or Arabic letters: nothing cheap to write them with
            out.append(" ")
    return "".join(out), lost


def _slug(text: str) -> str:
    dashed = re.sub(r"[\s\-]+", "-", text)
    kept = re.sub(r"[^a-z0-9_\-]", "", dashed)
    collapsed = re.sub(r"[\-_]{2,}", "-", kept)
    return collapsed.strip("-_")


def _digest(display_name: str) -> str:
    return hashlib.sha256(display_name.encode()).hexdigest()[:_DIGEST_LENGTH]


def channel_name_for(display_name: str) -> str:
    """A valid channel URL name for ``display_name``, with room left for a clash suffix.

    Lower-case, spaces and dashes to ``-``, accents and Cyrillic transliterated, other
    characters dropped. When that leaves fewer than 2 characters, or the name had letters
    with no cheap ASCII form (``数据库故障 2``), the result is ``incident-<what is left>-<digest>``
    where the digest is 6 hex digits of the name: the same name always yields the same URL
    name (a clash gets :func:`with_suffix`). Never longer than 58 characters, never id-like.
    """
    text, lost = _transliterate(display_name)
    slug = _slug(text)[: CHANNEL_NAME.most - _SUFFIX_ROOM].strip("-_")
    if lost or len(slug) < CHANNEL_NAME.least:
        keep = CHANNEL_NAME.most - _SUFFIX_ROOM - len(_FALLBACK) - _DIGEST_LENGTH - 2
        parts = (_FALLBACK, slug[:keep].strip("-_"), _digest(display_name))
        slug = "-".join(p for p in parts if p)
    if _ID_LIKE.match(slug):
        slug = f"{slug[:20]}-{slug[20:]}"
    return slug


def with_suffix(name: str, length: int = 4) -> str:
    """``name`` plus ``-`` and ``length`` random letters/digits, cut to fit 64 characters."""
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(length))
    return f"{name[: CHANNEL_NAME.most - length - 1].strip('-_')}-{suffix}"
