"""Re-reading over REST what the websocket may have missed (5.36 cannot resume a stream)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.domain.models import Incident
from bot.log import get_logger
from bot.services.incidents import IncidentService
from bot.services.ports import ChatClient, ChatRefused
from bot.store.incidents import IncidentStore

log = get_logger(__name__)

ResyncHook = Callable[[], Awaitable[None]]


class Resync:
    """Runs after every (re)connect. Features add hooks for what they follow."""

    def __init__(
        self, *, chat: ChatClient, incidents: IncidentService, store: IncidentStore
    ) -> None:
        self._chat = chat
        self._incidents = incidents
        self._store = store
        self.hooks: list[ResyncHook] = []
        self._running = asyncio.Lock()
        self.runs = 0

    async def run(self) -> None:
        if self._running.locked():
            return  # one re-sync at a time; the running one reads the newest state anyway
        async with self._running:
            # What a kill, an outage or a lost answer left unfinished: starts, then posts.
            await self._guarded("starts", self._incidents.starts.finish_all())
            await self._guarded("outbox", self._incidents.outbox.flush())
            await self._channels()
            results = await asyncio.gather(*(hook() for hook in self.hooks), return_exceptions=True)
            for result in results:
                if isinstance(result, Exception):
                    log.error("resync_hook_failed", exc_info=result)
            self.runs += 1
            log.info("resync_done", hooks=len(self.hooks))

    async def _guarded(self, what: str, work: Awaitable[None]) -> None:
        try:
            await work
        except Exception:
            log.exception("resync_step_failed", step=what)

    async def _channels(self) -> None:
        """Follow renamed incident channels, finish cut-short starts, refresh the cards."""
        for incident in await self._store.list_ongoing():
            try:
                await self._catch_up(incident)
            except ChatRefused:
                log.warning("incident_channel_unreadable", incident_id=incident.id)
            except Exception:
                log.exception("incident_resync_failed", incident_id=incident.id)

    async def _catch_up(self, incident: Incident) -> None:
        channel = await self._chat.get_channel(incident.channel_id)
        if channel.name != incident.channel_name:
            await self._incidents.mutate(
                incident.id,
                lambda cur: (cur.model_copy(update={"channel_name": channel.name}), []),
            )
        if not (incident.card_post_id and incident.checklist_post_id):
            # The start was cut short (e.g. Mattermost went away): finish it now.
            await self._incidents.ensure_posts(await self._incidents.get(incident.id))
        await self._incidents.refresh_posts(incident.id)
