"""The mark warroom puts on its own posts, so a post whose answer was lost can be found."""

from __future__ import annotations

from typing import Any

KEY_PROP = "warroom_key"


def keyed(props: dict[str, Any] | None, key: str) -> dict[str, Any]:
    """``props`` with the post's stable key added (a copy; ~60 characters of the 8,000)."""
    return {**(props or {}), KEY_PROP: key}


def key_of(props: dict[str, Any]) -> str:
    """The key a post carries, "" if none."""
    value = props.get(KEY_PROP, "")
    return value if isinstance(value, str) else ""
