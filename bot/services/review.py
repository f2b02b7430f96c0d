"""Looking back at incidents: timeline, review with its chart, post-mortem export, stats, severity.

The export never holds the channel in memory: Mattermost pages a channel newest first, so
each page is rendered oldest-first into a spool file as one segment, and the segments are
then copied into the document in reverse order (one page in memory at a time).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from bot.clock import Clock
from bot.domain import review as domain
from bot.domain.models import EventKind, Incident, TimelineEvent
from bot.log import get_logger
from bot.render import chart
from bot.render import review as render
from bot.render.views import Names
from bot.services.directory import Directory
from bot.services.incidents import IncidentService
from bot.services.memberships import Memberships
from bot.services.ports import ChatClient, ChatRefused, IncidentReads, ReviewRecords

log = get_logger(__name__)

PER_PAGE = 200
DEDUPE_PAGES = 2  # posts arriving during an export shift older ones onto the next page


@dataclass(frozen=True)
class Lookback:
    incident: Incident
    events: list[TimelineEvent]
    tasks: list[domain.TaskDone]
    members: int
    messages: int


class ReviewService:
    def __init__(
        self,
        *,
        chat: ChatClient,
        directory: Directory,
        incidents: IncidentService,
        incident_store: IncidentReads,
        store: ReviewRecords,
        clock: Clock,
        memberships: Memberships,
    ) -> None:
        self._members = memberships
        self._chat = chat
        self._dir = directory
        self._incidents = incidents
        self._incident_store = incident_store
        self._store = store
        self._clock = clock

    # ---- finding the incident ------------------------------------------------------------

    async def by_channel_name(self, team_id: str, name: str) -> Incident | None:
        return await self._store.by_channel_name(team_id, name)

    # ---- reading -------------------------------------------------------------------------

    async def timeline(self, incident: Incident) -> list[TimelineEvent]:
        return await self._with_update_texts(
            incident.id, await self._incident_store.timeline(incident.id)
        )

    async def look_back(self, incident: Incident) -> Lookback:
        events, members, channel = await asyncio.gather(
            self.timeline(incident),
            self._store.ever_involved(incident.id),
            self._chat.get_channel(incident.channel_id),
        )
        return Lookback(
            incident=incident,
            events=events,
            tasks=domain.tasks_done(incident),
            members=members,
            messages=channel.total_msg_count,
        )

    async def _names(
        self, incident: Incident, events: list[TimelineEvent], extra: Iterable[str] = ()
    ) -> Names:
        ids = render.event_user_ids(events) | {incident.commander_id, incident.reporter_id, *extra}
        ids |= {t.assignee_id for s in incident.stages for t in s.tasks}
        ids |= {t.done_by for s in incident.stages for t in s.tasks}
        return await self._dir.names(ids)

    # ---- review --------------------------------------------------------------------------

    async def post_review(self, incident: Incident, channel_id: str) -> None:
        """Post the review, with its chart attached, in ``channel_id``."""
        back = await self.look_back(incident)
        names = await self._names(incident, back.events)
        text = render.review(
            incident,
            events=back.events,
            names=names,
            now=self._clock.now_ms(),
            members=back.members,
            messages=back.messages,
            tasks=back.tasks,
        )
        png = await asyncio.to_thread(chart.task_chart, render.chart_title(incident), back.tasks)
        file_id = await self._chat.upload_file(channel_id, render.CHART_FILE, png)
        await self._chat.create_post(channel_id, text, file_ids=[file_id])

    async def private_channel(self, user_id: str, bot_user_id: str) -> str:
        return (await self._chat.direct_channel(bot_user_id, user_id)).id

    # ---- export --------------------------------------------------------------------------

    async def export(self, incident: Incident, actor_id: str) -> int:
        """Upload the post-mortem document (and its chart) to the incident channel."""
        back = await self.look_back(incident)
        now = self._clock.now_ms()
        with tempfile.TemporaryFile() as spool, tempfile.TemporaryFile() as out:
            segments, count, messages = await self._spool_messages(incident.channel_id, spool)
            commanders = await self._incident_store.commanders(incident.id)
            names = await self._names(incident, back.events, (uid for uid, _ in commanders))
            head = render.export_head(
                incident,
                names=names,
                now=now,
                commanders=commanders,
                members=back.members,
                messages=messages,
                events=back.events,
                tasks=back.tasks,
            )
            out.write(head.encode())
            if not count:
                out.write(render.export_no_messages().encode())
            await asyncio.to_thread(_copy_reversed, spool, segments, out)
            out.seek(0)
            png = await asyncio.to_thread(
                chart.task_chart, render.chart_title(incident), back.tasks
            )
            doc_id = await self._chat.upload_file(
                incident.channel_id, render.export_filename(incident, now), out
            )
        chart_id = await self._chat.upload_file(incident.channel_id, render.CHART_FILE, png)
        actor = await self._dir.names([actor_id])
        await self._chat.create_post(
            incident.channel_id,
            render.export_posted(incident, actor, actor_id, count),
            file_ids=[doc_id, chart_id],
        )
        log.info("incident_exported", incident_id=incident.id, messages=count)
        return count

    async def _with_update_texts(
        self, incident_id: str, events: list[TimelineEvent]
    ) -> list[TimelineEvent]:
        """Status updates recorded with their post only (the status module's way) get the
        update's current text, which follows edits (kept by the status module from
        ``post_edited``/``post_deleted`` and its re-sync); a deleted update says so. Read
        from the store; only an update the store does not hold is read from Mattermost."""
        wanted = [
            n
            for n, e in enumerate(events)
            if e.kind is EventKind.STATUS_UPDATED
            and e.data.get("post_id")
            and not e.data.get("message")
        ]
        if not wanted:
            return events
        stored = await self._store.update_texts(incident_id)

        async def text_of(post_id: str) -> str:
            if post_id in stored:
                return stored[post_id] or render.update_deleted()
            try:
                return (await self._chat.get_post(post_id)).message
            except ChatRefused:
                return render.update_deleted()

        texts = await asyncio.gather(*(text_of(str(events[n].data["post_id"])) for n in wanted))
        out = list(events)
        for n, text in zip(wanted, texts, strict=True):
            out[n] = events[n].model_copy(update={"data": {**events[n].data, "message": text}})
        return out

    async def _spool_messages(
        self, channel_id: str, spool: IO[bytes]
    ) -> tuple[list[tuple[int, int]], int, int]:
        """Walk the channel newest page first; each page becomes one oldest-first segment.

        Returns the segments, the number of posts and of messages (system posts left out,
        as in Mattermost's own count).
        """
        segments: list[tuple[int, int]] = []
        recent: deque[set[str]] = deque(maxlen=DEDUPE_PAGES)
        count = messages = 0
        page = 0
        while True:
            batch = await self._chat.channel_posts(channel_id, page=page, per_page=PER_PAGE)
            seen = set().union(*recent)
            posts = [batch.posts[i] for i in batch.order if i in batch.posts and i not in seen]
            recent.append({p.id for p in posts})
            names = await self._dir.names(p.user_id for p in posts)
            chunk = "".join(render.export_post(p, names) for p in reversed(posts)).encode()
            segments.append((spool.tell(), len(chunk)))
            spool.write(chunk)
            count += len(posts)
            messages += sum(1 for p in posts if not p.type.startswith("system_"))
            if len(batch.order) < PER_PAGE:
                return segments, count, messages
            page += 1

    # ---- stats ---------------------------------------------------------------------------

    async def stats(self, team_id: str, user_id: str, days: int, levels: list[str]) -> domain.Stats:
        """Counts of the incidents ``user_id`` may view (see :func:`domain.stats`), from the
        store alone; private ones whose channel members are not known now are left out and
        counted in ``unknown``."""
        now = self._clock.now_ms()
        user = await self._dir.user(user_id)
        rows, unknown = await self._members.visible_stats_rows(
            team_id,
            user_id,
            admin=user.is_admin,
            public=not user.is_guest,  # a guest reads public channels only as a member
            window_start=now - days * domain.DAY_MS,
        )
        result = domain.stats_of(rows, days=days, unknown=unknown)
        result.by_severity = domain.severity_order(result.by_severity, levels)
        return result

    # ---- severity ------------------------------------------------------------------------

    async def set_severity(self, incident: Incident, actor_id: str, level: str) -> bool:
        """True if it changed (and the channel was told), False if it already was ``level``."""
        now = self._clock.now_ms()
        saved, events = await self._incidents.mutate(
            incident.id,
            lambda cur: domain.change_severity(cur, actor_id=actor_id, level=level, now=now),
        )
        if not events:
            return False
        old = str(events[0].data["from"])
        names = await self._dir.names([actor_id])
        await self._chat.create_post(
            saved.channel_id, render.severity_set(names, actor_id, old, level)
        )
        self._incidents.refresh_later(saved, tell=actor_id)
        return True


def _copy_reversed(spool: IO[bytes], segments: list[tuple[int, int]], out: IO[bytes]) -> None:
    for offset, length in reversed(segments):
        spool.seek(offset)
        remaining = length
        while remaining:
            block = spool.read(min(remaining, 1 << 16))
            if not block:
                break
            out.write(block)
            remaining -= len(block)
