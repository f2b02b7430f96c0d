"""Configuration from environment variables (prefix ``WARROOM_``). No I/O here."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_TEAM_ID = re.compile(r"[a-z0-9]{26}")
# Every button carries the callback URL; with this bound any checklist row of a valid playbook
# fits in a Mattermost post (tests/render/test_checklist_limits.py).
PUBLIC_URL_MAX = 512


class Settings(BaseSettings):
    """Everything warroom reads from its environment.

    ``bot_token``, ``command_tokens`` and ``signing_key`` may be left unset: ``warroom setup``
    stores them in the database and ``warroom run`` reads them from there.
    """

    # Inputs stay out of error texts: some are secrets (tokens).
    model_config = SettingsConfigDict(
        env_prefix="WARROOM_", extra="ignore", hide_input_in_errors=True
    )

    mattermost_url: str = Field(
        default="http://localhost:8065",
        description="Base URL of the Mattermost server, e.g. https://chat.example.com",
    )
    bot_token: SecretStr | None = Field(default=None, description="The bot account's token")
    admin_token: SecretStr | None = Field(
        default=None, description="A system admin's access token, read by `warroom setup` only"
    )
    command_tokens: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description=(
            "Slash-command tokens, comma separated: `team_id:token` accepts the token from that"
            " team only; a plain `token` from any team"
        ),
    )
    signing_key: SecretStr | None = Field(default=None, description="HMAC key for callbacks")
    listen_host: str = "0.0.0.0"  # noqa: S104 - a sidecar listens on its pod address
    listen_port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = Field(
        default=None,
        description="URL at which the Mattermost server reaches warroom (default: the bound address)",
    )
    db_path: Path = Path("warroom.db")
    playbooks_file: Path = Path("playbooks.yaml")
    log_format: Literal["json", "console", "auto"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    testing_enabled: bool = False
    start_emoji: str = Field(default="rotating_light", pattern=r"^[a-z0-9_+\-]{1,64}$")
    request_timeout: float = Field(default=10.0, gt=0)
    # ---- timeline capture by reaction, severity levels (issue 6) ----
    timeline_emoji: str = Field(default="pushpin", pattern=r"^[a-z0-9_+\-]{1,64}$")
    severity_levels: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["SEV1", "SEV2", "SEV3", "SEV4"],
        description="Severity levels, most severe first (comma separated)",
    )

    # ---- rights (issue 9): triggers the bot itself may run for a task's Run button ----
    run_commands: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Slash-command triggers the bot runs itself when a task's Run is clicked (comma"
            " separated, e.g. echo,jira); any other command is handed to the clicker to run."
            " Built-ins that change memberships, channels or settings are refused even here."
        ),
    )

    # ---- outgoing webhooks (issue 14): the hosts besides loopback they may go to ----
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Host names, addresses or CIDR blocks (comma separated) a playbook's webhooks may"
            " target, besides loopback; any other target is refused when playbooks.yaml is"
            " loaded. A private or link-local address a name resolves to at delivery is"
            " refused unless listed here."
        ),
    )

    webhook_timeout: float = Field(
        default=10.0, gt=0, le=60, description="Seconds a webhook receiver has to answer"
    )

    @field_validator(
        "command_tokens", "severity_levels", "run_commands", "webhook_allowed_hosts", mode="before"
    )
    @classmethod
    def _split_tokens(cls, value: object) -> object:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)  # a JSON list works too
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("command_tokens")
    @classmethod
    def _check_command_tokens(cls, value: list[SecretStr]) -> list[SecretStr]:
        for entry in value:
            split_command_token(entry.get_secret_value())  # raises ValueError, without the token
        return value

    def webhook_hosts(self) -> frozenset[str]:
        """``WARROOM_WEBHOOK_ALLOWED_HOSTS`` as lowercase host names, addresses or CIDR blocks."""
        return frozenset(h.strip().lower() for h in self.webhook_allowed_hosts if h.strip())

    def command_token_entries(self) -> list[tuple[str | None, str]]:
        """``(team_id or None for any team, token)`` for each ``WARROOM_COMMAND_TOKENS`` entry."""
        return [split_command_token(t.get_secret_value()) for t in self.command_tokens]

    # Defined first: pydantic runs a field's validators in order, and "chat.example.com" is
    # not a URL at all rather than a URL with a path.
    @field_validator("mattermost_url", "public_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://chat.example.com")
        return value.rstrip("/")

    @field_validator("mattermost_url")
    @classmethod
    def _no_subpath(cls, value: str) -> str:
        if urlsplit(value).path not in ("", "/"):
            raise ValueError("must not have a path: serve Mattermost at the root of its host")
        return value

    @field_validator("public_url")
    @classmethod
    def _short_enough(cls, value: str | None) -> str | None:
        if value is not None and len(value) > PUBLIC_URL_MAX:
            raise ValueError(
                f"must be at most {PUBLIC_URL_MAX} characters: every button warroom posts"
                " carries it, and Mattermost limits what a post may carry"
            )
        return value

    @field_validator("run_commands")
    @classmethod
    def _triggers(cls, value: list[str]) -> list[str]:
        triggers = [t.strip().lstrip("/").lower() for t in value if t.strip().lstrip("/")]
        for trigger in triggers:
            if " " in trigger or len(trigger) > 128:
                raise ValueError(f"{trigger!r} is not a slash-command trigger")
        return list(dict.fromkeys(triggers))


def split_command_token(entry: str) -> tuple[str | None, str]:
    """``"<team id>:<token>"`` -> ``(team id, token)``; a plain ``"<token>"`` -> ``(None, token)``.

    A team id is Mattermost's 26 lowercase letters and digits; Mattermost's command tokens
    hold no ``:``. Raises ValueError (whose message never contains the token).
    """
    team_id, sep, token = entry.partition(":")
    if not sep:
        return None, entry
    if not _TEAM_ID.fullmatch(team_id) or not token:
        raise ValueError(
            "each entry is a token, or a team id (26 lowercase letters and digits), ':' and a token"
        )
    return team_id, token
