"""The slash-command language: ``/incident <subcommand> <args…>`` routed to handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.limits import COMMAND_TEXT
from bot.services.container import Services

# The text after the trigger: at most what Mattermost's message box takes (bot/domain/limits).
MAX_TEXT = COMMAND_TEXT.most


class CommandRequest(BaseModel):
    """The form Mattermost POSTs for a slash command, validated."""

    model_config = ConfigDict(extra="ignore", str_max_length=MAX_TEXT)

    token: str = Field(min_length=1)
    team_id: str = Field(pattern=r"^[a-z0-9]{26}$")
    team_domain: str = ""
    channel_id: str = Field(pattern=r"^[a-z0-9]{26}$")
    channel_name: str = ""
    user_id: str = Field(pattern=r"^[a-z0-9]{26}$")
    user_name: str = ""
    command: str = ""
    text: str = ""
    trigger_id: str = ""
    response_url: str = ""


@dataclass
class Reply:
    """What the command answers. Ephemeral unless ``in_channel``.

    Every reply sets ``skip_slack_parsing``: otherwise Mattermost 5.36 rewrites Slack-style
    links (``<target|label>``) in ``text`` and expands ``<!channel>``, ``<!here>``, ``<!all>``
    and ``<@user-id>`` in the text and the attachments (app/command.go,
    HandleCommandResponsePost and CreateCommandPost; model/slack_attachment.go). Note that
    the link rewriting of attachments' ``text``, ``pretext`` and field values happens even
    with the flag set (CreateCommandPost always calls ParseSlackAttachment), so renderers keep
    ``<…|…>`` out of the attachments of command replies.
    """

    text: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    in_channel: bool = False

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "response_type": "in_channel" if self.in_channel else "ephemeral",
            "text": self.text,
            "skip_slack_parsing": True,
        }
        if self.attachments:
            body["attachments"] = self.attachments
        return body


Handler = Callable[[Services, CommandRequest, list[str], str], Awaitable[Reply]]


@dataclass(frozen=True)
class Subcommand:
    name: str
    handler: Handler
    help: str = ""
    hidden: bool = False


class CommandRouter:
    def __init__(self) -> None:
        self._subs: dict[str, Subcommand] = {}

    def add(self, name: str, handler: Handler, *, help: str = "", hidden: bool = False) -> None:
        self._subs[name] = Subcommand(name, handler, help, hidden)

    def get(self, name: str) -> Subcommand | None:
        return self._subs.get(name)

    def extra_help(self, core: set[str]) -> list[tuple[str, str]]:
        return [
            (s.name, s.help)
            for s in self._subs.values()
            if s.help and not s.hidden and s.name not in core
        ]


def split(text: str) -> tuple[str, list[str], str]:
    """``"start  Disk full "`` -> ``("start", ["Disk", "full"], "Disk full")``."""
    stripped = text.strip()
    if not stripped:
        return "", [], ""
    head, _, rest = stripped.partition(" ")
    return head.lower(), rest.split(), rest.strip()
