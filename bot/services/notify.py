"""Reaching one user privately: an ephemeral post where the bot may, else a direct message."""

from __future__ import annotations

from typing import Any

from bot.log import get_logger
from bot.render.keys import key_of, keyed
from bot.services.ports import ChatClient, ChatRefused
from bot.tasks import Report

log = get_logger(__name__)

LOOK_BACK = 60  # newest direct-channel posts searched for a message already sent


class Notifier:
    def __init__(self, chat: ChatClient, bot_user_id: str) -> None:
        self._chat = chat
        self._bot_user_id = bot_user_id
        self._ephemeral_allowed: bool | None = None
        self._dms: dict[str, str] = {}  # user id -> direct channel id (see _direct)

    async def tell(
        self,
        user_id: str,
        channel_id: str,
        message: str,
        props: dict[str, Any] | None = None,
        *,
        dm_preamble: str = "",
    ) -> None:
        """Tell ``user_id`` ``message`` as an ephemeral post in ``channel_id`` where the bot
        may, else by direct message; ``dm_preamble`` (a rendered line, e.g. which message
        this answers) goes above the message only in the direct message, which is read away
        from ``channel_id``. Raises :class:`ChatRefused` when neither can be posted."""
        if await self._ephemeral(user_id, channel_id, message, props):
            return
        text = f"{dm_preamble}\n{message}" if dm_preamble else message
        await self._chat.create_post(await self._direct(user_id), text, props=props)

    async def _ephemeral(
        self, user_id: str, channel_id: str, message: str, props: dict[str, Any] | None
    ) -> bool:
        """Tell by an ephemeral post if the bot may; False when it must use a direct message."""
        if self._ephemeral_allowed is False or not channel_id:
            return False
        try:
            await self._chat.post_ephemeral(user_id, channel_id, message, props)
        except ChatRefused as exc:
            if exc.status != 403:
                raise
            log.info("ephemeral_not_permitted_falling_back_to_dm", user_id=user_id)
            self._ephemeral_allowed = False
            return False
        self._ephemeral_allowed = True
        return True

    async def tell_once(
        self, user_id: str, channel_id: str, message: str, *, key: str, look: bool = True
    ) -> None:
        """Tell the user, unless an earlier attempt already did (a kill after telling).

        A direct message carries ``key`` and is looked for among the newest posts of the
        direct channel first (``look``; False: the caller knows no earlier attempt was made).
        An ephemeral message cannot be looked up: after a kill right after it, it is shown
        again (the one gap).
        """
        if await self._ephemeral(user_id, channel_id, message, None):
            return
        dm = await self._direct(user_id)
        if look:
            page = await self._chat.channel_posts(dm, page=0, per_page=LOOK_BACK)
            if any(key_of(p.props) == key and not p.delete_at for p in page.posts.values()):
                log.info("already_told", user_id=user_id, key=key)
                return
        await self._chat.create_post(dm, message, props=keyed(None, key))

    async def _direct(self, user_id: str) -> str:
        """The id of the bot's direct channel with ``user_id``, asked for once: it never
        changes (Mattermost 5.36 deletes no direct channel: ``deleteChannel`` refuses them)."""
        dm = self._dms.get(user_id)
        if dm is None:
            dm = (await self._chat.direct_channel(self._bot_user_id, user_id)).id
            self._dms[user_id] = dm
        return dm

    def reporter(self, user_id: str, channel_id: str, message: str) -> Report:
        """A :data:`bot.tasks.Report` that tells ``user_id`` ``message`` (ephemeral in
        ``channel_id`` where allowed, else by direct message), whatever the failure was."""

        async def report(exc: BaseException) -> None:
            await self.tell(user_id, channel_id, message)

        return report
