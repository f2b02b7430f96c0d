"""Re-reading over REST what the websocket may have missed (5.36 cannot resume a stream).

The rule (table in ``docs/mattermost-objects.md``): every websocket event kind warroom reacts
to has a re-sync counterpart here, declared with :meth:`Resync.add` (``covers=``) next to the
event handler in ``bot/app.py``; ``tests/test_follow_rule.py`` enumerates the handled kinds
and fails when one is not covered. Objects warroom does not follow are read fresh when shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.domain.models import Incident
from bot.log import get_logger
from bot.services.incidents import IncidentService
from bot.services.ports import ChatRefused, OngoingIncidents
from bot.tasks import Turn, no_wait

log = get_logger(__name__)

ResyncHook = Callable[[], Awaitable[None]]
CATCH_UP_CONCURRENCY = 8  # incidents whose posts are brought up to date at once


class Resync:
    """Runs after every (re)connect: first the hooks that follow channels (names and state
    used by everything else), then what a kill or a lost answer left unfinished (starts, the
    outbox of keyed posts), then the cards of ongoing incidents, then the other hooks
    concurrently. A failing hook is logged; the others still run."""

    def __init__(
        self, *, incidents: IncidentService, store: OngoingIncidents, turn: Turn = no_wait
    ) -> None:
        self._incidents = incidents
        self._store = store
        self._turn = turn
        self._first: list[ResyncHook] = []
        self.hooks: list[ResyncHook] = []
        self.covered: set[type] = set()  # event kinds whose missed events a hook re-reads
        self._running = asyncio.Lock()
        self.runs = 0

    def add(self, hook: ResyncHook, *, covers: tuple[type, ...], first: bool = False) -> None:
        """Run ``hook`` on every re-sync; it re-reads what events of ``covers`` would tell."""
        (self._first if first else self.hooks).append(hook)
        self.covered.update(covers)

    async def run(self) -> None:
        if self._running.locked():
            return  # one re-sync at a time; the running one reads the newest state anyway
        async with self._running:
            await self._gather(self._first)
            # What a kill, an outage or a lost answer left unfinished: starts, then posts.
            await self._guarded("starts", self._incidents.starts.finish_all())
            await self._guarded("outbox", self._incidents.outbox.flush())
            await self.catch_up_posts()
            await self._gather(self.hooks)
            self.runs += 1
            log.info("resync_done", hooks=len(self._first) + len(self.hooks))

    @staticmethod
    async def _gather(hooks: list[ResyncHook]) -> None:
        results = await asyncio.gather(*(hook() for hook in hooks), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.error("resync_hook_failed", exc_info=result)

    async def _guarded(self, what: str, work: Awaitable[None]) -> None:
        try:
            await work
        except Exception:
            log.exception("resync_step_failed", step=what)

    async def catch_up_posts(self) -> None:
        """Finish cut-short starts and bring the cards and checklists of ongoing incidents up
        to date: each is re-rendered locally and only posts whose render differs from what
        warroom last set them to are sent (``bot/services/rendered``), so the REST calls are
        proportional to what changed. :data:`CATCH_UP_CONCURRENCY` incidents at a time, read
        a page at a time (5,000 ongoing incidents held at once are over 100 MB)."""
        slots = asyncio.Semaphore(CATCH_UP_CONCURRENCY)

        async def one(incident: Incident) -> None:
            async with slots:
                await self._turn()  # a person's request first (see bot/tasks.Foreground)
                try:
                    await self._catch_up(incident)
                except ChatRefused:
                    log.warning("incident_channel_unreadable", incident_id=incident.id)
                except Exception:
                    log.exception("incident_resync_failed", incident_id=incident.id)

        async for page in self._store.pages(ongoing=True):
            await self._guarded("names", self._incidents.warm_names(page))
            await asyncio.gather(*(one(incident) for incident in page))

    async def _catch_up(self, incident: Incident) -> None:
        if not (incident.card_post_id and incident.checklist_post_id):
            # The start was cut short (e.g. Mattermost went away): finish it now.
            await self._incidents.ensure_posts(await self._incidents.get(incident.id))
        await self._incidents.refresh_posts(incident.id)
