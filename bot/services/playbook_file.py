"""``playbooks.yaml``: the schema, strict validation, and errors that name the exact path."""

from __future__ import annotations

import difflib
import re
import typing
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.domain import limits
from bot.domain import webhooks as webhook_types
from bot.domain.models import StageTemplate, TaskTemplate
from bot.domain.stages import stage_problems
from bot.render.limits import FILE_PROBLEMS, stage_problem

USERNAME = re.compile(r"^@?[a-z0-9][a-z0-9._\-]{0,63}$")
CHANNEL = re.compile(r"^~?[a-z0-9][a-z0-9_\-]{0,63}$")
REMINDER_CHOICES = (0, 15, 30, 60, 240, 1440)


class PlaybookFileError(Exception):
    """The file could not be used. ``problems`` are ``path: reason`` lines."""

    def __init__(self, file: Path, problems: list[str]) -> None:
        super().__init__(f"{file}: " + "; ".join(problems))
        self.file = file
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TaskSpec(_Strict):
    """A task; its rules (lengths, the command's shape) are checked with the whole playbook."""

    title: str
    description: str = ""
    command: str = ""


class WebhookSpec(_Strict):
    """A webhook of a playbook: ``url`` (http or https), ``events`` (bot/domain/webhooks.py
    TYPES), ``secret_env`` (the environment variable holding its signing secret)."""

    url: Annotated[str, Field(min_length=8, max_length=2048)]
    events: list[str] = Field(min_length=1, max_length=len(webhook_types.TYPES))
    secret_env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]{0,127}$")]

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or any(c.isspace() for c in value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in webhook_types.TYPES]
        if unknown:
            known = ", ".join(sorted(webhook_types.TYPES))
            raise ValueError(f"{unknown[0]!r} is not an event; use {known}")
        return list(dict.fromkeys(value))


class StageSpec(_Strict):
    title: str
    tasks: list[TaskSpec] = Field(default_factory=list)


def _names(pattern: re.Pattern[str], what: str, values: list[str]) -> list[str]:
    for v in values:
        if not pattern.match(v.lower()):
            raise ValueError(f"{v!r} is not a {what}")
    return [v.lower().lstrip("@~") for v in values]


