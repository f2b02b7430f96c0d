"""Following what people change by hand in Mattermost: incident channels and users.

The rule (table in ``docs/mattermost-objects.md``): whatever warroom shows about a Mattermost
object is either followed — a websocket event handler here AND a re-sync counterpart that
re-reads it over REST after every (re)connect — or read fresh when shown.

- Incident channels (name, private or public, archived): followed. ``channel_updated`` renames the incident's
  ``~name``; ``channel_deleted`` archives it, which ends an ongoing incident (nobody can type
  there any more) with the reason on the timeline, the reminder cancelled and the broadcast
  channel told; ``channel_restored`` only clears the mark (the incident stays ended and may be
  restarted). The re-sync lists the bot's channels per team, archived ones included, and
  applies the same changes.
- Users (name, deactivated): ``user_updated`` replaces the cached user and refreshes the cards
  that show them; the re-sync drops the whole cache. Decisions that depend on a user's state
  (making someone commander or assignee) read the user fresh instead (``Directory.current``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.clock import Clock
from bot.domain import transitions
from bot.domain.models import EventKind, Incident
from bot.log import get_logger
from bot.render import messages
from bot.services.directory import Directory
from bot.services.events import ChannelDeleted, ChannelRestored, ChannelUpdated, UserUpdated
from bot.services.incidents import IncidentService
from bot.services.notify import Notifier
from bot.services.ports import Channel, ChatClient, ChatRefused

log = get_logger(__name__)

RESYNC_CONCURRENCY = 8


class ChannelFollower:
    """Keeps each incident's channel name, display name (the incident's name), privacy and archived
    state as Mattermost has them."""

    def __init__(
        self, *, chat: ChatClient, incidents: IncidentService, notifier: Notifier, clock: Clock
    ) -> None:
        self._chat = chat
        self._incidents = incidents
        self._notify = notifier
        self._clock = clock

    # ---- events ---------------------------------------------------------------------

    async def on_updated(self, event: ChannelUpdated) -> None:
        incident = await self._incidents.store.by_channel(event.channel.id)
        if incident is not None:
            await self.apply(incident, event.channel)

    async def on_deleted(self, event: ChannelDeleted) -> None:
        incident = await self._incidents.store.by_channel(event.channel_id)
        if incident is not None:
            await self._archived(incident)

    async def on_restored(self, event: ChannelRestored) -> None:
        incident = await self._incidents.store.by_channel(event.channel_id)
        if incident is not None:
            await self._restored(incident)

    # ---- re-sync --------------------------------------------------------------------

    async def resync(self) -> None:
        """Every incident's channel as it is now: one listing of the bot's channels per team
        (archived included); a channel missing there (the bot left it) is read by id."""
        for team_id in await self._incidents.store.team_ids():
            try:
                mine = {c.id: c for c in await self._chat.my_channels(team_id)}
            except ChatRefused:
                log.warning("resync_channels_unreadable", team_id=team_id)
                continue
            await self._resync_team(team_id, mine)

    async def _resync_team(self, team_id: str, mine: dict[str, Channel]) -> None:
        slots = asyncio.Semaphore(RESYNC_CONCURRENCY)

        async def one(incident: Incident) -> None:
            async with slots:
                channel = mine.get(incident.channel_id)
                if channel is None:
                    try:
                        channel = await self._chat.get_channel(incident.channel_id)
                    except ChatRefused:
                        return  # gone or unreadable for the bot: nothing to follow
                await self.apply(incident, channel)

        async for page in self._incidents.store.pages(team_id=team_id):  # one page in memory
            results = await asyncio.gather(*(one(i) for i in page), return_exceptions=True)
            for incident, result in zip(page, results, strict=True):
                if isinstance(result, Exception):
                    log.error("channel_resync_failed", incident_id=incident.id, exc_info=result)

    # ---- applying a channel's current state ------------------------------------------

    async def apply(self, incident: Incident, channel: Channel) -> None:
        """Bring ``incident`` in line with ``channel`` (name, archived or not)."""
        shown = channel.display_name
        if channel.name != incident.channel_name or (shown and shown != incident.name):
            await self._incidents.mutate(
                incident.id,
                lambda cur: transitions.channel_renamed(cur, name=channel.name, display_name=shown),
            )
            log.info("incident_channel_renamed", incident_id=incident.id, name=channel.name)
            if not channel.delete_at:
                self._incidents.refresh_later(incident)
        if channel.is_private != incident.private_channel:
            await self._incidents.mutate(
                incident.id,
                lambda cur: transitions.channel_privacy(cur, private=channel.is_private),
            )
            log.info("incident_channel_converted", incident_id=incident.id)
        if channel.delete_at and not incident.channel_archived:
            await self._archived(incident)
        elif not channel.delete_at and incident.channel_archived:
            await self._restored(incident)

    async def _archived(self, incident: Incident) -> None:
        now = self._clock.now_ms()
        saved, events = await self._incidents.mutate(
            incident.id, lambda cur: transitions.channel_archived(cur, now=now)
        )
        if not any(e.kind is EventKind.ENDED for e in events):
            return
        log.info("incident_ended_by_archive", incident_id=incident.id)
        await self._incidents.run_ended_hooks(saved)
        # Nobody can read a notice in the archived channel: tell the commander (who can have
        # it restored) directly, and the broadcast channel if there is one.
        try:
            await self._notify.tell(saved.commander_id, "", messages.ended_by_archive_dm(saved))
        except Exception:
            log.exception("archive_notice_failed", incident_id=incident.id)
        if saved.broadcast_channel_id:
            try:
                await self._chat.create_post(
                    saved.broadcast_channel_id, messages.ended_by_archive(saved, now)
                )
            except Exception:
                log.exception("archive_broadcast_failed", incident_id=incident.id)

    async def _restored(self, incident: Incident) -> None:
        now = self._clock.now_ms()
        saved, events = await self._incidents.mutate(
            incident.id, lambda cur: transitions.channel_restored(cur, now=now)
        )
        if events:
            log.info("incident_channel_restored", incident_id=incident.id)
            self._incidents.refresh_later(saved)


@dataclass(frozen=True)
class Origin:
    """The origin post of a start as it is now: ``deleted``, or its ``message`` ("" when the
    viewer may not read its channel: then only the link is shown)."""

    post_id: str
    message: str = ""
    deleted: bool = False


async def read_origin(
    chat: ChatClient, directory: Directory, incident: Incident, viewer_id: str
) -> Origin | None:
    """Read the origin post fresh when it is shown (edits and deletion show at once). 5.36: a
    deleted post reads as 404 ``app.post.get.app_error``. The text is shown only to a viewer
    who may read the post's channel (member, public channel of their team, system admin)."""
    if not incident.origin_post_id:
        return None
    try:
        post = await chat.get_post(incident.origin_post_id)
    except ChatRefused as exc:
        return Origin(incident.origin_post_id, deleted=exc.status == 404)
    if post.delete_at:
        return Origin(post.id, deleted=True)
    try:
        channel = await chat.get_channel(post.channel_id)
    except ChatRefused:
        return Origin(post.id)
    readable = await directory.can_read(channel, viewer_id)
    return Origin(post.id, message=post.message if readable else "")


class UserFollower:
    """Keeps the users warroom shows (names on cards) as Mattermost has them."""

    def __init__(self, *, directory: Directory, incidents: IncidentService) -> None:
        self._dir = directory
        self._incidents = incidents

    async def on_updated(self, event: UserUpdated) -> None:
        self._dir.remember(event.user)
        async for incident in self._incidents.store.each_ongoing():
            shown = {
                incident.commander_id,
                *(t.assignee_id for s in incident.stages for t in s.tasks),
            }
            if event.user.id in shown and not incident.channel_archived:
                self._incidents.refresh_later(incident)

    async def resync(self) -> None:
        """Changes to users may have been missed: forget every cached user."""
        self._dir.forget_all()
