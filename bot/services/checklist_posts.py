"""The checklist's posts: as many as its active stage needs, each kept in place.

Mattermost holds a post's props to 8,000 characters (render/post_size), so a long stage is
shown over several posts (render/checklist ``checklist_posts``). Their ids are saved on the
incident in order (``checklist_post_id`` then ``checklist_more_post_ids``), so an update
always goes to the post that shows that part. Each page is posted exactly once through the
outbox under a stable key (:func:`checklist_key`; services/effects): a page whose answer was
lost is found in the channel, never posted twice, and its id is recorded by the outbox's
completion. A stage that grows gets new posts at the end; one that shrinks loses its last
ones (their keys are forgotten, so a stage that grows back posts them anew). The re-sync runs
the same :meth:`ChecklistPosts.sync`, so it repairs what an outage left unfinished; a page is
sent only when its render differs from what warroom last set it to (services/rendered, a
durable record), so a re-sync costs REST calls for what changed only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from bot.domain.models import Incident
from bot.log import get_logger
from bot.render import checklist as text
from bot.render.keys import keyed
from bot.render.views import ButtonMaker, Names
from bot.services.ports import ChatClient, ChatRefused
from bot.services.rendered import RenderedPosts

log = get_logger(__name__)

Load = Callable[[str], Awaitable[Incident]]
SaveIds = Callable[[str, tuple[str, ...]], Awaitable[Incident]]
PostPage = Callable[[Incident, int, str, dict[str, Any]], Awaitable[tuple[str, bool]]]
ForgetPages = Callable[[str, list[int]], Awaitable[None]]


def checklist_key(incident_id: str, index: int) -> str:
    """The outbox key of page ``index`` (0-based): ``checklist:<id>``, ``checklist:<id>:2``…"""
    return f"checklist:{incident_id}" if index == 0 else f"checklist:{incident_id}:{index + 1}"


class ChecklistPosts:
    """Creates, updates and removes an incident's checklist posts; one sync at a time each.

    ``post_page(incident, index, message, props)`` posts a page exactly once and returns its
    id (its completion records the id) and whether it posted this render (not an earlier
    attempt's, found in the channel); ``forget_pages(incident_id, indexes)`` lets the keys
    of removed pages post again; ``save_ids`` records the list after a removal; ``rendered``
    remembers what each page was last set to.
    """

    def __init__(
        self,
        *,
        chat: ChatClient,
        buttons: ButtonMaker,
        load: Load,
        save_ids: SaveIds,
        post_page: PostPage,
        forget_pages: ForgetPages,
        rendered: RenderedPosts,
    ) -> None:
        self._chat = chat
        self._buttons = buttons
        self._load = load
        self._save_ids = save_ids
        self._post_page = post_page
        self._forget_pages = forget_pages
        self._rendered = rendered
        self._locks: dict[str, asyncio.Lock] = {}

    async def sync(
        self, incident_id: str, names: Names, *, create_only: bool = False, force: bool = False
    ) -> Incident:
        """Make the posts show the newest saved state; returns the incident as saved.

        ``create_only``: post the pages that have no post yet and leave the others (a start,
        whose existing pages were just rendered). A page whose content is what warroom last
        set it to (:class:`RenderedPosts`, durable) is not sent again unless ``force``. A page
        deleted by hand is posted again, with those after it, so the order holds, once warroom
        sends it: when its content changes, or at the next re-sync if the deletion was seen
        (``post_deleted``). Raises ``ChatRefused`` or ``ChatUnavailable`` from the first call
        that fails; what was done until then is saved.
        """
        async with self._locks.setdefault(incident_id, asyncio.Lock()):
            incident = await self._load(incident_id)
            pages = text.checklist_posts(incident, names, self._buttons)
            ids = list(incident.checklist_post_ids)
            for index, (message, props) in enumerate(pages):
                keyed_props = keyed(props, checklist_key(incident.id, index))
                digest = self._rendered.digest(message, keyed_props)
                if index < len(ids) and not create_only:
                    if not force and await self._rendered.shows(ids[index], digest):
                        continue
                    if await self._updated(incident.id, ids[index], message, keyed_props):
                        await self._rendered.sent(
                            ids[index], incident_id=incident.id, digest=digest, message=message
                        )
                        continue
                    # Someone deleted this page: post it and the ones after it again, in order.
                    incident = await self._truncate(incident, ids, index)
                if index < len(ids):
                    continue
                post_id, fresh = await self._post_page(incident, index, message, props)
                if fresh:  # an earlier attempt's post shows an older render: update it next time
                    await self._rendered.sent(
                        post_id, incident_id=incident.id, digest=digest, message=message
                    )
                ids.append(post_id)
                incident = await self._save_ids(incident.id, tuple(ids))
            if not create_only and len(ids) > len(pages):
                incident = await self._truncate(incident, ids, len(pages))
            return incident

    async def _truncate(self, incident: Incident, ids: list[str], keep: int) -> Incident:
        """Remove the pages from ``keep`` on (last first), forget their keys, save the rest."""
        gone = list(range(keep, len(ids)))
        for index in reversed(gone):
            await self._remove(incident, ids[index])
        del ids[keep:]
        saved = await self._save_ids(incident.id, tuple(ids))
        await self._forget_pages(incident.id, gone)
        return saved

    async def _updated(
        self, incident_id: str, post_id: str, message: str, props: dict[str, Any]
    ) -> bool:
        """Update a page in place; False when the post no longer exists (deleted by hand).
        A failed update leaves what the page shows unknown (sent again next time)."""
        await self._rendered.unsure(post_id, message)
        try:
            await self._chat.update_post(post_id, message, props)
        except ChatRefused:
            await self._rendered.forget([post_id])
            try:
                await self._chat.get_post(post_id)
            except ChatRefused:
                log.warning("checklist_page_gone", incident_id=incident_id, post_id=post_id)
                return False
            raise
        except Exception:
            await self._rendered.forget([post_id])
            raise
        return True

    async def _remove(self, incident: Incident, post_id: str) -> None:
        """Delete a page the stage no longer needs; one already gone counts as removed."""
        await self._rendered.forget([post_id])
        try:
            await self._chat.delete_post(post_id)
        except ChatRefused as exc:
            log.warning(
                "checklist_page_not_deleted",
                incident_id=incident.id,
                post_id=post_id,
                error_id=exc.error_id,
            )