class PlaybookSpec(_Strict):
    title: Annotated[
        str, Field(min_length=limits.PLAYBOOK_TITLE.least, max_length=limits.PLAYBOOK_TITLE.most)
    ]
    team: Annotated[str, Field(min_length=limits.TEAM_NAME.least, max_length=limits.TEAM_NAME.most)]
    description: Annotated[str, Field(max_length=limits.PLAYBOOK_DESCRIPTION.most)] = ""
    private: bool = True
    broadcast_channel: str = ""
    reminder_minutes: int = 0
    status_template: Annotated[str, Field(max_length=limits.STATUS_TEMPLATE.most)] = ""
    invite: list[str] = Field(default_factory=list)
    members: list[str] = Field(default_factory=list)
    team_wide: bool = False
    stages: list[StageSpec] = Field(default_factory=list)
    # Triggers the bot may run itself for this playbook's tasks, besides WARROOM_RUN_COMMANDS.
    # Honoured in playbooks.yaml only (the operator's file), never from a chat import.
    run_commands: list[
        Annotated[
            str,
            Field(min_length=limits.COMMAND_TRIGGER.least, max_length=limits.COMMAND_TRIGGER.most),
        ]
    ] = Field(default_factory=list)

    @field_validator("run_commands")
    @classmethod
    def _triggers(cls, value: list[str]) -> list[str]:
        triggers = [t.strip().lstrip("/").lower() for t in value]
        for trigger in triggers:
            if not trigger or " " in trigger:
                raise ValueError(f"{trigger!r} is not a slash-command trigger like echo")
        return list(dict.fromkeys(triggers))

    signal_keywords: list[Annotated[str, Field(min_length=2, max_length=100)]] = Field(
        default_factory=list, max_length=50
    )
    signal_channels: list[str] = Field(default_factory=list, max_length=20)
    # Outgoing webhooks (issue 14); honoured in playbooks.yaml only, never from a chat import.
    webhooks: list[WebhookSpec] = Field(default_factory=list, max_length=10)

    @field_validator("invite", "members")
    @classmethod
    def _users(cls, value: list[str]) -> list[str]:
        return _names(USERNAME, "username like @alice", value)

    @field_validator("broadcast_channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if not value:
            return ""
        return _names(CHANNEL, "channel name like ~ops-alerts", [value])[0]

    @model_validator(mode="after")
    def _stages(self) -> PlaybookSpec:
        """The stage and task rules of every path (bot/domain/stages.py)."""
        problems = stage_problems(stage_templates(self.stages))
        if problems:
            raise ValueError("; ".join(stage_problem(p) for p in problems[:5]))
        return self

    @field_validator("signal_channels")
    @classmethod
    def _signal_channels(cls, value: list[str]) -> list[str]:
        return _names(CHANNEL, "channel name like ~ops-alerts", value)

    @field_validator("signal_keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        lowered = [" ".join(v.lower().split()) for v in value]
        if len(set(lowered)) != len(lowered):
            raise ValueError("keywords must be distinct (case does not count)")
        return lowered

    @model_validator(mode="after")
    def _signals_complete(self) -> PlaybookSpec:
        if bool(self.signal_keywords) != bool(self.signal_channels):
            raise ValueError("signal_keywords and signal_channels go together: set both or none")
        return self

    @field_validator("reminder_minutes")
    @classmethod
    def _reminder(cls, value: int) -> int:
        if value not in REMINDER_CHOICES:
            raise ValueError(f"must be one of {', '.join(map(str, REMINDER_CHOICES))}")
        return value


def stage_templates(stages: list[StageSpec]) -> tuple[StageTemplate, ...]:
    """The domain's stage templates for validated stage specs."""
    return tuple(
        StageTemplate(
            title=s.title,
            tasks=tuple(
                TaskTemplate(title=t.title, description=t.description, command=t.command)
                for t in s.tasks
            ),
        )
        for s in stages
    )


class PlaybookFile(_Strict):
    # Required by parse(): an empty file or one without the list is refused; `[]` is "none".
    playbooks: list[PlaybookSpec] = Field(default_factory=list)
    # Severity levels, most severe first; empty = WARROOM_SEVERITY_LEVELS (default SEV1–SEV4).
    severity_levels: list[
        Annotated[
            str,
            Field(min_length=limits.SEVERITY_LEVEL.least, max_length=limits.SEVERITY_LEVEL.most),
        ]
    ] = Field(default_factory=list, max_length=12)

    @field_validator("severity_levels")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        lowered = [v.lower() for v in value]
        if len(set(lowered)) != len(lowered):
            raise ValueError("levels must be distinct (case does not count)")
        if any(" " in v for v in value):
            raise ValueError("a level is one word, e.g. SEV1")
        return value


def location(loc: tuple[int | str, ...]) -> str:
    """``('playbooks', 2, 'title')`` -> ``playbooks[2].title``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_under(parts: list[str]) -> type[BaseModel] | None:
    """The model that holds the keys at ``parts`` (list indexes left out), if any."""
    model: type[BaseModel] = PlaybookFile
    for part in parts:
        field = model.model_fields.get(part)
        if field is None:
            return None
        inner = _model_in(field.annotation)
        if inner is None:
            return None
        model = inner
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def plain_problem(
    loc: tuple[int | str, ...], kind: str, msg: str, ctx: dict[str, Any] | None = None
) -> str:
    """One validation error as ``path: reason`` in plain words: an unknown key names the
    closest known one, a short text says how long it must be.

    ``loc``, ``kind``, ``msg`` and ``ctx`` are pydantic's ``loc``, ``type``, ``msg`` and
    ``ctx`` of the error.
    """
    where = location(loc)
    last = loc[-1] if loc else ""
    if kind == "extra_forbidden":
        parent = _model_under([p for p in loc[:-1] if isinstance(p, str)])
        known = sorted(parent.model_fields) if parent else []
        close = difflib.get_close_matches(str(last), known, n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`?" if close else "known keys: " + ", ".join(known)
        return f"{where}: unknown key `{last}`; {hint}"
    if kind == "missing":
        return f"{where}: missing (required)"
    if kind == "string_too_short":
        least = (ctx or {}).get("min_length", 1)
        return f"{where}: " + (
            "must not be empty" if least == 1 else f"at least {least} characters"
        )
    if kind == "string_too_long":
        return f"{where}: at most {(ctx or {}).get('max_length', '?')} characters"
    if kind in ("string_type", "str_type"):
        return f"{where}: must be text"
    if kind in ("list_type", "tuple_type"):
        return f"{where}: must be a list (items on lines starting with -)"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"{where}: must be a mapping of keys (key: value lines)"
    if kind in ("bool_type", "bool_parsing"):
        return f"{where}: must be true or false"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{where}: must be a whole number"
    return f"{where}: {msg.removeprefix('Value error, ')}"


def parse(text: str, file: Path) -> PlaybookFile:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise PlaybookFileError(file, [f"{where}{problem}"]) from None
    if data is None:  # nothing, or only comments
        raise PlaybookFileError(file, [FILE_PROBLEMS["file_empty"]])
    if not isinstance(data, dict):
        raise PlaybookFileError(file, ["the top level must be a mapping with a `playbooks:` list"])
    problems: list[str] = []
    if data.get("playbooks") is None:  # said, and the rest of the file still checked
        problems.append(FILE_PROBLEMS["file_no_playbooks"])
        data = {**data, "playbooks": []}
    try:
        parsed = PlaybookFile.model_validate(data)
    except ValidationError as exc:
        problems += [
            plain_problem(e["loc"], e["type"], e["msg"], e.get("ctx")) for e in exc.errors()
        ]
    if problems:
        raise PlaybookFileError(file, problems)
    seen: dict[tuple[str, str], int] = {}
    for n, pb in enumerate(parsed.playbooks):
        key = (pb.team.lower(), pb.title.lower())
        if key in seen:
            raise PlaybookFileError(
                file,
                [f"playbooks[{n}].title: duplicate of playbooks[{seen[key]}] in team {pb.team}"],
            )
        seen[key] = n
    return parsed


def read(file: Path) -> PlaybookFile:
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PlaybookFileError(file, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookFileError(file, [f"cannot read: {exc}"]) from None
    return parse(text, file)
