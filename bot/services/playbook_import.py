"""Reading a playbook someone brings: Mattermost's Playbooks JSON, or warroom's own YAML export.

Mattermost's Incident Management plugin (1.x, ``create_public_incident``,
``broadcast_channel_id``, ``member_ids``) and its successor Playbooks (the ``version: 1``
export, or a playbook as its API returns it: ``create_public_playbook_run``,
``broadcast_channel_ids``, ``members``) all share ``title``, ``description`` and
``checklists[{title, items[{title, description, command}]}]``. Checklists become stages,
items tasks; what has no equivalent in warroom is listed in :attr:`ImportDraft.unmapped`.
Nothing here does I/O: user and channel ids are resolved by the playbook service.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.domain.limits import (
    IMPORT_FILE,
    PLAYBOOK_DESCRIPTION,
    PLAYBOOK_TITLE,
    STATUS_TEMPLATE,
    Limit,
)
from bot.domain.models import StageTemplate, TaskTemplate
from bot.domain.stages import stage_problems
from bot.render.limits import REASONS as LIMIT_REASONS
from bot.render.limits import stage_problem
from bot.services.playbook_file import (
    REMINDER_CHOICES,
    PlaybookFileError,
    PlaybookSpec,
    parse,
    stage_templates,
)

_MAPPED = {
    "title", "description", "checklists", "create_public_incident", "create_public_playbook_run",
    "reminder_timer_default_seconds", "reminder_message_template", "invited_user_ids",
    "invite_users_enabled", "member_ids", "members", "broadcast_channel_id",
    "broadcast_channel_ids", "broadcast_enabled", "announcement_channel_id",
    "announcement_channel_enabled", "public",
}  # fmt: skip
# Server bookkeeping, not part of what a playbook *is*: dropped silently.
_BOOKKEEPING = {
    "id", "team_id", "create_at", "update_at", "delete_at", "num_stages", "num_steps",
    "num_runs", "num_actions", "last_run_at", "version", "active_runs", "status_update_enabled",
    "default_playbook_admin_role", "default_playbook_member_role", "default_run_admin_role",
    "default_run_member_role", "is_favorite",
}  # fmt: skip
_ITEM_MAPPED = {"title", "description", "command"}
_ITEM_RUN_STATE = {
    "id", "state", "state_modified", "state_modified_post_id", "assignee_id",
    "assignee_modified", "assignee_modified_post_id", "command_last_run", "delete_at",
}  # fmt: skip


# Keys of warroom's YAML that only playbooks.yaml may set: a trigger the bot runs itself
# (README, "What Run guarantees") and signals (README, "Signals").
FILE_ONLY_KEYS = ("run_commands", "signal_keywords", "signal_channels")


class NotImportable(Exception):
    """The text is not something warroom can import. ``reason`` is a render key."""

    def __init__(self, reason: str, problems: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.problems = problems or []


@dataclass
class ImportDraft:
    """A playbook read from an export; ids and names still to be resolved."""

    kind: str  # "mattermost" | "warroom"
    title: str
    description: str = ""
    private: bool = True
    team_wide: bool = False
    reminder_minutes: int = 0
    status_template: str = ""
    stages: tuple[StageTemplate, ...] = ()
    member_ids: list[str] = field(default_factory=list)
    invite_ids: list[str] = field(default_factory=list)
    broadcast_ids: list[str] = field(default_factory=list)
    spec: PlaybookSpec | None = None  # the warroom YAML entry, names unresolved
    unmapped: list[str] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (render key, detail)


def read(text: str) -> ImportDraft:
    """What ``text`` (JSON or YAML, a leading byte order mark allowed) says, checked by the
    rules of every other path: :class:`NotImportable` lists every problem."""
    if not IMPORT_FILE.fits(text):
        raise NotImportable("import_too_big")
    stripped = text.removeprefix("\ufeff").strip()
    if not stripped:
        raise NotImportable("import_empty")
    data: Any
    try:
        data = json.loads(stripped)
    except RecursionError:
        raise NotImportable("import_bad_json", ["nested too deeply"]) from None
    except json.JSONDecodeError as exc:
        if stripped.startswith(("{", "[")):
            raise NotImportable("import_bad_json", [f"line {exc.lineno}: {exc.msg}"]) from None
        data = _yaml(stripped)
    if isinstance(data, dict) and "playbooks" in data:
        return _warroom(stripped)
    if not isinstance(data, dict) or not isinstance(data.get("checklists"), list):
        raise NotImportable("import_not_playbook")
    return _mattermost(data)


def _yaml(text: str) -> Any:
    """Text that is not JSON may still be warroom's own YAML export."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise NotImportable("import_bad_json") from None
    if not isinstance(data, dict) or "playbooks" not in data:
        raise NotImportable("import_bad_json")
    return data


