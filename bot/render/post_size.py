"""What a Mattermost 5.36 post may hold, measured the way the server measures it.

The server refuses a post (create, update, patch, and the ``update`` of an action response
alike: all end in ``Post.IsValid`` from ``SqlPostStore.Save``/``Update``) when

- its message is longer than 16,383 runes (``model.post.is_valid.msg.app_error``;
  ``POST_MESSAGE_MAX_RUNES_V2``), or
- its props, serialised with Go's ``encoding/json``, are longer than 8,000 runes
  (``model.post.is_valid.props.app_error``; ``POST_PROPS_MAX_RUNES``).

Before measuring, ``Post.PreCommit`` → ``GenerateActionIds`` re-reads ``props.attachments``
into ``[]*SlackAttachment``, so every attachment is measured with all sixteen fields of that
struct (empty ones included) and every action with the non-empty fields of ``PostAction``;
``CreatePost`` adds ``"from_bot": "true"`` to a bot's post. Go escapes ``<``, ``>``, ``&``,
U+2028 and U+2029 as ``\\u00XX``/``\\u20XX`` and control characters other than ``\\n``,
``\\r``, ``\\t`` as ``\\u00XX``. Sources: server v5.36.0 ``model/post.go`` (constants,
``IsValid``, ``PreCommit``), ``model/integration_action.go`` (``PostAction``,
``GenerateActionIds``), ``model/slack_attachment.go`` (``SlackAttachment``),
``model/utils.go`` (``StringInterfaceToJson``), ``app/post.go`` (``CreatePost``,
``UpdatePost``), ``store/sqlstore/post_store.go`` (``Update`` calls ``IsValid``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

PROPS_MAX_RUNES = 8000
# Mattermost's own budget for props a client sets, leaving room for what the server adds
# (model/post.go ``POST_PROPS_MAX_USER_RUNES``): warroom plans its posts within it, and the
# rest also holds the key the outbox adds to each post (render/keys, about 60 runes).
PROPS_BUDGET_RUNES = PROPS_MAX_RUNES - 400
MESSAGE_MAX_RUNES = 16383
FROM_BOT = {"from_bot": "true"}

_ATTACHMENT_FIELDS: tuple[tuple[str, Any], ...] = (
    ("id", 0),
    ("fallback", ""),
    ("color", ""),
    ("pretext", ""),
    ("author_name", ""),
    ("author_link", ""),
    ("author_icon", ""),
    ("title", ""),
    ("title_link", ""),
    ("text", ""),
    ("fields", None),
    ("image_url", ""),
    ("thumb_url", ""),
    ("footer", ""),
    ("footer_icon", ""),
    ("ts", None),
)
_ACTION_FIELDS = (
    "id",
    "type",
    "name",
    "disabled",
    "style",
    "data_source",
    "options",
    "default_option",
    "integration",
    "cookie",
)
# Characters Go writes longer than Python's json.dumps(ensure_ascii=False) does: these are
# literal in Python's output (one rune) and \u00XX/\u20XX in Go's (six).
_GO_LONGER = re.compile("[<>&\u2028\u2029]")


def _short_escapes(value: Any) -> int:
    """How many \\b and \\f are in the strings of ``value`` (Python: two runes, Go: six)."""
    if isinstance(value, str):
        return value.count("\b") + value.count("\f")
    if isinstance(value, dict):
        return sum(_short_escapes(k) + _short_escapes(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return sum(_short_escapes(v) for v in value)
    return 0


def go_json_runes(value: Any) -> int:
    """Length in runes of ``json.Marshal(value)`` in Go (compact, HTML-escaped)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return len(text) + 5 * len(_GO_LONGER.findall(text)) + 4 * _short_escapes(value)


def _action(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {key: raw[key] for key in _ACTION_FIELDS if raw.get(key)}


def as_stored(attachment: Mapping[str, Any]) -> dict[str, Any]:
    """One attachment as the server holds it (``SlackAttachment``, omitempty actions)."""
    out = {key: attachment.get(key, default) for key, default in _ATTACHMENT_FIELDS}
    fields = attachment.get("fields")
    out["fields"] = (
        [
            {
                "title": f.get("title", ""),
                "value": f.get("value", ""),
                "short": bool(f.get("short")),
            }
            for f in fields
        ]
        if fields
        else None
    )
    actions = attachment.get("actions")
    if actions:
        out["actions"] = [_action(a) for a in actions]
    return out


def attachment_runes(attachment: Mapping[str, Any]) -> int:
    """Runes one attachment adds to the props as the server measures them."""
    return go_json_runes(as_stored(attachment))


def props_runes(props: Mapping[str, Any], *, from_bot: bool = True) -> int:
    """Runes of ``props`` as the server measures them; ``from_bot`` adds what it adds for a bot."""
    stored: dict[str, Any] = dict(props)
    if "attachments" in stored:
        stored["attachments"] = [as_stored(a) for a in stored["attachments"]]
    if from_bot:
        stored.update(FROM_BOT)
    return go_json_runes(stored)


def attachments_runes(sizes: list[int], *, from_bot: bool = True) -> int:
    """Runes of ``{"attachments": [...]}`` (plus from_bot) given each attachment's runes."""
    base = go_json_runes({"attachments": [], **(FROM_BOT if from_bot else {})})
    return base + sum(sizes) + max(0, len(sizes) - 1)


def post_fits(message: str, props: Mapping[str, Any]) -> bool:
    """Whether a bot's post with ``message`` and ``props`` passes ``Post.IsValid``."""
    return len(message) <= MESSAGE_MAX_RUNES and props_runes(props) <= PROPS_MAX_RUNES
