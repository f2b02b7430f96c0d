"""The mark warroom puts on its own posts, so a post whose answer was lost can be found.

A post carries one key (``props.warroom_key``); a post that says several recorded lines at
once (a burst of checklist changes, :mod:`bot.services.lines`) carries the first one there
and the others, in order, in ``props.warroom_keys``, so that each is found by its own key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

KEY_PROP = "warroom_key"
KEYS_PROP = "warroom_keys"  # the further keys of a post that says several lines


def keyed(props: dict[str, Any] | None, key: str) -> dict[str, Any]:
    """``props`` with the post's stable key added (a copy; ~60 characters of the 8,000)."""
    return {**(props or {}), KEY_PROP: key}


def keyed_many(props: dict[str, Any] | None, keys: Sequence[str]) -> dict[str, Any]:
    """``props`` with every key of ``keys`` (at least one) added, in order (a copy; each
    key costs ~63 characters of the 8,000 runes props may hold)."""
    marked = keyed(props, keys[0])
    if len(keys) > 1:
        marked[KEYS_PROP] = list(keys[1:])
    return marked


def key_of(props: dict[str, Any]) -> str:
    """The key a post carries, "" if none (the first one, for a post with several)."""
    value = props.get(KEY_PROP, "")
    return value if isinstance(value, str) else ""


def keys_of(props: dict[str, Any]) -> list[str]:
    """Every key a post carries, in order; [] if none."""
    first = key_of(props)
    more = props.get(KEYS_PROP)
    others = [k for k in more if isinstance(k, str)] if isinstance(more, list) else []
    return [first, *others] if first else others
