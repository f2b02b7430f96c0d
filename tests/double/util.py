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
