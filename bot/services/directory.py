"""Who is who: users by id and name, cached briefly, and the permission checks built on them."""

from __future__ import annotations

import time
from collections.abc import Iterable

from bot.domain.models import Incident
from bot.errors import InputError, NotFound, PermissionDenied
from bot.render.views import Names
from bot.services.memberships import Memberships
from bot.services.ports import Channel, ChatClient, ChatRefused, Post, User

USER_TTL_S = 60.0


class Directory:
    """Users by id and name (cached briefly) and the caller-rights checks built on them.

    Channel membership is answered from what warroom follows (:class:`Memberships`) when it
    is known: a known member is confirmed without asking Mattermost; a known non-member, or
    a channel not known, is asked once over REST (one channel, never one per incident), and
    a disagreement has the channel listed again.
    """

    def __init__(self, chat: ChatClient, memberships: Memberships | None = None) -> None:
        self._chat = chat
        self._members = memberships
        self._users: dict[str, tuple[float, User]] = {}

    def _fresh(self, user_id: str) -> User | None:
        hit = self._users.get(user_id)
        if hit is not None and time.monotonic() - hit[0] < USER_TTL_S:
            return hit[1]
        return None

    def remember(self, user: User) -> None:
        self._users[user.id] = (time.monotonic(), user)

    async def user(self, user_id: str) -> User:
        cached = self._fresh(user_id)
        if cached is not None:
            return cached
        try:
            user = await self._chat.get_user(user_id)
        except ChatRefused as exc:
            if exc.status in (400, 404):
                raise NotFound("user", user_id) from None
            raise
        self.remember(user)
        return user

    def forget_all(self) -> None:
        """Drop every cached user (the re-sync: ``user_updated`` events may have been lost)."""
        self._users.clear()

    async def current(self, user_id: str) -> User:
        """The user as Mattermost has them now, never from the cache: for decisions that
        depend on the user's state (deactivated: ``delete_at`` > 0). NotFound if unknown."""
        self._users.pop(user_id, None)
        return await self.user(user_id)

    async def current_by_username(self, username: str) -> User:
        """Like :meth:`current`, by ``@name``."""
        name = username.removeprefix("@").lower()
        for uid in [uid for uid, (_, u) in self._users.items() if u.username == name]:
            self._users.pop(uid, None)
        return await self.by_username(name)

    async def by_username(self, username: str) -> User:
        name = username.removeprefix("@").lower()
        for _, user in self._users.values():
            if user.username == name:
                return user
        try:
            user = await self._chat.get_user_by_username(name)
        except ChatRefused as exc:
            if exc.status in (400, 404):
                raise NotFound("user", "@" + name) from None
            raise
        self.remember(user)
        return user

    async def names(self, user_ids: Iterable[str]) -> Names:
        wanted = {uid for uid in user_ids if uid}
        missing = [uid for uid in wanted if self._fresh(uid) is None]
        if missing:
            try:
                for user in await self._chat.get_users(missing):
                    self.remember(user)
            except ChatRefused:
                pass
        found: dict[str, str] = {}
        inactive: set[str] = set()
        for uid in wanted:
            hit = self._users.get(uid)
            if hit is not None:
                found[uid] = hit[1].username
                if hit[1].is_deactivated:
                    inactive.add(uid)
        return Names(found, frozenset(inactive))

    async def is_admin(self, user_id: str) -> bool:
        return (await self.user(user_id)).is_admin

    async def require_member(self, incident: Incident, user_id: str) -> None:
        """Members of the incident channel (and system admins) may change the incident.

        A member is not asked about further (membership is followed, so this is usually
        answered from the store alone, on every change)."""
        if not (
            await self.is_channel_member(incident.channel_id, user_id)
            or await self.is_admin(user_id)
        ):
            raise PermissionDenied("not_channel_member")

    async def can_view(self, incident: Incident, user_id: str, *, team_id: str = "") -> bool:
        """Channel members; team members for a public channel; system admins.

        ``team_id``: the team the request came from (Mattermost runs a command only for a
        member of its team), so a public incident of that team needs no further question,
        unless the caller is a guest (guests read public channels only as members).
        A known member of a private incident's channel is answered without asking Mattermost.
        """
        public_here = not incident.private_channel and team_id == incident.team_id
        if public_here and not (await self.user(user_id)).is_guest:
            return True
        return await self._may_read(
            incident.channel_id, incident.team_id, incident.private_channel, user_id
        )

    # ---- the caller's own rights on channels and posts -------------------------------------
    #
    # Rule (issue 9, kind 1): whatever warroom reads or posts for a person must be something
    # Mattermost would let that person read or post. The bot's view of a channel is never
    # enough: these checks ask about the *person*. Mattermost 5.36 lets a user read a channel
    # when they are a member of it, when it is public (type "O") and they belong to its team
    # (app/authorization.go SessionHasPermissionToChannel falls back to the team roles, which
    # hold read_public_channel; team_user has it, team_guest does not: model/role.go, so a
    # guest reads only the channels they belong to), or when they are a system admin.
    # Anything else reads as "not
    # found", exactly like a channel that does not exist: the server itself answers 404 for a
    # private channel the caller cannot read (api4/channel.go getChannelByName), so warroom
    # never reveals that one exists either.

    async def require_in_incident(
        self, incident: Incident, user_id: str, *, field: str = ""
    ) -> None:
        """Refuse a commander or assignee outside the incident channel, saying what can be done:
        :class:`InputError` ``not_in_channel`` (add them first) or, when they are not even in
        the incident's team (so nobody can add them), ``not_in_team``."""
        if await self.is_channel_member(incident.channel_id, user_id):
            return
        if not await self._chat.is_team_member(incident.team_id, user_id):
            raise InputError("not_in_team", field=field)
        raise InputError("not_in_channel", field=field)

    async def is_channel_member(self, channel_id: str, user_id: str) -> bool:
        """Whether ``user_id`` is in ``channel_id`` now: a followed, known membership confirms
        it; otherwise Mattermost is asked (and, if it disagrees, the channel listed again).

        Raises :class:`ChatRefused` when the bot may not see the channel's members.
        """
        known = (
            None if self._members is None else await self._members.is_member(channel_id, user_id)
        )
        if known:
            return True
        member = await self._chat.is_channel_member(channel_id, user_id)
        if known is not None and member and self._members is not None:
            self._members.refresh_later([channel_id])  # a join warroom missed
        return member

    async def _may_read(self, channel_id: str, team_id: str, private: bool, user_id: str) -> bool:
        try:
            if await self.is_channel_member(channel_id, user_id):
                return True
        except ChatRefused:
            pass  # the bot cannot see that channel's members: decide on the rest
        if await self.is_admin(user_id):
            return True
        if not private and team_id:
            return await self.reads_public_channels(team_id, user_id)
        return False

    async def reads_public_channels(self, team_id: str, user_id: str) -> bool:
        """Whether ``user_id`` holds read_public_channel in ``team_id``: a team member who is
        not a guest (5.36 model/role.go: team_user has it, team_guest only view_team)."""
        if (await self.user(user_id)).is_guest:
            return False
        return await self._chat.is_team_member(team_id, user_id)

    async def can_read(self, channel: Channel, user_id: str) -> bool:
        """Whether ``user_id`` may read ``channel`` (and so post there) by their own rights.

        Direct and group messages (types "D", "G") count as private: only members read them.
        """
        private = channel.type != "O"
        return await self._may_read(channel.id, channel.team_id, private, user_id)

    async def readable_channel(self, team_id: str, name: str, user_id: str) -> Channel:
        """The channel ``~name`` of ``team_id``, if ``user_id`` may read it.

        Raises :class:`NotFound` ("channel", "~name") both when there is no such channel and
        when the person may not read it, so the answer never tells a private channel exists.
        """
        try:
            channel = await self._chat.get_channel_by_name(team_id, name)
        except ChatRefused as exc:
            if exc.status in (400, 403, 404):
                raise NotFound("channel", "~" + name) from None
            raise
        if channel.delete_at or not await self.can_read(channel, user_id):
            raise NotFound("channel", "~" + name)
        return channel

    async def readable_channel_by_id(self, channel_id: str, user_id: str) -> Channel:
        """The channel ``channel_id`` if ``user_id`` may read it; else :class:`NotFound`."""
        try:
            channel = await self._chat.get_channel(channel_id)
        except ChatRefused as exc:
            if exc.status in (400, 403, 404):
                raise NotFound("channel", channel_id) from None
            raise
        if channel.delete_at or not await self.can_read(channel, user_id):
            raise NotFound("channel", channel_id)
        return channel

    async def readable_post(self, post_id: str, user_id: str) -> tuple[Post, Channel]:
        """The post and its channel, if ``user_id`` may read that channel; else NotFound.

        A post the bot cannot read either is "not found" too: one answer for every refusal.
        """
        try:
            post = await self._chat.get_post(post_id)
        except ChatRefused as exc:
            if exc.status in (400, 403, 404):
                raise NotFound("post", post_id) from None
            raise
        try:
            channel = await self.readable_channel_by_id(post.channel_id, user_id)
        except NotFound:
            raise NotFound("post", post_id) from None
        return post, channel
