"""The Mattermost events the services react to, as frozen models (the websocket adapter,
``bot/transport/events.py``, parses frames into these; services import them from here, so
dependencies point inward). Shapes as Mattermost 5.36 sends them (see that module)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from bot.services.ports import Channel, Post, User


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WsEvent(_Model):
    """Base of every event: the connection's sequence number and the wire event name."""

    name: ClassVar[str] = ""
    seq: int

    def log_ids(self) -> dict[str, str]:
        """The ids worth binding to a log line about this event."""
        return {}


class Hello(WsEvent):
    name: ClassVar[str] = "hello"
    connection_id: str = ""
    server_version: str = ""

    @property
    def channel_id(self) -> str:
        return ""


class _PostEvent(WsEvent):
    post: Post

    @property
    def channel_id(self) -> str:
        return self.post.channel_id

    def log_ids(self) -> dict[str, str]:
        return {"channel_id": self.post.channel_id, "post_id": self.post.id}


class Posted(_PostEvent):
    name: ClassVar[str] = "posted"
    channel_type: str = ""
    channel_name: str = ""
    team_id: str = ""
    sender_name: str = ""
    mentions: tuple[str, ...] = ()


class PostEdited(_PostEvent):
    name: ClassVar[str] = "post_edited"


class PostDeleted(_PostEvent):
    name: ClassVar[str] = "post_deleted"


class Reaction(_Model):
    user_id: str
    post_id: str
    emoji_name: str
    create_at: int = 0


class _ReactionEvent(WsEvent):
    reaction: Reaction
    channel_id: str = ""  # from the broadcast: a reaction does not name its channel

    def log_ids(self) -> dict[str, str]:
        return {
            "channel_id": self.channel_id,
            "post_id": self.reaction.post_id,
            "user_id": self.reaction.user_id,
        }


class ReactionAdded(_ReactionEvent):
    name: ClassVar[str] = "reaction_added"


class ReactionRemoved(_ReactionEvent):
    name: ClassVar[str] = "reaction_removed"


class _MembershipEvent(WsEvent):
    user_id: str
    channel_id: str

    def log_ids(self) -> dict[str, str]:
        return {"channel_id": self.channel_id, "user_id": self.user_id}


class UserAdded(_MembershipEvent):
    """Someone joined a channel the bot is in (``channel_id`` comes from the broadcast)."""

    name: ClassVar[str] = "user_added"
    team_id: str = ""


class UserRemoved(_MembershipEvent):
    """Someone left or was removed from a channel; ``remover_id`` is "" when they left."""

    name: ClassVar[str] = "user_removed"
    remover_id: str = ""


class ChannelCreated(WsEvent):
    name: ClassVar[str] = "channel_created"
    channel_id: str
    team_id: str = ""

    def log_ids(self) -> dict[str, str]:
        return {"channel_id": self.channel_id, "team_id": self.team_id}


class ChannelUpdated(WsEvent):
    """A channel's properties changed (renamed, header …): ``data.channel`` is the whole channel
    as a JSON string (5.36 ``app/channel.go`` ``UpdateChannel``)."""

    name: ClassVar[str] = "channel_updated"
    channel: Channel

    @property
    def channel_id(self) -> str:
        return self.channel.id

    def log_ids(self) -> dict[str, str]:
        return {"channel_id": self.channel.id}


class ChannelDeleted(WsEvent):
    """A channel was archived: ``data.channel_id`` and ``data.delete_at`` (ms), broadcast to the
    team (5.36 ``app/channel.go`` ``DeleteChannel``)."""

    name: ClassVar[str] = "channel_deleted"
    channel_id: str
    delete_at: int = 0

    def log_ids(self) -> dict[str, str]:
        return {"channel_id": self.channel_id}


class ChannelRestored(WsEvent):
    """An archived channel was restored: ``data.channel_id`` (5.36 ``RestoreChannel``)."""

    name: ClassVar[str] = "channel_restored"
    channel_id: str

    def log_ids(self) -> dict[str, str]:
        return {"channel_id": self.channel_id}


class UserUpdated(WsEvent):
    """A user changed (renamed, deactivated: ``delete_at`` > 0, reactivated): ``data.user`` is
    the sanitised user object (5.36 ``app/user.go`` ``sendUpdatedUserEvent``)."""

    name: ClassVar[str] = "user_updated"
    user: User

    @property
    def channel_id(self) -> str:
        return ""

    def log_ids(self) -> dict[str, str]:
        return {"user_id": self.user.id}


class AddedToTeam(WsEvent):
    """Sent to the user who was added (the bot joining a team, for instance)."""

    name: ClassVar[str] = "added_to_team"
    team_id: str
    user_id: str

    @property
    def channel_id(self) -> str:
        return ""

    def log_ids(self) -> dict[str, str]:
        return {"team_id": self.team_id, "user_id": self.user_id}


Event = (
    Hello
    | Posted
    | PostEdited
    | PostDeleted
    | ReactionAdded
    | ReactionRemoved
    | UserAdded
    | UserRemoved
    | ChannelCreated
    | ChannelUpdated
    | ChannelDeleted
    | ChannelRestored
    | UserUpdated
    | AddedToTeam
)

EVENT_TYPES: tuple[type[WsEvent], ...] = (
    Hello,
    Posted,
    PostEdited,
    PostDeleted,
    ReactionAdded,
    ReactionRemoved,
    UserAdded,
    UserRemoved,
    ChannelCreated,
    ChannelUpdated,
    ChannelDeleted,
    ChannelRestored,
    UserUpdated,
    AddedToTeam,
)
