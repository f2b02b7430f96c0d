"""Payloads the server parses through its structs and re-serialises: message
attachments and actions, command responses, interactive dialogs."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from .util import Json

IdFactory = Callable[[], str]


# ---- Go's encoding/json, as far as post limits need it ------------------------
def _go_string(text: str) -> int:
    """Runes of a Go JSON string literal: HTML-safe escaping (encoding/json encodeState)."""
    n = 2
    for ch in text:
        if ch in '"\\\n\r\t':
            n += 2
        elif ch < " " or ch in "<>&\u2028\u2029":
            n += 6
        else:
            n += 1
    return n


def go_json_runes(value: Any) -> int:
    """``utf8.RuneCountInString(json.Marshal(value))`` for JSON-decoded Go values.

    Compact output; strings escaped as Go does (``<``, ``>``, ``&``, U+2028, U+2029 and
    control characters other than \\n, \\r, \\t as six-rune ``\\uXXXX``); numbers as
    float64 (the props were decoded into ``interface{}``), which prints integers plainly.
    """
    if value is None:
        return 4
    if isinstance(value, bool):
        return 4 if value else 5
    if isinstance(value, int):
        return len(str(value))
    if isinstance(value, float):
        return len(json.dumps(int(value) if value.is_integer() and abs(value) < 1e21 else value))
    if isinstance(value, str):
        return _go_string(value)
    if isinstance(value, dict):
        items = [_go_string(str(k)) + 1 + go_json_runes(v) for k, v in value.items()]
        return 2 + sum(items) + max(0, len(items) - 1)
    if isinstance(value, list | tuple):
        parts = [go_json_runes(v) for v in value]
        return 2 + sum(parts) + max(0, len(parts) - 1)
    return _go_string(str(value))


# ---- message attachments -------------------------------------------------
_ATTACHMENT_FIELDS: list[tuple[str, Any]] = [
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
]
_ACTION_FIELDS = (
    "id",
    "name",
    "type",
    "disabled",
    "style",
    "data_source",
    "options",
    "default_option",
    "integration",
    "cookie",
)


def _option(o: Any) -> Json:
    o = o if isinstance(o, dict) else {}
    return {"text": str(o.get("text", "")), "value": str(o.get("value", ""))}


def normalise_action(raw: Any, new_id: str) -> Json:
    raw = raw if isinstance(raw, dict) else {}
    out: Json = {}
    for key in _ACTION_FIELDS:
        value = raw.get(key)
        if key == "id" and not value:
            value = new_id
        if key == "options" and isinstance(value, list):
            value = [_option(o) for o in value]
        if key == "integration" and isinstance(value, dict):
            value = {"url": str(value.get("url", ""))} | (
                {"context": value["context"]} if value.get("context") else {}
            )
        if value:  # Go's omitempty
            out[key] = value
    return out


def normalise_attachment(raw: Any, id_factory: IdFactory) -> Json:
    raw = raw if isinstance(raw, dict) else {}
    out: Json = {key: raw.get(key, default) for key, default in _ATTACHMENT_FIELDS}
    fields = raw.get("fields")
    if isinstance(fields, list) and fields:
        out["fields"] = [
            {
                "title": f.get("title", ""),
                "value": f.get("value", ""),
                "short": bool(f.get("short")),
            }
            for f in fields
            if isinstance(f, dict)
        ]
    else:
        out["fields"] = None
    actions = raw.get("actions")
    if isinstance(actions, list) and actions:
        out["actions"] = [normalise_action(a, id_factory()) for a in actions]
    return out


def normalise_props(props: Any, id_factory: IdFactory) -> Json:
    """Props as the server stores them: attachments parsed through its structs."""
    out: Json = dict(props) if isinstance(props, dict) else {}
    attachments = out.get("attachments")
    if isinstance(attachments, list):
        out["attachments"] = [normalise_attachment(a, id_factory) for a in attachments]
    return out


def strip_integrations(props: Json) -> Json:
    """Recorded fact 5: what clients see never carries `integration`."""
    out = copy.deepcopy(props)
    for att in out.get("attachments") or []:
        for action in att.get("actions") or [] if isinstance(att, dict) else []:
            if isinstance(action, dict):
                action.pop("integration", None)
    return out


def iter_actions(props: Json) -> list[Json]:
    found: list[Json] = []
    for att in props.get("attachments") or []:
        if isinstance(att, dict):
            found.extend(a for a in att.get("actions") or [] if isinstance(a, dict))
    return found


# ---- other payloads ------------------------------------------------------
def command_response(raw: Any, id_factory: IdFactory, trigger_id: str = "") -> Json:
    raw = raw if isinstance(raw, dict) else {}
    attachments = raw.get("attachments")
    extra = raw.get("extra_responses")
    return {
        "response_type": str(raw.get("response_type") or ""),
        "text": str(raw.get("text") or ""),
        "username": str(raw.get("username") or ""),
        "channel_id": str(raw.get("channel_id") or ""),
        "icon_url": str(raw.get("icon_url") or ""),
        "type": str(raw.get("type") or ""),
        "props": raw.get("props") or None,
        "goto_location": str(raw.get("goto_location") or ""),
        "trigger_id": trigger_id,
        "skip_slack_parsing": bool(raw.get("skip_slack_parsing")),
        "attachments": (
            [normalise_attachment(a, id_factory) for a in attachments]
            if isinstance(attachments, list)
            else None
        ),
        "extra_responses": (
            [command_response(r, id_factory) for r in extra] if isinstance(extra, list) else None
        ),
    }


_ELEMENT_FIELDS: list[tuple[str, Any]] = [
    ("display_name", ""),
    ("name", ""),
    ("type", ""),
    ("subtype", ""),
    ("default", ""),
    ("placeholder", ""),
    ("help_text", ""),
    ("optional", False),
    ("min_length", 0),
    ("max_length", 0),
    ("data_source", ""),
]


def normalise_dialog(raw: Any) -> Json:
    raw = raw if isinstance(raw, dict) else {}
    elements = raw.get("elements")
    norm_elements: list[Json] | None = None
    if isinstance(elements, list):
        norm_elements = []
        for e in elements:
            e = e if isinstance(e, dict) else {}
            el: Json = {k: e.get(k) if e.get(k) is not None else d for k, d in _ELEMENT_FIELDS}
            options = e.get("options")
            el["options"] = [_option(o) for o in options] if isinstance(options, list) else None
            norm_elements.append(el)
    return {
        "callback_id": str(raw.get("callback_id") or ""),
        "title": str(raw.get("title") or ""),
        "introduction_text": str(raw.get("introduction_text") or ""),
        "icon_url": str(raw.get("icon_url") or ""),
        "elements": norm_elements,
        "submit_label": str(raw.get("submit_label") or ""),
        "notify_on_cancel": bool(raw.get("notify_on_cancel")),
        "state": str(raw.get("state") or ""),
    }
