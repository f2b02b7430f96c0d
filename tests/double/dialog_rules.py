"""What current Mattermost servers check in a dialog (model.Dialog.IsValid).

5.36 checks nothing; newer servers log a warning and web clients may misrender the dialog.
The double records every problem so the scenario harness can fail on any.
"""

from __future__ import annotations

from typing import Any

TITLE_MAX = 24
DISPLAY_NAME_MAX = 24
NAME_MAX = 300
HELP_TEXT_MAX = 150
TEXT_MAX = 150
TEXTAREA_MAX = 3000
SELECT_MAX = 3000
BOOL_MAX = 150
TEXT_SUBTYPES = {"", "text", "email", "number", "tel", "url", "password"}


def _len(value: Any) -> int:
    return len(str(value or "").encode())  # Go's len() counts bytes


def dialog_problems(dialog: Any) -> list[str]:
    if not isinstance(dialog, dict):
        return ["dialog is not an object"]
    problems: list[str] = []
    title = dialog.get("title") or ""
    if not title or _len(title) > TITLE_MAX:
        problems.append(f"invalid dialog title {title!r}")
    seen: set[str] = set()
    for element in dialog.get("elements") or []:
        name = str(element.get("name") or "")
        if name in seen:
            problems.append(f"duplicate dialog element {name!r}")
        seen.add(name)
        problems.extend(f"{name!r}: {p}" for p in _element_problems(element))
    return problems


def _element_problems(e: dict[str, Any]) -> list[str]:
    out: list[str] = []
    min_len, max_len = int(e.get("min_length") or 0), int(e.get("max_length") or 0)
    if min_len < 0:
        out.append("negative min_length")
    if min_len > max_len:
        out.append(f"min_length {min_len} > max_length {max_len}")
    for field, limit in (("display_name", DISPLAY_NAME_MAX), ("name", NAME_MAX)):
        if not e.get(field) or _len(e.get(field)) > limit:
            out.append(f"{field} empty or longer than {limit}")
    if _len(e.get("help_text")) > HELP_TEXT_MAX:
        out.append(f"help_text longer than {HELP_TEXT_MAX}")
    kind = e.get("type")
    limits = {"text": TEXT_MAX, "textarea": TEXTAREA_MAX, "select": SELECT_MAX}
    if kind in ("text", "textarea") and (e.get("subtype") or "") not in TEXT_SUBTYPES:
        out.append(f"invalid subtype {e.get('subtype')!r}")
    if kind in limits:
        for field in ("default", "placeholder"):
            if _len(e.get(field)) > limits[str(kind)]:
                out.append(f"{field} longer than {limits[str(kind)]}")
    if kind == "select":
        source = e.get("data_source") or ""
        if source not in ("", "users", "channels", "dynamic"):
            out.append(f"invalid data source {source!r}")
        values = {str(o.get("value")) for o in e.get("options") or []}
        if not source and e.get("default") and str(e.get("default")) not in values:
            out.append(f"default {e.get('default')!r} is not an option")
    elif kind == "bool":
        if e.get("default") not in ("", None, "true", "false"):
            out.append("invalid default of bool")
        if _len(e.get("placeholder")) > BOOL_MAX:
            out.append(f"placeholder longer than {BOOL_MAX}")
    elif kind == "radio":
        values = {str(o.get("value")) for o in e.get("options") or []}
        if e.get("default") and str(e.get("default")) not in values:
            out.append(f"default {e.get('default')!r} is not an option")
    elif kind not in ("text", "textarea"):
        out.append(f"invalid element type {kind!r}")
    return out
