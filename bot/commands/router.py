"""The slash-command language: ``/incident <subcommand> <args…>`` routed to handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.limits import COMMAND_TEXT
from bot.services.container import Services

# The text after the trigger: at most what Mattermost's message box takes (bot/domain/limits).
MAX_TEXT = COMMAND_TEXT.most


class CommandRequest(BaseModel):
    """One command, whatever carried it: the transport-neutral request every handler takes.

    From ``/incident`` it is the form Mattermost POSTs (``via="slash"``; the HTTP edge
    verified ``token`` before building it). From a chat message (``via="dm"`` or
    ``"mention"``, see :mod:`bot.commands.chat`) there is no token, no ``response_url`` and
    no ``trigger_id``: a handler that opens a dialog then raises
    :class:`bot.services.ports.NeedsTrigger` and the chat transport answers with a button
    that opens it. ``post_id``/``root_id`` name the chat message and its thread.
    """

    model_config = ConfigDict(extra="ignore", str_max_length=MAX_TEXT)

    token: str = ""
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
    via: Literal["slash", "dm", "mention", "button"] = "slash"
    post_id: str = ""
    root_id: str = ""


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
    # A dialog the command wanted to open without a trigger id (a chat message): its title.
    # The chat transport answers with a button that runs the command again and opens it.
    dialog_title: str = ""
    # The command was refused (unknown, bad input, no right, failure): chat answers privately.
    refused: bool = False

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

    def alias(self, name: str, target: str) -> None:
        """``name`` runs ``target``'s handler (hidden from help); ``target`` must exist."""
        entry = self._subs[target]
        self._subs[name] = Subcommand(name, entry.handler, entry.help, hidden=True)

    def names(self) -> list[str]:
        """Every subcommand name, aliases and hidden ones included (for did-you-mean)."""
        return list(self._subs)

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
