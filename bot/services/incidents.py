"""Incident use-cases: load → domain transition → save (one transaction) → effects in chat."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.domain import transitions
from bot.domain.ids import new_id
from bot.domain.models import Incident, IncidentStatus, Playbook, TimelineEvent
from bot.domain.naming import channel_name_for, with_suffix
from bot.errors import ChatUnavailable, InputError, NotFound, PermissionDenied
from bot.log import get_logger
from bot.render import cards, messages
from bot.render.views import ButtonMaker
from bot.services.directory import Directory
from bot.services.notify import Notifier
from bot.services.ports import Channel, ChatClient, ChatRefused
from bot.store.db import Database
from bot.store.incidents import IncidentStore, StaleIncident

log = get_logger(__name__)

NAME_CLASH = "store.sql_channel.save_channel.exists.app_error"
CHANNEL_NAME_ATTEMPTS = 4
REPAIR_DELAYS_S = (1.0, 5.0, 30.0, 120.0, 600.0)
MEMBERSHIP_CHECKS = 16  # concurrent REST checks when filtering many incidents

IncidentHook = Callable[[Incident], Awaitable[None]]
Mutation = Callable[[Incident], transitions.Transition]


@dataclass
class StartRequest:
    reporter_id: str
    team_id: str
    origin_channel_id: str
    playbook: Playbook
    name: str
    description: str
    origin_post_id: str = ""
    origin_link: str = ""
    severity: str = ""
    created_at: int | None = None  # backdated test incidents only; None = now


@dataclass
class Hooks:
    """Other features plug in here (reminders, webhooks, members tracking…)."""

    started: list[IncidentHook] = field(default_factory=list)
    ended: list[IncidentHook] = field(default_factory=list)
    restarted: list[IncidentHook] = field(default_factory=list)
    # Returns the latest status update text shown on the card and in info.
    last_update: Callable[[Incident], Awaitable[str]] | None = None


class IncidentService:
    def __init__(
        self,
        *,
        db: Database,
        incidents: IncidentStore,
        chat: ChatClient,
        directory: Directory,
        notifier: Notifier,
        buttons: ButtonMaker,
        clock: Clock,
        tasks: Callable[[str, Coroutine[Any, Any, None]], object],
        hooks: Hooks | None = None,
    ) -> None:
        self._db = db
        self._store = incidents
        self._chat = chat
        self._dir = directory
        self._notify = notifier
        self._buttons = buttons
        self._clock = clock
        self._spawn = tasks
        self.hooks = hooks or Hooks()
        self._locks: dict[str, asyncio.Lock] = {}
        self._card_locks: dict[str, asyncio.Lock] = {}

    # ---- lookups --------------------------------------------------------------------

    @property
    def store(self) -> IncidentStore:
        return self._store

    async def in_channel(self, channel_id: str) -> Incident:
        incident = await self._store.by_channel(channel_id)
        if incident is None:
            raise PermissionDenied("not_incident_channel")
        return incident

    async def get(self, incident_id: str) -> Incident:
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
        self, incident_id: str, change: Mutation
    ) -> tuple[Incident, list[TimelineEvent]]:
        """Apply ``change`` to the current state, save it and its events atomically."""
        async with self.lock(incident_id):
            for _ in range(3):
                current = await self.get(incident_id)
                updated, events = change(current)
                if not events and updated == current:
                    return current, []  # nothing to do (e.g. a double click): no save
                try:
                    async with self._db.transaction() as tx:
                        saved = await self._store.update(tx, updated)
                        await self._store.add_events(tx, incident_id, events)
                except StaleIncident:
                    continue
                return saved, events
        raise StaleIncident(incident_id)

    # ---- start ----------------------------------------------------------------------

    async def start(self, req: StartRequest) -> Incident:
        """Create the channel and save the incident; the rest runs in the background."""
        reporter = await self._dir.user(req.reporter_id)
        if reporter.is_guest:
            raise PermissionDenied("guest_cannot_create")
        playbook = await self._checked_broadcast(req.playbook)
        channel = await self._create_channel(req)
        now = self._clock.now_ms() if req.created_at is None else req.created_at
        incident, events = transitions.new_incident(
            incident_id=new_id(),
            playbook=playbook,
            team_id=req.team_id,
            channel_id=channel.id,
            channel_name=channel.name,
            name=req.name,
            description=req.description,
            reporter_id=req.reporter_id,
            now=now,
            origin_post_id=req.origin_post_id,
            severity=req.severity,
        )
        async with self._db.transaction() as tx:
            await self._store.insert(tx, incident)
            await self._store.add_events(tx, incident.id, events)
        log.info("incident_created", incident_id=incident.id, channel_id=channel.id)
        self._spawn(f"incident-setup-{incident.id}", self._set_up(incident, req))
        return incident

    async def _checked_broadcast(self, playbook: Playbook) -> Playbook:
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

    async def _create_channel(self, req: StartRequest) -> Channel:
        base = channel_name_for(req.name)
        name = base
        for _ in range(CHANNEL_NAME_ATTEMPTS):
            try:
                return await self._chat.create_channel(
                    team_id=req.team_id,
                    name=name,
                    display_name=req.name,
                    private=req.playbook.private_channel,
                    header=req.description[:1024],
                )
            except ChatRefused as exc:
                if exc.error_id != NAME_CLASH:
                    log.warning("channel_create_refused", error_id=exc.error_id)
                    raise InputError("channel_create_failed", field="name") from None
                name = with_suffix(base)
        raise InputError("channel_create_failed", field="name")

    async def _set_up(self, incident: Incident, req: StartRequest) -> None:
        """Members, first posts, card, checklist, the reporter told, the announcement."""
        invitees = [u for u in dict.fromkeys((incident.reporter_id, *req.playbook.invite_user_ids))]
        adds = asyncio.gather(
            *(self._chat.add_channel_member(incident.channel_id, uid) for uid in invitees),
            return_exceptions=True,
        )
        names = await self._dir.names([incident.reporter_id, incident.commander_id])
        try:
            await self._chat.create_post(
                incident.channel_id,
                messages.incident_started(incident, names, req.origin_link),
            )
            incident = await self.ensure_posts(incident)
        except Exception:
            # The re-sync after the next reconnect posts what is missing (Resync._catch_up).
            log.exception("incident_setup_failed", incident_id=incident.id)
            self._spawn(f"incident-repair-{incident.id}", self._repair_posts(incident.id))
            await adds
            with contextlib.suppress(Exception):
                await self._notify.tell(
                    incident.reporter_id, req.origin_channel_id, messages.start_failed()
                )
            return
        results = await adds
        failed = [uid for uid, r in zip(invitees, results, strict=True) if isinstance(r, Exception)]
        for uid, r in zip(invitees, results, strict=True):
            if isinstance(r, Exception):
                log.warning("invite_failed", incident_id=incident.id, user_id=uid, error=repr(r))
        tell = messages.tell_reporter(incident)
        if failed:
            failed_names = await self._dir.names(failed)
            tell += "\n" + messages.invite_failures([failed_names(u) for u in failed])
        if req.playbook.broadcast_channel_id and not incident.broadcast_channel_id:
            tell += "\n" + messages.broadcast_dropped()
        others: list[Awaitable[None]] = [
            self._notify.tell(incident.reporter_id, req.origin_channel_id, tell)
        ]
        if incident.broadcast_channel_id:
            others.append(self._broadcast_start(incident))
        others.extend(hook(incident) for hook in self.hooks.started)
        for result in await asyncio.gather(*others, return_exceptions=True):
            if isinstance(result, Exception):
                log.warning(
                    "incident_setup_step_failed", incident_id=incident.id, error=repr(result)
                )

    async def ensure_posts(self, incident: Incident) -> Incident:
        """Post the summary card (pinned) and the checklist where they are missing.

        At start, and again from the re-sync after an outage cut the start short. Each id is
        saved as soon as its post exists, so a failure in between never posts a card twice.
        """
        now = self._clock.now_ms()
        names = await self._dir.names([incident.commander_id])
        if not incident.card_post_id:
            message, props = cards.summary_card(incident, names, self._buttons, now)
            card = await self._chat.create_post(incident.channel_id, message, props=props)
            incident = await self._set_post_ids(incident.id, card_post_id=card.id)
            await self._chat.pin_post(card.id)
        if not incident.checklist_post_id:
            text, list_props = cards.checklist(incident, names, self._buttons)
            post = await self._chat.create_post(incident.channel_id, text, props=list_props)
            incident = await self._set_post_ids(incident.id, checklist_post_id=post.id)
        return incident

    async def _repair_posts(self, incident_id: str) -> None:
        """Retry posting a cut-short start's card and checklist a few times, backing off."""
        for delay in REPAIR_DELAYS_S:
            await asyncio.sleep(delay)
            try:
                incident = await self.get(incident_id)
                if incident.card_post_id and incident.checklist_post_id:
                    return  # done meanwhile (e.g. by the re-sync after a reconnect)
                await self.ensure_posts(incident)
            except Exception as exc:
                log.warning("incident_repair_failed", incident_id=incident_id, error=repr(exc))
            else:
                log.info("incident_repaired", incident_id=incident_id)
                return

    async def _set_post_ids(self, incident_id: str, **ids: str) -> Incident:
        saved, _ = await self.mutate(incident_id, lambda cur: (cur.model_copy(update=ids), []))
        return saved

    async def _broadcast_start(self, incident: Incident) -> None:
        names = await self._dir.names([incident.commander_id])
        await self._chat.create_post(
            incident.broadcast_channel_id, messages.announcement(incident, names)
        )

    # ---- lifecycle ------------------------------------------------------------------

    async def end(self, incident_id: str, actor_id: str, *, at: int | None = None) -> Incident:
        now = self._clock.now_ms() if at is None else at  # ``at``: backdated test data only
        saved, _ = await self.mutate(
            incident_id, lambda cur: transitions.end(cur, actor_id=actor_id, now=now)
        )
        names = await self._dir.names([actor_id])
        await self._say(saved, messages.ended(saved, names, actor_id, now))
        await self._run_hooks(self.hooks.ended, saved)
        self.refresh_later(saved)
        return saved

    async def restart(self, incident_id: str, actor_id: str) -> Incident:
        now = self._clock.now_ms()
        saved, _ = await self.mutate(
            incident_id, lambda cur: transitions.restart(cur, actor_id=actor_id, now=now)
        )
        names = await self._dir.names([actor_id])
        await self._say(saved, messages.restarted(names, actor_id))
        await self._run_hooks(self.hooks.restarted, saved)
        self.refresh_later(saved)
        return saved

    async def change_commander(self, incident_id: str, actor_id: str, username: str) -> Incident:
        incident = await self.get(incident_id)
        user = await self._dir.current_by_username(username)  # fresh: deactivated or not
        if user.is_bot:
            raise InputError("is_bot", field="commander")
        if user.is_deactivated:
            raise InputError("user_deactivated", field="commander")
        if not await self._chat.is_channel_member(incident.channel_id, user.id):
            raise InputError("not_in_channel", field="commander")
        now = self._clock.now_ms()
        saved, events = await self.mutate(
            incident_id,
            lambda cur: transitions.change_commander(
                cur, actor_id=actor_id, new_commander_id=user.id, now=now
            ),
        )
        old = events[0].data["from"]
        names = await self._dir.names([actor_id, old, user.id])
        await self._say(saved, messages.commander_changed(names, actor_id, old, user.id))
        self.refresh_later(saved)
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
            return name, ""

        results = await asyncio.gather(*(one(n) for n in dict.fromkeys(channel_names)))
        ok = [n for n, why in results if not why]
        failed = [(n, why) for n, why in results if why]
        return messages.announce_results(ok, failed)

    async def list_for(self, team_id: str, user_id: str, limit: int = 10) -> list[Incident]:
        ongoing = await self._store.list_team(team_id, status=IncidentStatus.ONGOING)
        if not ongoing:
            return []
        return (await self.visible_to(ongoing, user_id))[:limit]

    async def visible_to(self, incidents: list[Incident], user_id: str) -> list[Incident]:
        """Those of ``incidents`` that ``user_id`` may view (same order)."""
        if not incidents or await self._dir.is_admin(user_id):
            return incidents
        # A bot may not list another user's channel memberships; ask per private channel.
        private = [i for i in incidents if i.private_channel]
        slots = asyncio.Semaphore(MEMBERSHIP_CHECKS)

        async def is_member(incident: Incident) -> bool:
            async with slots:
                return await self._chat.is_channel_member(incident.channel_id, user_id)

        member = await asyncio.gather(*(is_member(i) for i in private))
        mine = {i.id for i, is_member in zip(private, member, strict=True) if is_member}
        return [i for i in incidents if i.id in mine or not i.private_channel]

    # ---- effects --------------------------------------------------------------------

    async def _say(self, incident: Incident, text: str) -> None:
        try:
            await self._chat.create_post(incident.channel_id, text)
        except Exception:
            log.exception("channel_post_failed", incident_id=incident.id)

    async def run_ended_hooks(self, incident: Incident) -> None:
        """What ending an incident sets off elsewhere (reminder cancelled …), for ends that do
        not go through :meth:`end` (the channel archived by hand)."""
        await self._run_hooks(self.hooks.ended, incident)

    async def _run_hooks(self, hooks: list[IncidentHook], incident: Incident) -> None:
        for result in await asyncio.gather(*(h(incident) for h in hooks), return_exceptions=True):
            if isinstance(result, Exception):
                log.error("incident_hook_failed", incident_id=incident.id, exc_info=result)

    def refresh_later(self, incident: Incident) -> None:
        self._spawn(f"refresh-{incident.id}", self.refresh_posts(incident.id))

    async def refresh_posts(self, incident_id: str) -> None:
        """Re-render the card and checklist from the newest saved state, in place."""
        lock = self._card_locks.setdefault(incident_id, asyncio.Lock())
        async with lock:
            incident = await self.get(incident_id)
            if incident.channel_archived:
                return  # Mattermost refuses edits in an archived channel
            now = self._clock.now_ms()
            names = await self._dir.names(
                [incident.commander_id, *(t.assignee_id for s in incident.stages for t in s.tasks)]
            )
            last = await self.last_update(incident)
            if incident.card_post_id:
                message, props = cards.summary_card(incident, names, self._buttons, now, last)
                await self._chat.update_post(incident.card_post_id, message, props)
            if incident.checklist_post_id:
                text, props = cards.checklist(incident, names, self._buttons)
                await self._chat.update_post(incident.checklist_post_id, text, props)
