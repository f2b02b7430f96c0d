"""Small helpers shared by the double: ids, clock, JSON encoding."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

# Mattermost's NewId(): 16 random bytes, base32 with this alphabet, 26 chars.
_ID_ALPHABET = "ybndrfg8ejkmcpqxot1uwisza345h769"

SERVER_VERSION = "5.36.0..982a3f26fd07a8cdfd485ca56d6b9e2a.false"
VERSION_HEADER = "5.36.0.5.36.0.982a3f26fd07a8cdfd485ca56d6b9e2a.false"

Json = dict[str, Any]


def new_id() -> str:
    """A 26 character id of [a-z0-9], like model.NewId()."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(26))


def new_token() -> str:
    return new_id()


def now_ms() -> int:
    return int(time.time() * 1000)


def dumps(value: Any) -> str:
    """Compact JSON, like Go's encoder (no spaces)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Clock:
    """Millisecond clock whose `tick()` values strictly increase."""

    def __init__(self) -> None:
        self._last = 0

    def now(self) -> int:
        return now_ms()

    def tick(self) -> int:
        value = max(now_ms(), self._last + 1)
        self._last = value
        return value


# model.SanitizeUnicode (5.36 model/utils.go, filterBlocklist), in our words: characters the
# server drops from channel (and team, user) names before saving them.
_BLOCKLIST = frozenset(
    "\u0340\u0341\u17a3\u17d3\u2028\u2029\u202a\u202b\u202c\u202d\u202e"
    "\u206a\u206b\u206c\u206d\u206e\u206f\ufff9\ufffa\ufffb\ufeff\ufffc"
)


def sanitize_unicode(text: str) -> str:
    """``text`` without the server's blocklisted characters (also U+1D173-U+1D17A, musical
    scoping, and U+E0000-U+E007F, language tags)."""
    return "".join(
        c
        for c in text
        if c not in _BLOCKLIST
        and not 0x1D173 <= ord(c) <= 0x1D17A
        and not 0xE0000 <= ord(c) <= 0xE007F
    )
