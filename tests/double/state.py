"""In-memory model of the server: teams, users, channels, posts, commands."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .config import ServerConfig
from .errors import MattermostHTTPError, channel_not_found, permission_error, user_not_found
from .texts import Mentions
from .util import Json


@dataclass
class Team:
    id: str
    name: str
    display_name: str
    create_at: int = 0
    invite_id: str = ""


@dataclass
class User:
    id: str
    username: str
    token: str
    roles: str = "system_user"
    is_bot: bool = False
    email: str = ""
    first_name: str = ""
    create_at: int = 0
    update_at: int = 0
    bot_description: str = ""
    bot_display_name: str = ""
    owner_id: str = ""
    delete_at: int = 0  # deactivated when > 0 (PUT /users/{id}/active, DELETE /users/{id})

    @property
    def is_admin(self) -> bool:
        return "system_admin" in self.roles.split()

    @property
    def is_guest(self) -> bool:
        """A guest account (``system_guest``): in its teams as ``team_guest``."""
        return "system_guest" in self.roles.split()


@dataclass
class Channel:
    id: str
    team_id: str
    name: str
    display_name: str
    type: str = "O"  # O public, P private, D direct
    header: str = ""
    purpose: str = ""
    creator_id: str = ""
    create_at: int = 0
    update_at: int = 0
    last_post_at: int = 0
    total_msg_count: int = 0
    delete_at: int = 0  # archived when > 0 (DELETE /channels/{id})

    @property
    def private(self) -> bool:
        return self.type == "P"


@dataclass
class Member:
    channel_id: str
    user_id: str
    roles: str = "channel_user"
    last_update_at: int = 0
    last_viewed_at: int = 0
    msg_count: int = 0


@dataclass
class Command:
    id: str
    team_id: str
    trigger: str
    url: str
    token: str
    method: str = "P"
    creator_id: str = ""
    create_at: int = 0
    update_at: int = 0
    auto_complete: bool = False
    auto_complete_desc: str = ""
    auto_complete_hint: str = ""
    display_name: str = ""
    description: str = ""
    icon_url: str = ""
    username: str = ""


@dataclass
class FileRecord:
    id: str
    user_id: str
    channel_id: str
    name: str
    data: bytes
    mime_type: str
    create_at: int
    post_id: str = ""


@dataclass
class Reaction:
    user_id: str
    post_id: str
    emoji_name: str
    create_at: int


@dataclass
class Trigger:
    client_id: str
    user_id: str
    channel_id: str
    team_id: str
    create_at: int


@dataclass
class CommandHook:
    """A `response_url` handed to a slash command integration."""

    id: str
    user_id: str
    channel_id: str
    team_id: str
    root_id: str
    create_at: int
    command_id: str = ""
    uses: int = 0


@dataclass(frozen=True)
class RequestRecord:
    """One request served. ``began``/``answered``: ``time.perf_counter()`` when it came in
    and when its answer was ready (system-wide monotonic on Linux, so comparable with other
    processes' readings). ``query``, ``body`` and ``answer`` (the request's and the answer's
    bytes) only while the double keeps bodies (``MattermostDouble.keep_bodies``)."""

    method: str
    path: str
    user_id: str | None
    status: int
    began: float = field(default=0.0, compare=False)
    answered: float = field(default=0.0, compare=False)
    query: str = field(default="", compare=False)
    body: bytes = field(default=b"", compare=False, repr=False)
    answer: bytes = field(default=b"", compare=False, repr=False)


@dataclass
class FailRule:
    method: str
    path_regex: str
    status: int
    error_id: str
    times: int
    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method.upper())) and re.search(
            self.path_regex, path
        ) is not None


@dataclass(frozen=True)
class ClickResult:
    status: int
    body: Any


class State:
    """All stored objects plus the permission rules that read them."""

    def __init__(self) -> None:
        self.teams: dict[str, Team] = {}
        self.users: dict[str, User] = {}
        self.tokens: dict[str, str] = {}  # token -> user id
        self.token_records: dict[str, Json] = {}  # token id -> UserAccessToken (no token)
        self.team_members: dict[str, set[str]] = {}
        self.channels: dict[str, Channel] = {}
        self.members: dict[str, dict[str, Member]] = {}
        self.posts: dict[str, Json] = {}  # full internal posts, integration kept
        # channel id -> its posts, and root post id -> its replies (the same objects, oldest
        # first): kept by add_post, so no view reads every post of the server
        self.posts_by_channel: dict[str, list[Json]] = {}
        self.replies: dict[str, list[Json]] = {}
        self.ephemerals: dict[str, list[Json]] = {}
        self.dialogs: dict[str, list[Json]] = {}
        self.dialog_problems: list[str] = []  # what a current server would warn about
        self.dialog_context: dict[str, Trigger] = {}
        self.reactions: dict[str, list[Reaction]] = {}
        self.files: dict[str, FileRecord] = {}
        self.commands: dict[str, Command] = {}
        self.triggers: dict[str, Trigger] = {}
        self.hooks: dict[str, CommandHook] = {}
        self.notified: dict[str, Mentions] = {}  # post id -> whom it notified (texts.py)
        self.config = ServerConfig()  # what GET /api/v4/config answers, and its rules
        self._by_name: dict[tuple[str, str], Channel] = {}  # lookups remembered (see below)

    # ---- lookups -------------------------------------------------------
    def user(self, user_id: str) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise user_not_found(user_id)
        return user

    def user_by_name(self, username: str) -> User | None:
        name = username.lower().lstrip("@")
        return next((u for u in self.users.values() if u.username == name), None)

    def user_by_token(self, token: str) -> User | None:
        """The token's user; None for a deactivated one (5.36 ``app/session.go``: sessions are
        revoked and an access token of a deactivated user opens none)."""
        user_id = self.tokens.get(token)
        user = self.users.get(user_id) if user_id else None
        return user if user is not None and not user.delete_at else None

    def channel(self, channel_id: str) -> Channel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise channel_not_found(channel_id)
        return channel

    def channel_by_name(self, team_id: str, name: str) -> Channel | None:
        # A remembered hit is used only while it is still stored and still has that name
        # (a rename changes the channel in place); else one pass over all channels
        # (thousands in benchmarks).
        hit = self._by_name.get((team_id, name))
        if hit is not None and self.channels.get(hit.id) is hit and hit.name == name:
            return hit
        found = next(
            (c for c in self.channels.values() if c.team_id == team_id and c.name == name), None
        )
        if found is not None:
            self._by_name[(team_id, name)] = found
        return found

    def command_by_trigger(self, team_id: str, trigger: str) -> Command | None:
        return next(
            (c for c in self.commands.values() if c.team_id == team_id and c.trigger == trigger),
            None,
        )

    def member_ids(self, channel_id: str) -> set[str]:
        return set(self.members.get(channel_id, {}))

    def team_member_ids(self, team_id: str) -> set[str]:
        return set(self.team_members.get(team_id, set()))

    def add_post(self, post: Json) -> None:
        """Store a new post (a post's id, channel and root never change)."""
        self.posts[post["id"]] = post
        self.posts_by_channel.setdefault(post["channel_id"], []).append(post)
        if post["root_id"]:
            self.replies.setdefault(post["root_id"], []).append(post)

    def channel_posts(self, channel_id: str, *, include_deleted: bool = False) -> list[Json]:
        # The channel's own posts, not every post of the server: a benchmark's double holds
        # tens of thousands, and a re-sync reads thousands of channels.
        posts = [
            p
            for p in self.posts_by_channel.get(channel_id, ())
            if include_deleted or not p["delete_at"]
        ]
        return sorted(posts, key=lambda p: int(p["create_at"]))

    # ---- permission rules ----------------------------------------------
    def in_team(self, user_id: str, team_id: str) -> bool:
        return user_id in self.team_members.get(team_id, set())

    def is_member(self, user_id: str, channel_id: str) -> bool:
        return user_id in self.members.get(channel_id, {})

    def can_read(self, user: User, channel: Channel) -> bool:
        """Members read a channel; a public one also every team member holding
        read_public_channel, which ``team_user`` has and ``team_guest`` lacks (5.36
        model/role.go: team_guest holds only view_team), so never a guest."""
        if user.is_admin or self.is_member(user.id, channel.id):
            return True
        return channel.type == "O" and not user.is_guest and self.in_team(user.id, channel.team_id)

    def can_post(self, user: User, channel: Channel) -> bool:
        """``create_post`` is a channel member's permission (5.36 api4/post.go createPost:
        ``create_post`` on the channel, else ``create_post_public`` on the team, which only
        the post-all roles hold), so a team member must join a public channel first.

        The recording ``rest_post_in_channel_bot_is_not_member`` (fact 7) shows a bot posting
        unjoined, but it seems to have been made after that bot became a system admin; the
        double follows the source, the stricter reading: warroom joins a public channel
        before posting when refused, so it works on either.
        """
        return user.is_admin or self.is_member(user.id, channel.id)

    def holds_channel_role(self, user: User, channel: Channel) -> bool:
        """Whether ``user`` holds a channel-scoped permission (``read_channel``, ``edit_post``,
        ``delete_post``, ``add_reaction``, ``remove_reaction``) in ``channel``.

        5.36 app/authorization.go SessionHasPermissionToChannel(ByPost) looks at the channel
        member's roles, then the team's, then the system's; in the default scheme
        (model/role.go MakeDefaultRoles, utils/authorization.go) these permissions are only in
        ``channel_user`` (and ``system_admin``): a team member who has not joined a public
        channel holds ``read_public_channel`` only, which GET /channels/{id}, GET
        /posts/{id} and posting (recorded fact 7) accept, and nothing else does.
        """
        return user.is_admin or self.is_member(user.id, channel.id)

    def require_channel_role(self, user: User, channel: Channel, permission: str) -> None:
        """403 ``api.context.permissions.app_error`` unless :meth:`holds_channel_role`."""
        if not self.holds_channel_role(user, channel):
            raise permission_error(user.id, permission)

    def can_manage(self, user: User, channel: Channel) -> bool:
        """Manage members and properties: channel members (channel_user role) or admins."""
        return user.is_admin or self.is_member(user.id, channel.id)

    def require_read(self, user: User, channel: Channel) -> None:
        if not self.can_read(user, channel):
            raise permission_error(user.id, "read_channel")

    def require_commands_enabled(self) -> None:
        """app/command.go: custom slash commands answer 501 while EnableCommands is off."""
        if not self.config.service("EnableCommands"):
            raise MattermostHTTPError(501, "api.command.disabled.app_error")

    def require_admin(self, user: User, permission: str) -> None:
        if not user.is_admin:
            raise permission_error(user.id, permission)

    def require_team(self, user: User, team_id: str, permission: str = "view_team") -> None:
        if not (user.is_admin or self.in_team(user.id, team_id)):
            raise permission_error(user.id, permission)

    def team_of(self, team_id: str) -> Team:
        team = self.teams.get(team_id)
        if team is None:
            raise MattermostHTTPError(
                404, "app.team.get.find.app_error", detailed_error=f"resource: Team id: {team_id}"
            )
        return team
