"""Identifier helpers: Mattermost-shaped ids and the strict patterns used to validate input."""

from __future__ import annotations

import re
import secrets

MM_ID = re.compile(r"^[a-z0-9]{26}$")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(26))


def is_mm_id(value: str) -> bool:
    return bool(MM_ID.match(value))
