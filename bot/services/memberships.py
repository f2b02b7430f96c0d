"""Who is in each incident channel, followed by warroom itself so reads never ask Mattermost.

Mattermost lets a bot ask "is X a member of channel C?" only one channel at a time, so
answering ``list`` or ``stats`` by asking would cost one request per private incident. warroom
follows membership instead: every incident channel is listed once in full (one paged member
listing) when it is set up and by every re-sync after a (re)connect, and the websocket's
``user_added``/``user_removed`` events keep it current in between (the bot is a member of
every incident channel, and 5.36 broadcasts both events to the channel's members:
``app/channel.go`` ``postJoinChannelMessage``/``RemoveUserFromChannel`` publish
``WEBSOCKET_EVENT_USER_ADDED``/``_USER_REMOVED`` with the channel as the broadcast target).

Known or not: a channel listed since the current event stream began is *known*; one listed
before (events may have been lost in the gap) or never is *unknown* while the stream is down
or until the re-sync lists it again. Reads leave unknown private incidents out and say how
many (never a guess either way), and :meth:`Memberships.refresh_later` lists them again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence

from bot.clock import Clock
from bot.domain.models import Incident, IncidentStatus
from bot.domain.review import StatsRow
from bot.log import get_logger
from bot.services.events import UserAdded, UserRemoved
from bot.services.ports import (
    ChatClient,
    ChatRefused,
    IncidentFilter,
    IncidentSort,
    MembershipStorePort,
    SortKey,
)
from bot.tasks import Spawn, Turn, no_wait

log = get_logger(__name__)

LISTINGS_AT_ONCE = 8  # member listings the re-sync keeps in flight
KNOWN_KEPT = 4096  # memberships confirmed by the store and kept in memory (see is_member)
NEVER = 2**62  # "since" while the event stream is down: nothing counts as known


class Memberships:
    """Follows incident-channel membership (see the module) and answers from the store."""

    def __init__(
        self,
        *,
        store: MembershipStorePort,
        chat: ChatClient,
        clock: Clock,
        bot_user_id: str,
        is_incident_channel: Callable[[str], Awaitable[bool]],
        spawn: Spawn,
        turn: Turn = no_wait,
    ) -> None:
        self._turn = turn
        self._store = store
        self._chat = chat
        self._clock = clock
        self._bot = bot_user_id
        self._is_incident_channel = is_incident_channel
        self._spawn = spawn
        self._epoch: int | None = None  # when the current event stream began (ms)
        self._live: Callable[[], bool] = lambda: False
        self._pending: set[str] = set()
        self._resyncing = False
        # Every private incident up to this row had its channel known (this stream, nothing
        # forgotten since): reads skip the per-row check there. 0: check every row.
        self._checked = 0
        self._generation = 0  # moves on when something known may have become unknown
        # (channel, user) the store confirmed during this stream, until someone may have left:
        # every change of a task asks whether its author is in the channel (see is_member).
        self._confirmed: set[tuple[str, str]] = set()
        self._confirmed_gen = 0
        # Channels warroom has just made, followed before their incident is saved: who
        # joined meanwhile (events), or None once someone left (see made).
        self._made: dict[str, set[str] | None] = {}

    # ---- the event stream ------------------------------------------------------------------

    def follow_stream(self, live: Callable[[], bool]) -> None:
        """``live()`` tells whether the event stream is connected now."""
        self._live = live

    def stream_started(self) -> None:
        """A new event stream began (not a resumed one): channels listed before are stale."""
        self._epoch = self._clock.now_ms()
        self._unchecked()
        self._unconfirm()

    def _unchecked(self) -> None:
        self._checked = 0
        self._generation += 1

    @property
    def checked(self) -> int:
        """See ``_checked``; 0 while the stream is down."""
        return self._checked if self._live() else 0

    async def recheck(self) -> None:
        """One pass over the incidents: if every private one's channel is known now, later
        reads skip the per-row check up to the newest incident (see the store)."""
        generation = self._generation
        checked = await self._store.checked_up_to(since=self.since)
        if generation == self._generation:
            self._checked = checked

    @property
    def since(self) -> int:
        """Listings at or after this time (ms) are current; :data:`NEVER` while down."""
        if self._epoch is None or not self._live():
            return NEVER
        return self._epoch

    async def on_added(self, event: UserAdded) -> None:
        joined = self._made.get(event.channel_id, None)
        if joined is not None:  # being set up: recorded with the others by made()
            joined.add(event.user_id)
            return
        if await self._incident_channel(event.channel_id):
            await self._store.add(event.channel_id, event.user_id)

    async def on_removed(self, event: UserRemoved) -> None:
        if event.channel_id in self._made:
            self._made[event.channel_id] = None
        if not await self._incident_channel(event.channel_id):
            return
        if event.user_id == self._bot:
            # No further events reach warroom about this channel: it becomes unknown.
            self._unchecked()
            await self._store.forget(event.channel_id)
        else:
            await self._store.remove(event.channel_id, event.user_id)
        self._unconfirm()

    async def _incident_channel(self, channel_id: str) -> bool:
        return channel_id in self._made or await self._is_incident_channel(channel_id)

    # ---- channels warroom makes ---------------------------------------------------------------

    def watch(self, channel_id: str) -> None:
        """Follow a channel warroom has just made (before its incident is saved), so that
        :meth:`made` can record its members without listing them."""
        self._made[channel_id] = set()

    def being_set_up(self, channel_id: str) -> bool:
        """Whether ``channel_id`` is a channel warroom is setting up (see :meth:`watch`)."""
        return channel_id in self._made

    def unwatch(self, channel_id: str) -> None:
        """Stop following ``channel_id`` as just made (its incident follows it from now on)."""
        self._made.pop(channel_id, None)

    async def added(self, channel_id: str, user_ids: Iterable[str]) -> None:
        """warroom added ``user_ids`` to an incident channel itself: recorded now, not only
        when their events come (a read right after sees them; the events then change nothing)."""
        for user_id in user_ids:
            await self._store.add(channel_id, user_id)

    async def made(self, channel_id: str, user_ids: Iterable[str], *, since: int) -> bool:
        """Record the members of a channel warroom made and filled itself: the bot and
        ``user_ids`` (those it added), plus whoever joined meanwhile (events), as listed at
        ``since`` (ms, taken before the channel was created). No listing is needed: the
        channel was followed from its creation (:meth:`watch`) and the bot, in it from the
        start, is sent every change as an event. The record counts as known only if the event
        stream has been up since ``since`` (see :attr:`since`; a later stream makes it
        unknown, and it is listed like any other). False, recording nothing, when it was not
        watched or someone left meanwhile (their event may have come before warroom's own
        additions were answered): then it is listed when its members are first needed.

        The one gap: someone joining within the create call's own round trip (before the
        channel's id is known to warroom) is missed until the next listing (the re-sync)."""
        joined = self._made.pop(channel_id, None)
        if joined is None:
            return False
        await self._store.join_listed(channel_id, [self._bot, *user_ids, *joined], since)
        return True

    # ---- listing ---------------------------------------------------------------------------

    async def seed(self, channel_id: str) -> bool:
        """List the channel's members in full (one paged listing) and store them.

        False if Mattermost refused (the bot is no longer in the channel): then unknown.
        """
        at = self._clock.now_ms()
        try:
            members = await self._chat.channel_member_ids(channel_id)
        except ChatRefused as exc:
            log.warning("channel_members_unreadable", channel_id=channel_id, status=exc.status)
            self._unchecked()
            await self._store.forget(channel_id)
            self._unconfirm()
            return False
        await self._store.seed(channel_id, members, at)
        self._unconfirm()  # whoever left while events were missed is gone from it now
        return True

    async def resync(self) -> None:
        """List every incident channel again (ongoing first, newest first), by
        :data:`LISTINGS_AT_ONCE` workers taking the next channel in turn (not one task per
        channel: 10,000 of those at once are megabytes for nothing)."""
        channels = await self._store.incident_channels()
        queue = iter(channels)
        failed: list[Exception] = []

        async def worker() -> None:
            for channel_id in queue:  # shared: each channel is taken by one worker
                await self._turn()  # a person's request first (see bot/tasks.Foreground)
                try:
                    await self.seed(channel_id)
                except Exception as exc:  # counted and logged below; the others go on
                    failed.append(exc)

        self._resyncing = True
        try:
            await asyncio.gather(*(worker() for _ in range(LISTINGS_AT_ONCE)))
        finally:
            self._resyncing = False
        await self.recheck()
        for exc in failed[:3]:
            log.error("channel_members_resync_failed", exc_info=exc)
        log.info("channel_members_resynced", channels=len(channels), failed=len(failed))

    def refresh_later(self, channel_ids: Iterable[str]) -> None:
        """List these channels again in the background (each once at a time)."""
        wanted = [c for c in dict.fromkeys(channel_ids) if c not in self._pending]
        if not wanted or self._epoch is None or self._resyncing or not self._live():
            return  # the (first) re-sync lists every channel anyway
        self._pending.update(wanted)

        async def work() -> None:
            slots = asyncio.Semaphore(LISTINGS_AT_ONCE)

            async def one(channel_id: str) -> None:
                try:
                    async with slots:
                        await self.seed(channel_id)
                finally:
                    self._pending.discard(channel_id)

            await asyncio.gather(*(one(c) for c in wanted))
            await self.recheck()

        # No report: upkeep for nobody in particular; a failure is logged by the tracker.
        self._spawn(f"members-refresh-{len(wanted)}-{wanted[0]}", work(), report=None)

    async def unknown_channels(self, channel_ids: Iterable[str]) -> list[str]:
        """Those of ``channel_ids`` whose members are not known now (see the module)."""
        return await self._store.unknown_channels(channel_ids, since=self.since)

    # ---- reads -----------------------------------------------------------------------------

    async def visible_incidents(
        self,
        team_id: str,
        user_id: str,
        *,
        admin: bool,
        public: bool = True,
        status: IncidentStatus,
        limit: int,
    ) -> tuple[list[Incident], int]:
        """The team's incidents with ``status`` that ``user_id`` may view, newest first, at
        most ``limit``, from what is followed (``public``: whether they read the team's public
        channels without being a member); and how many private ones were left out as
        unknown (those are listed again in the background)."""
        found, unknown = await self._store.visible_incidents(
            team_id,
            user_id,
            admin=admin,
            public=public,
            since=self.since,
            checked=self.checked,
            status=status,
            limit=limit,
        )
        self.refresh_later(unknown)
        return found, len(unknown)

    async def visible_page(
        self,
        team_ids: Sequence[str],
        user_id: str,
        *,
        admin: bool,
        public: bool = True,
        where: IncidentFilter,
        sort: IncidentSort,
        descending: bool,
        after: SortKey | None,
        limit: int,
    ) -> tuple[list[Incident], int]:
        """A page of the incidents of ``team_ids`` matching ``where`` that ``user_id`` may
        view (see the store), as :meth:`visible_incidents` decides it; and how many private
        ones were left out as unknown (listed again in the background)."""
        found, unknown = await self._store.visible_page(
            team_ids,
            user_id,
            admin=admin,
            public=public,
            since=self.since,
            checked=self.checked,
            where=where,
            sort=sort,
            descending=descending,
            after=after,
            limit=limit,
        )
        self.refresh_later(unknown)
        return found, len(unknown)

    async def visible_stats_rows(
        self, team_id: str, user_id: str, *, admin: bool, window_start: int, public: bool = True
    ) -> tuple[list[StatsRow], int]:
        """What ``stats`` counts for ``user_id`` (see the store), and the unknown left out."""
        rows, unknown = await self._store.visible_stats_rows(
            team_id,
            user_id,
            admin=admin,
            public=public,
            since=self.since,
            window_start=window_start,
            checked=self.checked,
        )
        self.refresh_later(unknown)
        return rows, len(unknown)

    async def members(self, channel_id: str) -> list[str]:
        """Everyone in ``channel_id``: as followed when known, else listed now (and stored).

        Raises :class:`ChatRefused` when Mattermost refuses the listing.
        """
        known = await self._store.members(channel_id, since=self.since)
        if known is not None:
            return known
        at = self._clock.now_ms()
        listed = await self._chat.channel_member_ids(channel_id)
        await self._store.seed(channel_id, listed, at)
        self._unconfirm()
        return listed

    async def member_of(self, user_id: str, channel_ids: list[str]) -> tuple[set[str], list[str]]:
        """Of ``channel_ids``: those ``user_id`` is known to be in, and those not known now
        (listed again in the background)."""
        unknown = await self._store.unknown_channels(channel_ids, since=self.since)
        known = set(channel_ids) - set(unknown)
        member = await self._store.member_of(user_id, known)
        self.refresh_later(unknown)
        return member, unknown

    async def is_member(self, channel_id: str, user_id: str) -> bool | None:
        """Whether ``user_id`` is in ``channel_id`` as followed; None when unknown.

        A membership the store confirmed is kept in memory (at most :data:`KNOWN_KEPT`)
        and answered from there while the stream that confirmed it lasts, until anyone is
        removed from a channel or a channel's members are listed again (then every kept one
        is asked again): a burst of changes by the people in a channel reads the store once."""
        since = self.since
        if since != NEVER and (channel_id, user_id) in self._confirmed:
            return True
        generation = self._confirmed_gen
        known = await self._store.is_member(channel_id, user_id, since=since)
        if known and generation == self._confirmed_gen:  # nobody left during the read
            if len(self._confirmed) >= KNOWN_KEPT:
                self._confirmed.clear()
            self._confirmed.add((channel_id, user_id))
        return known

    def _unconfirm(self) -> None:
        """Someone may have left a channel (or the stream changed): ask the store again,
        also about reads in flight."""
        self._confirmed.clear()
        self._confirmed_gen += 1
