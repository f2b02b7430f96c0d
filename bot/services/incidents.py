"""Incident use-cases: load → domain transition → save (one transaction) → effects in chat."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.crashpoints import crash_point
from bot.domain import transitions
from bot.domain.models import Incident, IncidentStatus, Playbook, TimelineEvent
from bot.domain.oneshot import OneShot
from bot.domain.outbox import Effect
from bot.errors import ChatUnavailable, InputError, NotFound, PermissionDenied
from bot.log import get_logger
from bot.render import cards, messages
from bot.render import checklist as checklist_text
from bot.render.keys import keyed
from bot.render.views import ButtonMaker, Names
from bot.services.checklist_posts import ChecklistPosts, checklist_key
from bot.services.directory import Directory
from bot.services.effects import Draft, Outbox
from bot.services.lines import KIND as CHANGE_LINE
from bot.services.lines import ChangeLines
from bot.services.memberships import Memberships
from bot.services.notify import Notifier
from bot.services.ports import (
    ChatClient,
    ChatRefused,
    IncidentFilter,
    IncidentRows,
    IncidentSort,
    Nonces,
    SortKey,
    StaleIncident,
    StartRows,
    Tx,
    UnitOfWork,
)
from bot.services.rendered import RenderedPosts
from bot.services.starts import DurableStarts, StartRequest
from bot.tasks import Spawn

log = get_logger(__name__)

# In a burst of changes (one came while the card was being refreshed) the next refresh waits
# this long before it reads the state, so a burst costs a few refreshes a second, not one each.
REFRESH_GAP_S = 0.25
SAVED_KEPT = 64  # incidents whose last saved state mutate keeps (see _remember)
NAMES_PER_CALL = 100  # users asked for at once when the re-sync warms the names cards show


IncidentHook = Callable[[Incident], Awaitable[None]]
Recorded = Callable[[Tx, Incident, list[TimelineEvent]], Awaitable[None]]
Mutation = Callable[[Incident], transitions.Transition]
# The lines a change posts in the incident channel, rendered from the saved state and events.
Notices = Callable[[Incident, list[TimelineEvent]], Awaitable[list[str]]]


@dataclass
class Hooks:
    """Other features plug in here (reminders, webhooks, members tracking…)."""

    started: list[IncidentHook] = field(default_factory=list)
    ended: list[IncidentHook] = field(default_factory=list)
    restarted: list[IncidentHook] = field(default_factory=list)
    # Returns the latest status update text shown on the card and in info.
    last_update: Callable[[Incident], Awaitable[str]] | None = None
    # Called inside the transaction that records timeline events, with the incident as saved
    # there (outgoing webhooks write their outbox rows with the change, issue 14).
    recorded: list[Recorded] = field(default_factory=list)


class IncidentService:
    def __init__(
        self,
        *,
        db: UnitOfWork,
        incidents: IncidentRows,
        chat: ChatClient,
        directory: Directory,
        notifier: Notifier,
        buttons: ButtonMaker,
        clock: Clock,
        tasks: Spawn,
        outbox: Outbox,
        starts: StartRows,
        nonces: Nonces,
        bot_user_id: str,
        memberships: Memberships,
        rendered: RenderedPosts,
        hooks: Hooks | None = None,
    ) -> None:
        self._db = db
        self._members = memberships
        self._store = incidents
        self._chat = chat
        self._dir = directory
        self._notify = notifier
        self._buttons = buttons
        self._clock = clock
        self._spawn = tasks
        self.outbox = outbox
        self._nonces = nonces
        self.rendered = rendered
        self.hooks = hooks or Hooks()
        self._locks: dict[str, asyncio.Lock] = {}
        self._card_locks: dict[str, asyncio.Lock] = {}
        self._refresh_queued: set[str] = set()  # see refresh_later
        self._rendered_from: dict[str, tuple[object, ...]] = {}  # see _refresh_locked
        self._saved: dict[str, Incident] = {}  # see _remember
        self._channels: dict[str, str] = {}  # channel id -> incident id, of those in _saved
        self.starts = DurableStarts(
            service=self,
            db=db,
            store=starts,
            incidents=incidents,
            nonces=nonces,
            chat=chat,
            directory=directory,
            notifier=notifier,
            clock=clock,
            spawn=tasks,
            bot_user_id=bot_user_id,
            memberships=memberships,
        )
        self.checklist_posts = ChecklistPosts(
            chat=chat,
            buttons=buttons,
            load=self.get,
            save_ids=self._save_checklist_ids,
            post_page=self._post_page,
            forget_pages=self._forget_pages,
            rendered=rendered,
        )
        self.lines = ChangeLines(outbox=outbox, chat=chat, spawn=tasks)
        outbox.on_posted("card", self._card_posted)
        outbox.on_posted("checklist", self._checklist_posted)

    # ---- lookups --------------------------------------------------------------------

    @property
    def store(self) -> IncidentRows:
        return self._store

    async def in_channel(self, channel_id: str) -> Incident:
        known = self._saved.get(self._channels.get(channel_id, ""))
        if known is not None:
            return known
        incident = await self._store.by_channel(channel_id)
        if incident is None:
            raise PermissionDenied("not_incident_channel")
        return incident

    async def get(self, incident_id: str) -> Incident:
        known = self._saved.get(incident_id)
        if known is not None:
            return known
        incident = await self._store.get(incident_id)
        if incident is None:
            raise NotFound("incident")
        return incident

    async def last_update(self, incident: Incident) -> str:
        if self.hooks.last_update is None:
            return ""
        return await self.hooks.last_update(incident)

    # ---- the one way to change an incident ---------------------------------------------

    def lock(self, incident_id: str) -> asyncio.Lock:
        return self._locks.setdefault(incident_id, asyncio.Lock())

    async def mutate(
        self,
        incident_id: str,
        change: Mutation,
        *,
        notices: Notices | None = None,
        once: OneShot | None = None,
    ) -> tuple[Incident, list[TimelineEvent]]:
        """Apply ``change`` to the current state, save it and its events atomically.

        ``notices`` renders the lines the change posts in the channel: they are recorded in
        the same transaction (the outbox) and posted after it, exactly once, also across a
        kill. ``once`` is the dialog nonce that authorised the change, spent in that same
        transaction (:class:`InputError` ``stale_dialog`` if it was spent before).
        """
        async with self.lock(incident_id):
            for _ in range(3):
                # As this process last saved it, if it did (see _remember); the save below
                # checks the version, so a copy gone stale costs a round, never a lost write.
                current = await self.get(incident_id)
                updated, events = change(current)
                if not events and updated == current:
                    return current, []  # nothing to do (e.g. a double click): no save
                lines = await notices(updated, events) if notices and events else []
                try:
                    # One trip to the store: the statements are sent with the commit, where
                    # a spent nonce raises InputError and another saved version StaleIncident.
                    async with self._db.transaction() as tx:
                        if once:
                            await self._nonces.spend_or_refuse(tx, once, now=self._clock.now_ms())
                        saved = await self._store.update(tx, updated)
                        await self.record_events(tx, saved, events)
                        # Each saved version of an incident is made once: so is each key.
                        keys = [
                            f"notice:{incident_id}:{saved.version}:{n}" for n in range(len(lines))
                        ]
                        for key, line in zip(keys, lines, strict=True):
                            await self.outbox.record(
                                tx,
                                key=key,
                                kind=CHANGE_LINE,
                                channel_id=saved.channel_id,
                                message=line,
                                incident_id=incident_id,
                            )
                except StaleIncident:
                    self._forget(incident_id)
                    continue
                break
            else:
                raise StaleIncident(incident_id)
            self._remember(saved)
            if keys:  # still under the lock: lines queue in the order their changes commit
                crash_point("change.saved")
                self._post_lines(list(zip(keys, lines, strict=True)), saved, events)
        return saved, events

    def _remember(self, saved: Incident) -> None:
        """Keep the newest saved state of the :data:`SAVED_KEPT` incidents changed last: a
        burst of changes and the reads between them read the database once, not once each.
        Only :meth:`mutate` saves an incident (bot/store/incidents.py ``update``, under the
        incident's lock), so this copy is what the database holds until the next save
        replaces it; a save that finds another version forgets it (:meth:`_forget`)."""
        self._forget(saved.id)
        self._saved[saved.id] = saved
        self._channels[saved.channel_id] = saved.id
        if len(self._saved) > SAVED_KEPT:
            self._forget(next(iter(self._saved)))

    def _forget(self, incident_id: str) -> None:
        known = self._saved.pop(incident_id, None)
        if known is not None:
            self._channels.pop(known.channel_id, None)

    def _post_lines(
        self, lines: list[tuple[str, str]], incident: Incident, events: list[TimelineEvent]
    ) -> None:
        """Post a change's recorded lines in the background, after the lines before them
        (:class:`ChangeLines`: in order, batched, exactly once); a refused line, or one that
        never gets through, is told to who made the change."""
        actor_id = events[0].actor_id if events else incident.commander_id

        async def tell(_: BaseException) -> None:  # rendered only if it is needed
            await self._notify.tell(
                actor_id, incident.channel_id, messages.channel_post_failed(incident)
            )

        self.lines.post(incident.channel_id, lines, report=tell)

    async def record_events(self, tx: Tx, incident: Incident, events: list[TimelineEvent]) -> None:
        """Add ``events`` to ``incident``'s timeline in ``tx``, and let the ``recorded`` hooks
        record what follows from them in that same transaction (webhook deliveries)."""
        await self._store.add_events(tx, incident.id, events)
        if events:
            for hook in self.hooks.recorded:
                await hook(tx, incident, events)

    # ---- start (the durable unit lives in bot/services/starts.py) ----------------------

    async def start(self, req: StartRequest, *, once: OneShot | None = None) -> Incident:
        """Record the start, create its channel, save the incident; the set-up follows.

        Raises :class:`PermissionDenied` (guests), :class:`InputError` (the channel was
        refused, or ``once`` was spent) and :class:`bot.errors.Pending` when Mattermost's
        answer was lost: the start is recorded and finished in the background.
        """
        return await self.starts.start(req, once=once)

    async def checked_broadcast(self, playbook: Playbook) -> Playbook:
        """``playbook``, without its broadcast channel if a chat playbook's chooser lost it.

        Posting the announcement and the status copies there acts on the say-so of whoever
        chose the channel in chat, so that person must still be able to read it (issue 9);
        for a chat playbook saved before the chooser was kept, its first member stands in.
        Playbooks from ``playbooks.yaml`` are the operator's own configuration.
        """
        if playbook.source != "chat" or not playbook.broadcast_channel_id:
            return playbook
        chooser = playbook.broadcast_set_by or next(iter(playbook.member_ids), "")
        try:
            await self._dir.readable_channel_by_id(playbook.broadcast_channel_id, chooser)
        except (NotFound, ChatRefused, ChatUnavailable):
            log.warning(
                "broadcast_channel_dropped",
                playbook_id=playbook.id,
                channel_id=playbook.broadcast_channel_id,
                chooser=chooser,
            )
            return playbook.model_copy(update={"broadcast_channel_id": ""})
        return playbook

    async def ensure_posts(self, incident: Incident) -> Incident:
        """Post the summary card (pinned) and the checklist where they are missing.

        At start, and again from the re-sync after an outage cut the start short. Each is an
        effect of the outbox with a stable key (``card:<id>``, ``checklist:<id>``): one whose
        answer was lost is found in the channel, never posted a second time.
        """
        now = self._clock.now_ms()
        names = await self._dir.names([incident.commander_id])
        if not incident.card_post_id:
            message, props = cards.summary_card(incident, names, self._buttons, now)
            key = f"card:{incident.id}"
            post_id, fresh = await self._post_keyed(incident, "card", message, props, key=key)
            if fresh and post_id:
                digest = self._card_digest(incident, names, "")
                await self.rendered.sent(
                    post_id, incident_id=incident.id, digest=digest, message=message
                )
        # Each page of the checklist without a post yet, each an effect of the outbox
        # (``checklist:<id>``, then ``checklist:<id>:<page>``; services/checklist_posts).
        await self.checklist_posts.sync(
            incident.id, await self._names_shown(incident), create_only=True
        )
        return await self.get(incident.id)

    async def missing_posts(self, incident: Incident) -> list[tuple[Draft, str]]:
        """The summary card and the checklist pages ``incident`` has no post for yet, rendered
        once, in the order they are posted (``card:<id>``, then ``checklist:<id>``,
        ``checklist:<id>:<page>``: the keys :meth:`ensure_posts` uses); each with the digest
        to remember once it is posted (:meth:`RenderedPosts.sent`, as ensure_posts does)."""
        names = await self._names_shown(incident)
        drafts = []
        if not incident.card_post_id:
            message, props = cards.summary_card(
                incident, names, self._buttons, self._clock.now_ms()
            )
            digest = self._card_digest(incident, names, "")
            drafts.append((Draft(f"card:{incident.id}", "card", message, props), digest))
        pages = checklist_text.checklist_posts(incident, names, self._buttons)
        for index in range(len(incident.checklist_post_ids), len(pages)):
            message, props = pages[index]
            key = checklist_key(incident.id, index)
            digest = self.rendered.digest(message, keyed(props, key))
            drafts.append((Draft(key, "checklist", message, props, {"page": index}), digest))
        return drafts

    async def _post_keyed(
        self,
        incident: Incident,
        kind: str,
        message: str,
        props: dict[str, Any],
        *,
        key: str,
        data: dict[str, Any] | None = None,
    ) -> tuple[str, bool]:
        """Post through the outbox under ``key``; the post id, and whether it was made now
        from these contents (False: an earlier attempt's post, found or already recorded)."""
        async with self._db.transaction() as tx:
            fresh = await self.outbox.add(
                tx,
                key=key,
                kind=kind,
                channel_id=incident.channel_id,
                message=message,
                props=props,
                incident_id=incident.id,
                data=data,
                again=True,
            )
        return await self.outbox.deliver(key, fresh=fresh), fresh

    async def _post_page(
        self, incident: Incident, index: int, message: str, props: dict[str, Any]
    ) -> tuple[str, bool]:
        """Post page ``index`` (0-based) of the checklist exactly once (see _post_keyed)."""
        key = checklist_key(incident.id, index)
        return await self._post_keyed(
            incident, "checklist", message, props, key=key, data={"page": index}
        )

    async def _forget_pages(self, incident_id: str, indexes: list[int]) -> None:
        """The pages' posts are gone: their keys may post again (a stage that grows back)."""
        async with self._db.transaction() as tx:
            for index in indexes:
                await self.outbox.store.forget(tx, checklist_key(incident_id, index))

    async def _card_posted(self, effect: Effect, post_id: str) -> None:
        """The card's id saved and the card pinned (both at once: neither needs the other)."""
        done = await asyncio.gather(
            self._set_post_ids(effect.incident_id, card_post_id=post_id),
            self._chat.pin_post(post_id),
            return_exceptions=True,
        )
        for result in done:
            if isinstance(result, BaseException):
                raise result

    async def _checklist_posted(self, effect: Effect, post_id: str) -> None:
        """Record page ``data.page`` (0 = the first, also for effects older than pages)."""
        index = effect.data.get("page", 0)
        index = index if isinstance(index, int) else 0

        def place(cur: Incident) -> tuple[Incident, list[TimelineEvent]]:
            ids = list(cur.checklist_post_ids)
            if index < len(ids):
                ids[index] = post_id
            elif index == len(ids):
                ids.append(post_id)
            else:  # an earlier page is missing: the next sync posts from there in order
                return cur, []
            first, more = ids[0], tuple(ids[1:])
            return cur.model_copy(
                update={"checklist_post_id": first, "checklist_more_post_ids": more}
            ), []

        await self.mutate(effect.incident_id, place)

    async def _save_checklist_ids(self, incident_id: str, ids: tuple[str, ...]) -> Incident:
        first, more = (ids[0], ids[1:]) if ids else ("", ())
        saved, _ = await self.mutate(
            incident_id,
            lambda cur: (
                cur.model_copy(
                    update={"checklist_post_id": first, "checklist_more_post_ids": more}
                ),
                [],
            ),
        )
        return saved

    async def _names_shown(self, incident: Incident) -> Names:
        """Names of everyone the card and the checklist mention."""
        return await self._dir.names(
            [incident.commander_id, *(t.assignee_id for s in incident.stages for t in s.tasks)]
        )

    async def _set_post_ids(self, incident_id: str, **ids: str) -> Incident:
        saved, _ = await self.mutate(incident_id, lambda cur: (cur.model_copy(update=ids), []))
        return saved

    # ---- lifecycle ------------------------------------------------------------------

    async def end(
        self,
        incident_id: str,
        actor_id: str,
        *,
        at: int | None = None,
        once: OneShot | None = None,
    ) -> Incident:
        now = self._clock.now_ms() if at is None else at  # ``at``: backdated test data only

        async def notice(saved: Incident, _: list[TimelineEvent]) -> list[str]:
            names = await self._dir.names([actor_id])
            return [messages.ended(saved, names, actor_id, now)]

        saved, _ = await self.mutate(
            incident_id,
            lambda cur: transitions.end(cur, actor_id=actor_id, now=now),
            notices=notice,
            once=once,
        )
        await self._run_hooks(self.hooks.ended, saved)
        self.refresh_later(saved, tell=actor_id)
        return saved

    async def restart(self, incident_id: str, actor_id: str) -> Incident:
        now = self._clock.now_ms()

        async def notice(_: Incident, __: list[TimelineEvent]) -> list[str]:
            return [messages.restarted(await self._dir.names([actor_id]), actor_id)]

        saved, _ = await self.mutate(
            incident_id,
            lambda cur: transitions.restart(cur, actor_id=actor_id, now=now),
            notices=notice,
        )
        await self._run_hooks(self.hooks.restarted, saved)
        self.refresh_later(saved, tell=actor_id)
        return saved

    async def change_commander(self, incident_id: str, actor_id: str, username: str) -> Incident:
        incident = await self.get(incident_id)
        user = await self._dir.current_by_username(username)  # fresh: deactivated or not
        if user.is_bot:
            raise InputError("is_bot", field="commander")
        if user.is_deactivated:
            raise InputError("user_deactivated", field="commander")
        await self._dir.require_in_incident(incident, user.id, field="commander")
        now = self._clock.now_ms()

        async def notice(_: Incident, events: list[TimelineEvent]) -> list[str]:
            old = str(events[0].data["from"])
            names = await self._dir.names([actor_id, old, user.id])
            return [messages.commander_changed(names, actor_id, old, user.id)]

        saved, _ = await self.mutate(
            incident_id,
            lambda cur: transitions.change_commander(
                cur, actor_id=actor_id, new_commander_id=user.id, now=now
            ),
            notices=notice,
        )
        self.refresh_later(saved, tell=actor_id)
        return saved

    async def announce(self, incident: Incident, channel_names: list[str], actor_id: str) -> str:
        """Post the announcement in each named channel that ``actor_id`` may read themselves.

        The caller's own rights decide (see :meth:`Directory.readable_channel`): a channel they
        cannot read is answered exactly like one that does not exist, whatever the bot sees.
        Returns the per-channel result text for the caller.
        """
        names = await self._dir.names([incident.commander_id])
        text = messages.announcement(incident, names)

        async def one(name: str) -> tuple[str, str]:
            try:
                channel = await self._dir.readable_channel(incident.team_id, name, actor_id)
            except NotFound:
                return name, "unknown"
            except ChatRefused:
                return name, "error"
            try:
                await self._chat.create_post(channel.id, text)
            except ChatRefused as exc:
                return name, "forbidden" if exc.status == 403 else "error"
            except ChatUnavailable as exc:  # per channel: the others are still reported
                return name, "maybe" if exc.outcome_unknown else "unavailable"
            return name, ""

        results = await asyncio.gather(*(one(n) for n in dict.fromkeys(channel_names)))
        ok = [n for n, why in results if not why]
        failed = [(n, why) for n, why in results if why]
        return messages.announce_results(ok, failed)

    async def list_for(
        self, team_id: str, user_id: str, limit: int = 10
    ) -> tuple[list[Incident], int]:
        """The ongoing incidents of ``team_id`` that ``user_id`` may view, newest first, at
        most ``limit``; and how many private ones were left out because warroom does not
        know their channel's members right now. Answered from the store alone: membership
        is followed (:class:`Memberships`), never asked per incident. A guest sees public
        incidents only as a member too (they do not read public channels by team role)."""
        user = await self._dir.user(user_id)
        return await self._members.visible_incidents(
            team_id,
            user_id,
            admin=user.is_admin,
            public=not user.is_guest,
            status=IncidentStatus.ONGOING,
            limit=limit,
        )

    async def page_for(
        self,
        team_ids: Sequence[str],
        user_id: str,
        *,
        where: IncidentFilter,
        sort: IncidentSort,
        descending: bool,
        after: SortKey | None,
        limit: int,
    ) -> tuple[list[Incident], int]:
        """A page of the incidents of ``team_ids`` matching ``where`` that ``user_id`` may
        view, in ``sort`` order from the one after ``after`` on, at most ``limit``; and how
        many private ones were left out because their channel's members are not known right
        now. Decided as :meth:`list_for` decides it, from the store alone."""
        user = await self._dir.user(user_id)
        return await self._members.visible_page(
            team_ids,
            user_id,
            admin=user.is_admin,
            public=not user.is_guest,
            where=where,
            sort=sort,
            descending=descending,
            after=after,
            limit=limit,
        )

    # ---- effects --------------------------------------------------------------------

    async def run_started_hooks(self, incident: Incident) -> None:
        """The started hooks (members tracking …), once the set-up is done."""
        await self._run_hooks(self.hooks.started, incident)

    async def run_ended_hooks(self, incident: Incident) -> None:
        """What ending an incident sets off elsewhere (reminder cancelled …), for ends that do
        not go through :meth:`end` (the channel archived by hand)."""
        await self._run_hooks(self.hooks.ended, incident)

    async def _run_hooks(self, hooks: list[IncidentHook], incident: Incident) -> None:
        for result in await asyncio.gather(*(h(incident) for h in hooks), return_exceptions=True):
            if isinstance(result, Exception):
                log.error("incident_hook_failed", incident_id=incident.id, exc_info=result)

    def refresh_later(self, incident: Incident, *, tell: str = "") -> None:
        """Re-render the card and checklist in the background; if that fails, ``tell`` (the
        person whose change it shows), else the commander, is told.

        Coalesced: while a refresh of the incident is queued and has not read the state yet,
        another is not needed (it will read the newest state); one queued while another is
        in flight also waits :data:`REFRESH_GAP_S` before reading, so a burst of changes costs
        a few re-renders a second, not one each (the failure goes to the first one's ``tell``)."""
        if incident.id in self._refresh_queued:
            return
        self._refresh_queued.add(incident.id)
        self._spawn(
            f"refresh-{incident.id}",
            self.refresh_posts(incident.id, queued=True),
            report=self._notify.reporter(
                tell or incident.commander_id,
                incident.channel_id,
                messages.refresh_failed(incident),
            ),
        )

    async def refresh_posts(self, incident_id: str, *, queued: bool = False) -> None:
        """Re-render the card and checklist from the newest saved state, in place; only the
        posts whose render differs from what warroom last set them to are sent
        (:class:`RenderedPosts`, durable: the re-sync after a reconnect or a restart sends
        what changed, a refresh that failed included, and nothing else).

        ``queued``: this is the refresh :meth:`refresh_later` queued (from here on, a change
        needs a new one).
        """
        lock = self._card_locks.setdefault(incident_id, asyncio.Lock())
        burst = queued and lock.locked()  # changed while a refresh was in flight
        try:
            async with lock:
                if burst:  # let the burst go on a moment: its next changes need no refresh
                    await asyncio.sleep(REFRESH_GAP_S)
                if queued:
                    self._refresh_queued.discard(incident_id)
                await self._refresh_locked(incident_id)
        finally:
            if queued:  # also when cut short before reading (cancelled at shutdown)
                self._refresh_queued.discard(incident_id)

    async def _refresh_locked(self, incident_id: str) -> None:
        """:meth:`refresh_posts` once its lock is held.

        The posts are a function of the incident as saved (its ``version`` changes with every
        save), the names shown and the last status update. When those are what this process
        last brought every post up to date from, and each post's record still stands (not
        forgotten by a failure or a deletion, not due for renewal), nothing is rendered.
        """
        incident = await self.get(incident_id)
        if incident.channel_archived:
            return  # Mattermost refuses edits in an archived channel
        names = await self._names_shown(incident)
        last = await self.last_update(incident)
        inputs = (incident.version, tuple(sorted(names.by_id.items())), names.inactive, last)
        posts = [p for p in (incident.card_post_id, *incident.checklist_post_ids) if p]
        if self._rendered_from.get(incident.id) == inputs and await self.rendered.current(posts):
            return
        self._rendered_from.pop(incident.id, None)
        if incident.card_post_id:
            await self._refresh_card(incident, names, last)
        if incident.checklist_post_id:
            # Every page in place (keyed: an update replaces all props); pages a grown
            # stage needs are added, surplus ones removed.
            saved = await self.checklist_posts.sync(incident.id, names)
            if saved.version != incident.version:
                return  # changed meanwhile, or pages re-posted: the next refresh renders
        if incident.card_post_id and incident.checklist_post_id:
            self._rendered_from[incident.id] = inputs

    def _card_digest(self, incident: Incident, names: Names, last: str) -> str:
        """The digest of the card as compared: rendered as of the incident's start, so the
        duration it shows (which changes with the clock alone) is not part of it."""
        message, props = cards.summary_card(
            incident, names, self._buttons, incident.created_at, last
        )
        return self.rendered.digest(message, keyed(props, f"card:{incident.id}"))

    async def _refresh_card(self, incident: Incident, names: Names, last: str) -> None:
        """Update the card in place when what it shows differs from what it was last set to.

        The duration alone is not a change: a card is not sent again only to advance it, so
        the duration shown is as of the card's last change (its start time is shown beside
        it). Raises what the update raises; what the card then shows is not known (it is
        sent again next time).
        """
        digest = self._card_digest(incident, names, last)
        post_id = incident.card_post_id
        if await self.rendered.shows(post_id, digest):
            return
        message, props = cards.summary_card(
            incident, names, self._buttons, self._clock.now_ms(), last
        )
        props = keyed(props, f"card:{incident.id}")  # a patch replaces all props
        await self.rendered.unsure(post_id, message)
        try:
            await self._chat.update_post(post_id, message, props)
        except Exception:
            await self.rendered.forget([post_id])
            raise
        await self.rendered.sent(post_id, incident_id=incident.id, digest=digest, message=message)

    async def warm_names(self, incidents: list[Incident]) -> None:
        """Read everyone ``incidents``' cards and checklists show, :data:`NAMES_PER_CALL` users
        per REST call (the re-sync, after the cache was dropped): re-rendering N incidents
        then costs a few calls, not one per incident."""
        shown = sorted(
            {
                uid
                for incident in incidents
                for uid in (
                    incident.commander_id,
                    *(t.assignee_id for s in incident.stages for t in s.tasks),
                )
                if uid
            }
        )
        for start in range(0, len(shown), NAMES_PER_CALL):
            await self._dir.names(shown[start : start + NAMES_PER_CALL])

    async def post_deleted(self, post_id: str) -> None:
        """A post was deleted (``post_deleted``): if it is a card or a checklist page, what it
        shows is no longer known, so the next sync (a change, or the re-sync) sends it again
        and, finding it gone, posts it anew (``bot/services/checklist_posts``)."""
        if await self.rendered.knows(post_id):
            await self.rendered.forget([post_id])

    async def post_edited(self, post_id: str, message: str) -> None:
        """A post was edited (``post_edited``): if it is a card or a checklist page and its
        message is not what warroom set, someone edited it by hand, so the next sync (a
        change, or the re-sync) puts it back (:meth:`RenderedPosts.edited`)."""
        await self.rendered.edited(post_id, message)
