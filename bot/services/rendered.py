"""What each post warroom keeps in place shows, remembered across restarts (issue 12).

The summary card and the checklist pages are re-rendered from the saved state and sent only
when their content differs from what warroom last set them to (:meth:`RenderedPosts.shows`).
The record is durable (``RenderRecords``, table ``post_renders``), so a re-sync after a
reconnect or a restart compares locally (CPU only) and sends only what changed:

- a refresh that failed (Mattermost away) left the older record, so it is sent again;
- a name or a status update shown that changed while warroom was not listening renders
  differently, so it is sent;
- a post deleted by hand while warroom listened (``post_deleted``) is forgotten, so the next
  sync finds it gone and posts it again (``bot/services/checklist_posts``);
- a post edited by hand while warroom listened (``post_edited`` with a message other than
  the one warroom set, :meth:`RenderedPosts.edited`) is forgotten, so the next sync puts it
  back. Warroom's own edits (whose events may come before the answer) and other changes of
  the post (a pin, a reaction) leave the message as warroom set it, so they cost nothing.

Button tokens count without their expiry (:class:`bot.services.ports.PostDigest`); a post last
set :data:`RENEW_AFTER_MS` ago counts as changed, so its buttons are renewed long before they
expire (a year, ``bot/interactions/buttons``), spread over time rather than all at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from bot.clock import Clock
from bot.services.ports import PostDigest, RenderRecords

RENEW_AFTER_MS = 180 * 24 * 3600 * 1000


class RenderedPosts:
    """Post id -> (incident id, digest, set at in ms); read once from the store, then kept in
    memory and written through."""

    def __init__(self, *, records: RenderRecords, digest: PostDigest, clock: Clock) -> None:
        self._records = records
        self._digest = digest
        self._clock = clock
        self._known: dict[str, tuple[str, str, int]] | None = None
        self._loading = asyncio.Lock()
        # The messages a post may show as warroom set it (this process only): the one last
        # set, and the one of an update under way.
        self._said: dict[str, set[str]] = {}

    def digest(self, message: str, props: dict[str, Any]) -> str:
        """The digest of a render (``props`` as sent: keyed)."""
        return self._digest(message, props)

    async def _all(self) -> dict[str, tuple[str, str, int]]:
        if self._known is None:
            async with self._loading:
                if self._known is None:
                    self._known = await self._records.load()
        return self._known

    async def shows(self, post_id: str, digest: str) -> bool:
        """Whether ``post_id`` was last set to the render of ``digest``, recently enough that
        its buttons need no renewal."""
        known = (await self._all()).get(post_id)
        if known is None or known[1] != digest:
            return False
        return self._clock.now_ms() - known[2] < RENEW_AFTER_MS

    async def current(self, post_ids: Iterable[str]) -> bool:
        """Whether every one of ``post_ids`` has a record that needs no renewal yet."""
        known, now = await self._all(), self._clock.now_ms()
        for post_id in post_ids:
            record = known.get(post_id)
            if record is None or now - record[2] >= RENEW_AFTER_MS:
                return False
        return True

    async def sent(
        self, post_id: str, *, incident_id: str, digest: str, message: str | None = None
    ) -> None:
        """``post_id`` now shows the render of ``digest`` (set just now), whose message is
        ``message`` (None: not known, then an edit by hand goes unnoticed until the next
        change of the post)."""
        now = self._clock.now_ms()
        if message is None:
            self._said.pop(post_id, None)
        else:
            self._said[post_id] = {message}
        (await self._all())[post_id] = (incident_id, digest, now)
        await self._records.record(post_id, incident_id=incident_id, digest=digest, sent_at=now)

    async def unsure(self, post_id: str, message: str) -> None:
        """An update of ``post_id`` to ``message`` is about to be sent: until it succeeds the
        record claims nothing, in memory (at once, before any await, so a cancelled update
        leaves no stale claim behind) and in the store (so a kill while the update is in
        flight, which Mattermost may still make, cannot leave a record of the older render
        that the next re-sync would trust); its ``post_edited`` is taken for warroom's own."""
        had = self._known is not None and self._known.pop(post_id, None) is not None
        if post_id in self._said:
            self._said[post_id].add(message)
        if had:
            await self._records.forget([post_id])

    async def edited(self, post_id: str, message: str) -> None:
        """``post_id`` was edited (``post_edited``) and now says ``message``: if it is a kept
        post and warroom did not set that message, someone else edited it, so what it shows
        is no longer known (:meth:`forget`)."""
        said = self._said.get(post_id)
        if said is not None and message not in said:
            await self.forget([post_id])

    async def forget(self, post_ids: Iterable[str]) -> None:
        """What these posts show is not known (an update failed; deleted; removed)."""
        ids = list(post_ids)
        known = await self._all()
        for post_id in ids:
            known.pop(post_id, None)
            self._said.pop(post_id, None)
        await self._records.forget(ids)

    async def knows(self, post_id: str) -> bool:
        """Whether a render of ``post_id`` is recorded (it is one of warroom's kept posts)."""
        return post_id in await self._all()
