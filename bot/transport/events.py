"""Websocket events, parsed once at the edge into frozen models.

Frames look like ``{"event", "data", "broadcast": {channel_id, team_id, user_id}, "seq"}``;
``data.post``, ``data.reaction`` and ``data.channel`` arrive as JSON *strings* and are decoded
here (``data.user`` of ``user_updated`` is a plain object on 5.36, see
``app/user.go`` ``sendUpdatedUserEvent``).

Every event kind warroom reacts to must also be re-read by the re-sync after a (re)connect
(5.36 cannot resume a stream): see ``bot/services/sync.py`` and the table of followed objects
in ``docs/mattermost-objects.md``. ``tests/test_follow_rule.py`` fails when a handled kind has
no re-sync counterpart. Events
warroom does not use (``typing``, ``status_change`` …) and replies to our own requests
(``seq_reply``) parse to ``None``; so does anything malformed, with one warning logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import Field, ValidationError

from bot.log import get_logger
from bot.services.events import (
    EVENT_TYPES,
    AddedToTeam,
    ChannelCreated,
    ChannelDeleted,
    ChannelRestored,
    ChannelUpdated,
    Event,
    Hello,
    PostDeleted,
    Posted,
    PostEdited,
    Reaction,
    ReactionAdded,
    ReactionRemoved,
    UserAdded,
    UserRemoved,
    UserUpdated,
    WsEvent,
    _Model,
)

log = get_logger(__name__)

# Re-exported: the event models live with the services that react to them.
__all__ = [
    "EVENT_TYPES",
    "AddedToTeam",
    "ChannelCreated",
    "ChannelDeleted",
    "ChannelRestored",
    "ChannelUpdated",
    "Event",
    "Frame",
    "Hello",
    "PostDeleted",
    "PostEdited",
    "Posted",
    "Reaction",
    "ReactionAdded",
    "ReactionRemoved",
    "UserAdded",
    "UserRemoved",
    "UserUpdated",
    "WsEvent",
    "decode_frame",
    "parse_frame",
]


class _Envelope(_Model):
    event: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    broadcast: dict[str, Any] = Field(default_factory=dict)
    seq: int | None = None
    seq_reply: int | None = None


@dataclass(frozen=True, slots=True)
class Frame:
    """One websocket frame: its ``seq`` (None for replies and garbage) and the event, if any.

    The listener needs the seq of ignored events too, to notice gaps.
    """

    seq: int | None
    event: Event | None
    kind: str = ""  # the server's event name ("posted", "hello" …), even when ignored


def _nested(data: dict[str, Any], key: str) -> Any:
    """A nested object that the server sends as a JSON string (decoded copies are accepted)."""
    value = data.get(key)
    if isinstance(value, str | bytes):
        return json.loads(value)
    return value


def _mentions(data: dict[str, Any]) -> list[str]:
    value = data.get("mentions")
    if value is None or value == "":
        return []
    decoded = json.loads(value) if isinstance(value, str) else value
    if not isinstance(decoded, list):
        raise ValueError("mentions is not a list")
    return [str(v) for v in decoded]


def _fields(env: _Envelope) -> dict[str, Any] | None:
    """The flat fields of the model for ``env.event``, or None for an ignored event."""
    data, broadcast, name = env.data, env.broadcast, env.event
    if name == Hello.name:
        return {
            "connection_id": data.get("connection_id", ""),
            "server_version": data.get("server_version", ""),
        }
    if name == Posted.name:
        return {
            "post": _nested(data, "post"),
            "channel_type": data.get("channel_type", ""),
            "channel_name": data.get("channel_name", ""),
            "team_id": data.get("team_id", ""),
            "sender_name": data.get("sender_name", ""),
            "mentions": _mentions(data),
        }
    if name in (PostEdited.name, PostDeleted.name):
        return {"post": _nested(data, "post")}
    if name in (ReactionAdded.name, ReactionRemoved.name):
        return {
            "reaction": _nested(data, "reaction"),
            "channel_id": broadcast.get("channel_id", ""),
        }
    if name == UserAdded.name:
        return {
            "user_id": data.get("user_id"),
            "team_id": data.get("team_id", ""),
            "channel_id": data.get("channel_id") or broadcast.get("channel_id"),
        }
    if name == UserRemoved.name:
        # To the channel: broadcast.channel_id + data.user_id; to the removed user's own
        # connections: data.channel_id + broadcast.user_id.
        return {
            "user_id": data.get("user_id") or broadcast.get("user_id"),
            "channel_id": data.get("channel_id") or broadcast.get("channel_id"),
            "remover_id": data.get("remover_id", ""),
        }
    if name == AddedToTeam.name:
        return {
            "team_id": data.get("team_id"),
            "user_id": data.get("user_id") or broadcast.get("user_id"),
        }
    if name == ChannelCreated.name:
        return {"channel_id": data.get("channel_id"), "team_id": data.get("team_id", "")}
    if name == ChannelUpdated.name:
        return {"channel": _nested(data, "channel")}
    if name == ChannelDeleted.name:
        return {"channel_id": data.get("channel_id"), "delete_at": data.get("delete_at", 0)}
    if name == ChannelRestored.name:
        return {"channel_id": data.get("channel_id")}
    if name == UserUpdated.name:
        return {"user": _nested(data, "user")}
    return None


_BY_NAME: dict[str, type[WsEvent]] = {cls.name: cls for cls in EVENT_TYPES}


def decode_frame(raw: str | bytes) -> Frame:
    """Parse one frame. Never raises; a malformed frame gives ``Frame(seq, None)``."""
    try:
        env = _Envelope.model_validate_json(raw)
    except ValidationError as exc:
        log.warning("ws_frame_malformed", error=_short(exc), size=len(raw))
        return Frame(None, None)
    if env.seq_reply is not None or env.seq is None:
        return Frame(env.seq, None)
    try:
        fields = _fields(env)
        if fields is None:
            return Frame(env.seq, None, env.event)
        event = _BY_NAME[env.event].model_validate({"seq": env.seq, **fields})
    except (ValueError, TypeError) as exc:  # JSONDecodeError and ValidationError included
        log.warning("ws_event_malformed", ws_event=env.event, seq=env.seq, error=_short(exc))
        return Frame(env.seq, None, env.event)
    return Frame(env.seq, event, env.event)  # type: ignore[arg-type]


def parse_frame(raw: str | bytes) -> Event | None:
    """The event in one frame, or None for ignored events, replies and malformed frames."""
    return decode_frame(raw).event


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()
    return text[0][:200] if text else type(exc).__name__
