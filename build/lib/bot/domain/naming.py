"""Channel URL names derived from incident names."""

from __future__ import annotations

import re
import secrets

_MAX_NAME = 64
_SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def channel_name_for(display_name: str) -> str:
    """Lower-case, spaces and dashes to ``-``, other non-word characters dropped, trimmed of ``-``.

    Falls back to ``incident`` when nothing is left (e.g. a name of only emoji).
    """
    lowered = display_name.lower()
    dashed = re.sub(r"[\s\-]+", "-", lowered)
    kept = re.sub(r"[^a-z0-9_\-]", "", dashed)
    collapsed = re.sub(r"-{2,}", "-", kept).strip("-_")
    return (collapsed[: _MAX_NAME - 6].strip("-_")) or "incident"


def with_suffix(name: str, length: int = 4) -> str:
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(length))
    return f"{name[: _MAX_NAME - length - 1]}-{suffix}"
