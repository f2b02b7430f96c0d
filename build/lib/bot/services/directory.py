"""Who is who: users by id and name, cached briefly, and the permission checks built on them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from bot.domain.models import Incident
from bot.errors import NotFound, PermissionDenied
from bot.render.views import Names
from bot.services.ports import ChatClient, ChatRefused, User

USER_TTL_S = 60.0


class Directory:
    def __init__(self, chat: ChatClient) -> None:
        self._chat = chat
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
        for uid in wanted:
            hit = self._users.get(uid)
            if hit is not None:
                found[uid] = hit[1].username
        return Names(found)

    async def is_admin(self, user_id: str) -> bool:
        return (await self.user(user_id)).is_admin

    async def require_member(self, incident: Incident, user_id: str) -> None:
        """Members of the incident channel (and system admins) may change the incident."""
        member, admin = await asyncio.gather(
            self._chat.is_channel_member(incident.channel_id, user_id), self.is_admin(user_id)
        )
        if not (member or admin):
            raise PermissionDenied("not_channel_member")

    async def can_view(self, incident: Incident, user_id: str) -> bool:
        """Channel members; team members for a public channel; system admins."""
        if await self._chat.is_channel_member(incident.channel_id, user_id):
            return True
        if await self.is_admin(user_id):
            return True
        if not incident.private_channel:
            return await self._chat.is_team_member(incident.team_id, user_id)
        return False
