"""Identifier helpers: Mattermost-shaped ids and the strict patterns used to validate input."""

from __future__ import annotations

import re
import secrets

MM_ID = re.compile(r"^[a-z0-9]{26}$")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_id() -> str:
    """26 characters of [a-z0-9], uniform (as Mattermost's ids look); one read of the
    system's random source, not one per character."""
    chars: list[str] = []
    while len(chars) < 26:  # bytes >= 252 are skipped: 252 = 7 * 36 keeps it uniform
        chars += (_ALPHABET[b % 36] for b in secrets.token_bytes(32) if b < 252)
    return "".join(chars[:26])


def is_mm_id(value: str) -> bool:
    return bool(MM_ID.match(value))
