"""Reaching one user privately: an ephemeral post where the bot may, else a direct message."""

from __future__ import annotations

from typing import Any

from bot.log import get_logger
from bot.services.ports import ChatClient, ChatRefused

log = get_logger(__name__)


class Notifier:
    def __init__(self, chat: ChatClient, bot_user_id: str) -> None:
        self._chat = chat
        self._bot_user_id = bot_user_id
        self._ephemeral_allowed: bool | None = None

    async def tell(
        self,
        user_id: str,
        channel_id: str,
        message: str,
        props: dict[str, Any] | None = None,
    ) -> None:
        if self._ephemeral_allowed is not False and channel_id:
            try:
                await self._chat.post_ephemeral(user_id, channel_id, message, props)
            except ChatRefused as exc:
                if exc.status != 403:
                    raise
                log.info("ephemeral_not_permitted_falling_back_to_dm", user_id=user_id)
                self._ephemeral_allowed = False
            else:
                self._ephemeral_allowed = True
                return
        dm = await self._chat.direct_channel(self._bot_user_id, user_id)
        await self._chat.create_post(dm.id, message, props=props)
