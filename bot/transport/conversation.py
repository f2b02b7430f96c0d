"""Chat intake: which ``posted`` frames are for warroom, decided cheaply before any I/O.

The bot receives a ``posted`` event for every message in every channel it belongs to; only
a few are for it. :meth:`Intake.skip` looks at the raw frame text and, for a plain post
that neither is a direct message nor mentions the bot nor sits in a watched channel
(signals), returns the frame's ``seq`` without decoding anything (the listener still needs
the seq to notice gaps). Everything else goes to :func:`bot.transport.events.decode_frame`.

Why substring checks are sound on the wire form (5.36 ``model.WebSocketEvent.ToJson``,
compact Go JSON): ``data.post`` is a JSON *string*, so every quote inside it, and inside
any other string field, is escaped. An unescaped ``"channel_type":"D"``, ``"mentions":`` or
``"seq":`` can only be the envelope's own key; a user's message can never forge one.
A frame that does not look like that (bytes, another layout) is simply decoded in full.

A new consumer of plain ``posted`` events must widen the intake (:attr:`Intake.watched`,
or a check here); system posts (``type: system_*``) always pass.

:func:`addressed` then applies the safety rules to a decoded event: never a bot's or a
webhook's post (``props.from_bot``/``from_webhook``, Mattermost sets them), never a system
post, never warroom's own, never an edit. The sender's ``is_bot`` needs a lookup and is
checked by :class:`bot.commands.chat.Conversation`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.commands.chat import ChatMessage, Conversation, from_person
from bot.commands.router import CommandRouter
from bot.domain.models import Playbook
from bot.services.container import Services
from bot.services.directory import Directory
from bot.services.ports import ConversationRecords
from bot.services.signals import SignalWatcher
from bot.transport.events import Frame, Posted

_POSTED = '"event":"posted"'
_DIRECT = '"channel_type":"D"'
_GROUP = '"channel_type":"G"'
_MENTIONS = '"mentions":'
_PLAIN_POST = '\\"type\\":\\"\\"'
_SYSTEM_POST = '\\"type\\":\\"system_'
_SEQ = '"seq":'
_CHANNEL = re.compile(r'"channel_id":"([a-z0-9]{26})"')


class Intake:
    """The cheap pre-filter for the websocket listener (``WebsocketListener(prefilter=…)``).

    ``watched``: channel ids whose plain posts must be decoded too (signal channels); the
    app replaces the set when playbooks reload.
    """

    def __init__(self, bot_user_id: str) -> None:
        self.bot_user_id = bot_user_id
        self.watched: frozenset[str] = frozenset()
        self.skipped = 0

    def skip(self, raw: str | bytes) -> Frame | None:
        """``Frame(seq, None)`` for a posted frame nobody needs, else None (decode it)."""
        if not isinstance(raw, str) or _POSTED not in raw:
            return None
        if _DIRECT in raw or _GROUP in raw or _SYSTEM_POST in raw or _PLAIN_POST not in raw:
            return None
        at = raw.find(_MENTIONS)
        if at >= 0 and self.bot_user_id in raw[at : raw.find("]", at)]:
            return None
        if self.watched:
            channel = _CHANNEL.search(raw)
            if channel is None or channel.group(1) in self.watched:
                return None
        seq = _seq(raw)
        if seq is None:
            return None
        self.skipped += 1
        return Frame(seq, None)


def _seq(raw: str) -> int | None:
    at = raw.rfind(_SEQ)
    if at < 0:
        return None
    start = end = at + len(_SEQ)
    while end < len(raw) and raw[end].isdigit():
        end += 1
    return int(raw[start:end]) if end > start else None


def addressed(event: Posted, bot_user_id: str) -> ChatMessage | None:
    """The chat message in ``event`` if it is for warroom (a DM to it, or a mention of it)."""
    post = event.post
    if not from_person(post, bot_user_id):
        return None
    via: Literal["dm", "mention"]
    if event.channel_type == "D" and bot_user_id in event.channel_name.split("__"):
        via = "dm"
    elif bot_user_id in event.mentions:
        via = "mention"
    else:
        return None
    return ChatMessage(
        via=via,
        post_id=post.id,
        root_id=post.root_id,
        channel_id=post.channel_id,
        channel_name=event.channel_name,
        team_id=event.team_id,
        user_id=post.user_id,
        message=post.message,
    )


@dataclass
class ChatSide:
    """The conversational side, as the app wires it: intake, commands by chat, signals."""

    intake: Intake
    conversation: Conversation
    signals: SignalWatcher
    directory: Directory

    def reindex(self, playbooks: list[Playbook]) -> None:
        """New playbooks: new signal rules, and the intake watches their channels."""
        self.signals.load(playbooks)
        self.intake.watched = self.signals.channel_ids

    async def on_posted(self, event: Posted) -> None:
        """A ``posted`` event that passed the intake: answer it, and look for signals."""
        bot = self.intake.bot_user_id
        message = addressed(event, bot)
        if message is not None:
            await self.conversation.on_message(message)
        post = event.post
        if post.channel_id in self.intake.watched and from_person(post, bot):
            if (await self.directory.user(post.user_id)).is_bot:
                return
            await self.signals.on_message(
                post_id=post.id, root_id=post.root_id, channel_id=post.channel_id,
                message=post.message,
            )  # fmt: skip


def wire(
    services: Services, commands: CommandRouter, *, bot_username: str, store: ConversationRecords
) -> ChatSide:
    """Build the conversational side; the app registers :meth:`ChatSide.on_posted` and
    hands :meth:`Intake.skip` to the websocket listener. ``store``: built by the app."""
    side = ChatSide(
        intake=Intake(services.bot_user_id),
        conversation=Conversation(services, commands, bot_username=bot_username, store=store),
        signals=SignalWatcher(
            chat=services.chat, store=store, buttons=services.buttons, clock=services.clock
        ),
        directory=services.directory,
    )
    services.playbooks.reloaded.append(side.reindex)
    return side