def _warroom(text: str) -> ImportDraft:
    try:
        parsed = parse(text, Path("import"))
    except PlaybookFileError as exc:
        raise NotImportable("import_invalid", exc.problems) from None
    if len(parsed.playbooks) != 1:
        raise NotImportable("import_one_playbook")
    spec = parsed.playbooks[0]
    # What only the operator's file may set (chat playbooks never carry it): said, not lost.
    file_only = [k for k in FILE_ONLY_KEYS if getattr(spec, k)]
    return ImportDraft(
        notes=[("file_only", ",".join(file_only))] if file_only else [],
        kind="warroom",
        title=spec.title,
        description=spec.description,
        private=spec.private,
        team_wide=spec.team_wide,
        reminder_minutes=spec.reminder_minutes,
        status_template=spec.status_template,
        stages=stage_templates(spec.stages),
        spec=spec,
    )


def _text(
    data: dict[str, Any], key: str, where: str, problems: list[str], limit: Limit | None = None
) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append(f"{where}{key}: must be text")
        return ""
    value = value.strip()
    if limit is not None and not limit.fits(value):
        problems.append(f"{where}{key}: {LIMIT_REASONS[limit.reason]}")
    return value


def _ids(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str) and v]


def _extra(data: dict[str, Any], known: set[str], prefix: str, out: list[str]) -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key not in known and value not in (None, "", 0, False, [], {}) and name not in out:
            out.append(name)


def _stages(checklists: list[Any], problems: list[str], unmapped: list[str]) -> list[StageTemplate]:
    """Checklists as stages: shapes checked here, the rules by :func:`stage_problems`."""
    stages: list[StageTemplate] = []
    shapes: list[str] = []
    for i, checklist in enumerate(checklists):
        where = f"checklists[{i}]."
        if not isinstance(checklist, dict):
            shapes.append(f"checklists[{i}]: must be an object")
            continue
        title = _text(checklist, "title", where, shapes)
        _extra(checklist, {"id", "title", "items"}, "checklists.", unmapped)
        items = checklist.get("items") or []
        if not isinstance(items, list):
            shapes.append(f"{where}items: must be a list")
            items = []
        tasks = []
        for j, item in enumerate(items):
            at = f"{where}items[{j}]."
            if not isinstance(item, dict):
                shapes.append(f"{where}items[{j}]: must be an object")
                continue
            task = TaskTemplate(
                title=_text(item, "title", at, shapes),
                description=_text(item, "description", at, shapes),
                command=_text(item, "command", at, shapes),
            )
            _extra(item, _ITEM_MAPPED | _ITEM_RUN_STATE, "checklists.items.", unmapped)
            tasks.append(task)
        stages.append(StageTemplate(title=title, tasks=tuple(tasks)))
    problems += shapes or [
        stage_problem(p, stages="checklists", tasks="items") for p in stage_problems(stages)
    ]
    return stages


def _reminder(seconds: Any, notes: list[tuple[str, str]]) -> int:
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0:
        return 0
    minutes = seconds / 60
    choices = [c for c in REMINDER_CHOICES if c]
    best = min(choices, key=lambda c: abs(c - minutes))
    if best != minutes:
        notes.append(("reminder_rounded", f"{minutes:g}|{best}"))
    return best


def _mattermost(data: dict[str, Any]) -> ImportDraft:
    problems: list[str] = []
    unmapped: list[str] = []
    notes: list[tuple[str, str]] = []
    title = _text(data, "title", "", problems, PLAYBOOK_TITLE)
    description = _text(data, "description", "", problems, PLAYBOOK_DESCRIPTION)
    template = _text(data, "reminder_message_template", "", problems, STATUS_TEMPLATE)
    stages = _stages(data["checklists"], problems, unmapped)
    if problems:
        raise NotImportable("import_invalid", problems)
    _extra(data, _MAPPED | _BOOKKEEPING, "", unmapped)
    public_run = data.get("create_public_playbook_run", data.get("create_public_incident"))
    members = _ids(data, "member_ids") + [
        m["user_id"]
        for m in data.get("members") or []
        if isinstance(m, dict) and isinstance(m.get("user_id"), str)
    ]
    invite_enabled = data.get("invite_users_enabled")
    broadcast_enabled = data.get("broadcast_enabled", data.get("announcement_channel_enabled"))
    broadcast = _ids(data, "broadcast_channel_id") + _ids(data, "broadcast_channel_ids")
    broadcast += _ids(data, "announcement_channel_id")
    return ImportDraft(
        kind="mattermost",
        title=title,
        description=description,
        private=not bool(public_run),
        team_wide=bool(data.get("public")),
        reminder_minutes=_reminder(data.get("reminder_timer_default_seconds"), notes),
        status_template=template,
        stages=tuple(stages),
        member_ids=list(dict.fromkeys(members)),
        invite_ids=[] if invite_enabled is False else _ids(data, "invited_user_ids"),
        broadcast_ids=[] if broadcast_enabled is False else list(dict.fromkeys(broadcast)),
        unmapped=unmapped,
        notes=notes,
    )
