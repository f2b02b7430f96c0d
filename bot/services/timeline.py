"""Following an incident channel: posts pinned to the timeline by reaction, members ever involved.

Pinning: a reaction with the configured emoji (default ``pushpin``) on any post in an incident
channel records a ``post_pinned`` event stamped with the post's own time, quoting and linking
it. The ``dedupe_key`` of the event (one per post) makes a second reaction or a second delivery
of the same websocket event a no-op. When the last such reaction goes, the event goes. After a
reconnect the newest posts of each ongoing incident channel are re-read for missed changes.
A pinned post's quote follows the post: ``post_edited`` replaces it, ``post_deleted`` marks it
deleted (the event stays, the quote goes), and the re-sync re-reads every pinned post.
warroom acknowledges a capture quietly by adding its own ``white_check_mark`` reaction to the
post (and removes it with the event): visible to everyone, no message, no notification.

Members: everyone (bots excepted) who was ever in the channel, from the members at the start,
``user_added``/``user_removed`` events and a re-check over REST after every reconnect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from bot.clock import Clock
from bot.domain.models import EventKind, Incident, TimelineEvent
from bot.log import get_logger
from bot.render import messages
from bot.services.directory import Directory
from bot.services.events import ReactionAdded, ReactionRemoved, UserAdded, UserRemoved
from bot.services.memberships import Memberships
from bot.services.notify import Notifier
from bot.services.ports import ChatClient, ChatRefused, IncidentReads, Post, ReviewRecords
from bot.tasks import Turn, no_wait

log = get_logger(__name__)

ACK_EMOJI = "white_check_mark"
QUOTE_MAX = 1000
RESYNC_POSTS = 200  # newest posts per incident channel re-read after a reconnect
RESYNC_AT_ONCE = 8  # incident channels whose newest posts the re-sync reads at once


class Permalinks:
    """``<server>/<team name>/pl/<post id>``; team names are read once."""

    def __init__(self, chat: ChatClient, base_url: str) -> None:
        self._chat = chat
        self._base = base_url.rstrip("/")
        self._teams: dict[str, str] = {}

    async def link(self, team_id: str, post_id: str) -> str:
        name = self._teams.get(team_id)
        if name is None:
            name = (await self._chat.get_team(team_id)).name
            self._teams[team_id] = name
        return f"{self._base}/{name}/pl/{post_id}"


class TimelineCapture:
    def __init__(
        self,
        *,
        chat: ChatClient,
        incidents: IncidentReads,
        store: ReviewRecords,
        links: Permalinks,
        bot_user_id: str,
        emoji: str,
        notifier: Notifier,
        turn: Turn = no_wait,
    ) -> None:
        self._notify = notifier
        self._turn = turn
        self._chat = chat
        self._incidents = incidents
        self._store = store
        self._links = links
        self._bot = bot_user_id
        self._emoji = emoji

    def _ours(self, user_id: str, emoji: str) -> bool:
        return emoji == self._emoji and user_id != self._bot

    async def _incident(self, channel_id: str, post_id: str) -> Incident | None:
        if not channel_id:
            try:
                channel_id = (await self._chat.get_post(post_id)).channel_id
            except ChatRefused:
                return None
        return await self._incidents.by_channel(channel_id)

    async def on_added(self, event: ReactionAdded) -> None:
        reaction = event.reaction
        if not self._ours(reaction.user_id, reaction.emoji_name):
            return
        incident = await self._incident(event.channel_id, reaction.post_id)
        if incident is None:
            return
        try:
            post = await self._chat.get_post(reaction.post_id)
            await self._pin(incident, post, reaction.user_id)
        except ChatRefused as exc:
            if exc.status == 404:
                return  # deleted meanwhile
            await self._pin_failed(incident, reaction.user_id, exc)
        except Exception as exc:
            await self._pin_failed(incident, reaction.user_id, exc)

    async def _pin_failed(self, incident: Incident, user_id: str, exc: Exception) -> None:
        """The reaction asked for a timeline entry that could not be made: tell who reacted."""
        log.warning("post_pin_failed", incident_id=incident.id, error=repr(exc))
        await self._notify.tell(user_id, incident.channel_id, messages.pin_failed(incident))

    async def on_removed(self, event: ReactionRemoved) -> None:
        reaction = event.reaction
        if not self._ours(reaction.user_id, reaction.emoji_name):
            return
        incident = await self._incident(event.channel_id, reaction.post_id)
        if incident is None:
            return
        try:
            left = await self._chat.post_reactions(reaction.post_id)
        except ChatRefused:
            return
        if any(self._ours(r.user_id, r.emoji_name) for r in left):
            return  # someone else still pins it
        await self._unpin(incident, reaction.post_id)

    async def post_edited(self, post: Post) -> None:
        """A pinned post was edited: its quote on the timeline follows."""
        incident = await self._incidents.by_channel(post.channel_id)
        if incident is not None and await self._store.requote(
            incident.id, post.id, message=post.message[:QUOTE_MAX]
        ):
            log.info("pinned_post_followed", incident_id=incident.id, post_id=post.id)

    async def post_deleted(self, post: Post) -> None:
        """A pinned post was deleted: the timeline keeps the event and says so, without a quote."""
        incident = await self._incidents.by_channel(post.channel_id)
        if incident is not None and await self._store.requote(
            incident.id, post.id, message="", deleted=True
        ):
            log.info("pinned_post_deleted", incident_id=incident.id, post_id=post.id)

    async def resync(self) -> None:
        """Reactions made or removed while the websocket was down, on the newest posts of every
        ongoing incident channel (Mattermost sends each post's reactions with the list); and
        every pinned post's current text (edited, deleted). :data:`RESYNC_AT_ONCE` channels
        at a time (one after another, 5,000 channels were 5,000 round trips in a row), read a
        page of incidents at a time. Raises the first failure once every channel is done."""
        slots = asyncio.Semaphore(RESYNC_AT_ONCE)

        async def one(incident: Incident) -> None:
            async with slots:
                await self._turn()  # a person's request first (see bot/tasks.Foreground)
                await self._resync_channel(incident)

        failed: BaseException | None = None
        async for page in self._incidents.pages(ongoing=True):
            results = await asyncio.gather(*(one(i) for i in page), return_exceptions=True)
            failed = failed or next((r for r in results if isinstance(r, BaseException)), None)
        if failed is not None:
            raise failed

    async def _resync_channel(self, incident: Incident) -> None:
        try:
            page = await self._chat.channel_posts(
                incident.channel_id, page=0, per_page=RESYNC_POSTS
            )
        except ChatRefused:
            return
        pinned = await self._store.pinned_post_ids(incident.id)
        for post in (page.posts[i] for i in page.order if i in page.posts):
            reactors = [r.user_id for r in post.reactions if self._ours(r.user_id, r.emoji_name)]
            if reactors and post.id not in pinned:
                await self._pin(incident, post, reactors[0])
            elif not reactors and post.id in pinned:
                await self._unpin(incident, post.id)
        await self._requote_all(incident)

    async def _requote_all(self, incident: Incident) -> None:
        for post_id, (_, deleted) in (await self._store.pinned_quotes(incident.id)).items():
            if deleted:
                continue
            try:
                post = await self._chat.get_post(post_id)
            except ChatRefused as exc:
                if exc.status == 404:  # 5.36: a deleted post reads as 404
                    await self._store.requote(incident.id, post_id, message="", deleted=True)
                continue
            if post.delete_at:
                await self._store.requote(incident.id, post_id, message="", deleted=True)
            else:
                await self._store.requote(incident.id, post_id, message=post.message[:QUOTE_MAX])

    async def _pin(self, incident: Incident, post: Post, actor_id: str) -> None:
        pinned = TimelineEvent(
            kind=EventKind.POST_PINNED,
            at=post.create_at,
            actor_id=actor_id,
            data={
                "post_id": post.id,
                "author_id": post.user_id,
                "message": post.message[:QUOTE_MAX],
                "link": await self._links.link(incident.team_id, post.id),
            },
        )
        if not await self._store.pin(incident.id, pinned, post.id):
            return
        log.info("post_pinned", incident_id=incident.id, post_id=post.id)
        try:
            await self._chat.add_reaction(self._bot, post.id, ACK_EMOJI)
        except Exception:
            log.warning("pin_ack_failed", incident_id=incident.id, post_id=post.id)

    async def _unpin(self, incident: Incident, post_id: str) -> None:
        if not await self._store.unpin(incident.id, post_id):
            return
        log.info("post_unpinned", incident_id=incident.id, post_id=post_id)
        try:
            await self._chat.remove_reaction(self._bot, post_id, ACK_EMOJI)
        except Exception:
            log.warning("pin_ack_removal_failed", incident_id=incident.id, post_id=post_id)


class MemberTracker:
    def __init__(
        self,
        *,
        chat: ChatClient,
        directory: Directory,
        incidents: IncidentReads,
        store: ReviewRecords,
        clock: Clock,
        bot_user_id: str,
        memberships: Memberships,
        turn: Turn = no_wait,
    ) -> None:
        self._members = memberships
        self._turn = turn
        self._chat = chat
        self._dir = directory
        self._incidents = incidents
        self._store = store
        self._clock = clock
        self._bot = bot_user_id

    async def _humans(self, user_ids: Iterable[str]) -> list[str]:
        ids = [u for u in dict.fromkeys(user_ids) if u and u != self._bot]
        users = await asyncio.gather(*(self._dir.user(u) for u in ids), return_exceptions=True)
        return [u.id for u in users if not isinstance(u, BaseException) and not u.is_bot]

    async def started(self, incident: Incident) -> None:
        """The members once the channel is set up: part of the start, not timeline events."""
        # One listing serves both: who may view it (followed) and who was ever involved.
        humans = await self._humans(await self._members.members(incident.channel_id))
        await self._store.join(incident.id, humans, incident.created_at, events=False)

    async def _followed(self, channel_id: str) -> Incident | None:
        """The incident of the channel once its first members are recorded (joins before
        that are the setup's own, which :meth:`started` records)."""
        if self._members.being_set_up(channel_id):
            return None  # the set-up's own joins: started() records them
        incident = await self._incidents.by_channel(channel_id)
        if incident is None or not await self._store.tracked(incident.id):
            return None
        return incident

    async def on_added(self, event: UserAdded) -> None:
        incident = await self._followed(event.channel_id)
        if incident is None:
            return
        humans = await self._humans([event.user_id])
        await self._store.join(incident.id, humans, self._clock.now_ms())

    async def on_removed(self, event: UserRemoved) -> None:
        incident = await self._followed(event.channel_id)
        if incident is None or event.user_id == self._bot:
            return
        await self._store.leave(incident.id, [event.user_id], self._clock.now_ms())

    async def resync(self) -> None:
        """Re-read the members of every ongoing incident channel (events may have been lost)."""
        async for incident in self._incidents.each_ongoing():
            await self._turn()  # a person's request first (see bot/tasks.Foreground)
            try:
                # Listed by the membership re-sync just before (it runs first): not again.
                members = set(await self._humans(await self._members.members(incident.channel_id)))
            except ChatRefused:
                continue
            known = await self._store.present(incident.id)
            tracked = await self._store.tracked(incident.id)
            now = self._clock.now_ms()
            if members - known:  # the first snapshot of an incident is its start
                await self._store.join(incident.id, sorted(members - known), now, events=tracked)
            if known - members:
                await self._store.leave(incident.id, sorted(known - members), now)
