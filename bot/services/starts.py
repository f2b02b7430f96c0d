"""A start as one durable unit, finished whatever cuts it short (a kill, an outage, a lost answer).

1. The intent is recorded first (``starts``: the request and the channel name it reserves),
   with the dialog's one-shot nonce spent in the same transaction.
2. The channel is created. Whenever an earlier attempt may have created it (warroom was
   killed, the answer was lost or timed out, the name is taken), it is looked up by the
   recorded name first: a channel of that name that the bot created and no incident owns is
   this start's own. So there is never an orphan channel, nor a second channel.
3. The incident is saved (``creating -> created``) in one transaction.
4. The set-up: the reporter and the invitees added; then the "started" line, the summary card
   and the checklist (posts of the outbox, :mod:`bot.services.effects`, recorded together with
   the members step in one transaction, and posted in that order, each once the one before is
   answered), and meanwhile the reporter told, the broadcast announcement and the started
   hooks. Each step is recorded when done (told and hooks with ``done`` at the end).

The first set-up attempt of a start this process has just created knows what nothing else
can: nothing was posted or told yet (so nothing is looked for before posting), and the
channel's members are the bot and those it added (recorded without listing them,
:meth:`bot.services.memberships.Memberships.made`). Any later attempt looks and lists.

What is unfinished is finished by a background retry and by the re-sync (at start and after
every reconnect): :meth:`DurableStarts.finish_all`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, field_validator

from bot.clock import Clock
from bot.crashpoints import crash_point
from bot.domain import transitions
from bot.domain.ids import new_id
from bot.domain.limits import INCIDENT_DESCRIPTION
from bot.domain.models import Incident, Playbook
from bot.domain.naming import channel_name_for, display_name, with_suffix
from bot.domain.oneshot import OneShot
from bot.domain.starts import StartRecord, StartState
from bot.errors import InputError, NotFound, Pending, PermissionDenied
from bot.log import get_logger
from bot.render import messages
from bot.services.directory import Directory
from bot.services.effects import Draft
from bot.services.locks import KeyedLocks
from bot.services.memberships import Memberships
from bot.services.notify import Notifier
from bot.services.ports import (
    Channel,
    ChatClient,
    ChatRefused,
    IncidentRows,
    NameTaken,
    Nonces,
    StartRows,
    UnitOfWork,
)
from bot.tasks import Report, Spawn

if TYPE_CHECKING:
    from bot.services.incidents import IncidentService

log = get_logger(__name__)

NAME_CLASH = "store.sql_channel.save_channel.exists.app_error"
CHANNEL_NAME_ATTEMPTS = 4
REPAIR_DELAYS_S = (1.0, 5.0, 30.0, 120.0, 600.0)
STEP_MEMBERS, STEP_TOLD, STEP_HOOKS = "members", "told", "hooks"
KEEP_SETTLED_MS = 7 * 24 * 3600 * 1000  # finished starts are kept a week, then forgotten
INVITE_FAILED = "invite_failed:"  # + user id: a step noting an invitee Mattermost refused


class StartRequest(BaseModel):
    """What a start needs; recorded (as JSON) before its channel is created."""

    model_config = ConfigDict(frozen=True)

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

    @field_validator("name")
    @classmethod
    def _as_the_server_saves_it(cls, value: str) -> str:
        """The name as the channel will show it (see :func:`bot.domain.naming.display_name`)."""
        return display_name(value)


@dataclass(frozen=True)
class _Made:
    """A channel this process created for a start whose set-up has not begun; once saved,
    the start's request and incident as saved (the set-up need not read them back)."""

    channel_id: str
    at: int  # ms, taken before the channel was created
    request: StartRequest | None = None
    incident: Incident | None = None


@dataclass(frozen=True)
class _Posts:
    """The set-up's posts in the incident channel, in order, as ``(key, fresh)``; and the
    digest of each kept one (card, checklist pages) to remember once it is made."""

    keys: list[tuple[str, bool]]
    digests: dict[str, tuple[str, str]]  # key -> (digest, message)


class DurableStarts:
    """Carries out starts (see the module docstring). Built by :class:`IncidentService`."""

    def __init__(
        self,
        *,
        service: IncidentService,
        db: UnitOfWork,
        store: StartRows,
        incidents: IncidentRows,
        nonces: Nonces,
        chat: ChatClient,
        directory: Directory,
        notifier: Notifier,
        clock: Clock,
        spawn: Spawn,
        bot_user_id: str,
        memberships: Memberships,
    ) -> None:
        self._service = service
        self._db = db
        self.store = store
        self._incidents = incidents
        self._nonces = nonces
        self._chat = chat
        self._dir = directory
        self._notify = notifier
        self._clock = clock
        self._spawn = spawn
        self._bot_id = bot_user_id
        self._members = memberships
        self._locks = KeyedLocks()
        self._made: dict[str, _Made] = {}  # start id -> its channel, until set-up begins

    # ---- the synchronous part: record, create, save ------------------------------------

    async def start(self, req: StartRequest, *, once: OneShot | None = None) -> Incident:
        """Record the start, create its channel, save the incident; the set-up follows."""
        reporter = await self._dir.user(req.reporter_id)
        if reporter.is_guest:
            raise PermissionDenied("guest_cannot_create")
        start_id = new_id()
        # Held from the record on: nobody (a re-sync finishing starts) takes this one up
        # meanwhile, so what was just recorded is what is created from, without reading it.
        async with self._locks.hold(start_id):
            record = await self._record(start_id, req, once)
            crash_point("start.recorded")
            try:
                incident = await self._create_from(record, fresh=True, made_at=self._clock.now_ms())
            except InputError:
                self._forget_made(start_id)
                if once:  # refused for good, nothing was made: the dialog may be corrected
                    await self._nonces.refund(once.nonce)
                raise
            except Exception as exc:
                self._forget_made(start_id)
                log.warning("start_outcome_unknown", start_id=start_id, error=repr(exc))
                self._spawn(
                    f"start-finish-{start_id}",
                    self._retry(start_id),
                    report=self._report(start_id),
                )
                raise Pending("start") from None
        self._spawn(
            f"incident-setup-{start_id}",
            self._set_up_or_repair(start_id),
            report=self._report(start_id),
        )
        return incident

    async def _record(self, start_id: str, req: StartRequest, once: OneShot | None) -> StartRecord:
        """Record the start (its channel's name reserved), spending ``once``; as recorded."""
        base = channel_name_for(req.name)
        name = base
        now = self._clock.now_ms() if req.created_at is None else req.created_at
        for _ in range(CHANNEL_NAME_ATTEMPTS):
            try:
                async with self._db.transaction() as tx:
                    if once and not await self._nonces.spend(tx, once, now=self._clock.now_ms()):
                        raise InputError("stale_dialog")
                    request = req.model_dump_json()
                    await self.store.add(
                        tx,
                        start_id=start_id,
                        team_id=req.team_id,
                        channel_name=name,
                        request=request,
                        now=now,
                    )
                return StartRecord(
                    id=start_id,
                    team_id=req.team_id,
                    channel_name=name,
                    state=StartState.CREATING,
                    request=request,
                    created_at=now,
                )
            except NameTaken:
                name = with_suffix(base)  # another start in progress reserved it
        raise InputError("channel_create_failed", field="name")

    async def _create(self, start_id: str) -> Incident:
        """:meth:`_create_from` the start as recorded, a later attempt (found when an earlier
        one may have made its channel)."""
        async with self._locks.hold(start_id):
            record = await self.store.get(start_id)
            if record is None:
                raise NotFound("incident")
            return await self._create_from(record, fresh=False)

    async def _create_from(
        self, record: StartRecord, *, fresh: bool, made_at: int | None = None
    ) -> Incident:
        """The channel (created, or found when an earlier attempt may have made it) and the
        incident saved, for ``record`` as it stands in the store (its lock held). Raises
        :class:`InputError` when Mattermost refused the channel.

        ``made_at``: this process records the start right now (ms, before any channel was
        created for it): its channel is followed from here (:meth:`Memberships.watch`)."""
        if record.state is StartState.FAILED:
            raise InputError("channel_create_failed", field="name")
        if record.state is not StartState.CREATING:
            return await self._service.get(record.id)
        req = StartRequest.model_validate_json(record.request)
        channel = await self._channel_for(record, req, fresh=fresh)
        if made_at is not None:
            self._made[record.id] = _Made(channel.id, made_at)
            self._members.watch(channel.id)
        crash_point("start.channel_created")
        playbook = await self._service.checked_broadcast(req.playbook)
        incident, events = transitions.new_incident(
            incident_id=record.id,
            playbook=playbook,
            team_id=req.team_id,
            channel_id=channel.id,
            channel_name=channel.name,
            name=req.name,
            description=req.description,
            reporter_id=req.reporter_id,
            now=record.created_at,
            origin_post_id=req.origin_post_id,
            severity=req.severity,
        )
        async with self._db.transaction() as tx:
            await self._incidents.insert(tx, incident)
            await self._service.record_events(tx, incident, events)
            await self.store.move(tx, record.id, StartState.CREATING, StartState.CREATED)
        log.info("incident_created", incident_id=incident.id, channel_id=channel.id)
        if (made := self._made.get(record.id)) is not None:
            self._made[record.id] = replace(made, request=req, incident=incident)
        crash_point("start.saved")
        return incident

    async def _channel_for(self, record: StartRecord, req: StartRequest, *, fresh: bool) -> Channel:
        base = channel_name_for(req.name)
        name = record.channel_name
        for _ in range(CHANNEL_NAME_ATTEMPTS):
            if not fresh and (mine := await self._own_channel(record.team_id, name)):
                log.info("start_channel_found", start_id=record.id, channel_id=mine.id)
                return mine
            try:
                return await self._chat.create_channel(
                    team_id=req.team_id,
                    name=name,
                    display_name=req.name,
                    private=req.playbook.private_channel,
                    header=req.description[: INCIDENT_DESCRIPTION.most],
                )
            except ChatRefused as exc:
                if exc.error_id != NAME_CLASH:
                    log.warning("channel_create_refused", error_id=exc.error_id)
                    await self.store.finish(record.id, StartState.FAILED)
                    raise InputError("channel_create_failed", field="name") from None
            # Taken: by this start's own channel (an answer lost after the server acted) or
            # by another channel; only the first is used.
            if mine := await self._own_channel(record.team_id, name):
                return mine
            name = await self._reserve_another(record.id, base)
            fresh = True
        await self.store.finish(record.id, StartState.FAILED)
        raise InputError("channel_create_failed", field="name")

    async def _own_channel(self, team_id: str, name: str) -> Channel | None:
        """The channel named ``name`` if this start made it: the bot created it and no
        incident owns it (the name is reserved for one start in progress at a time)."""
        try:
            channel = await self._chat.get_channel_by_name(team_id, name)
        except ChatRefused:
            return None
        if channel.creator_id != self._bot_id or channel.delete_at:
            return None
        if await self._incidents.by_channel(channel.id) is not None:
            return None
        return channel

    async def _reserve_another(self, start_id: str, base: str) -> str:
        for _ in range(CHANNEL_NAME_ATTEMPTS):
            name = with_suffix(base)
            try:
                await self.store.rename(start_id, name)
            except NameTaken:
                continue
            return name
        raise InputError("channel_create_failed", field="name")

    # ---- the set-up -----------------------------------------------------------------------

    async def _set_up_or_repair(self, start_id: str) -> None:
        try:
            await self.set_up(start_id)
        except Exception:
            log.exception("incident_setup_failed", incident_id=start_id)
            await self._tell_safely(start_id, messages.start_failed())
            self._spawn(
                f"incident-repair-{start_id}", self._retry(start_id), report=self._report(start_id)
            )

    async def set_up(self, start_id: str) -> None:
        """Members, first posts, card, checklist, the reporter told, the announcement, hooks.

        Idempotent: steps already done are skipped, posts are found by their keys.
        """
        async with self._locks.hold(start_id):
            made = self._made.pop(start_id, None)  # only the first attempt knows (module)
            try:
                await self._set_up(start_id, made)
            finally:
                if made is not None:
                    self._members.unwatch(made.channel_id)

    async def _set_up(self, start_id: str, made: _Made | None) -> None:
        if made is not None and made.request is not None and made.incident is not None:
            # The first attempt, right after the save: created, no step done, as saved.
            req, incident, steps = made.request, made.incident, []
        else:
            record = await self.store.get(start_id)
            if record is None or record.state is not StartState.CREATED:
                return
            req = StartRequest.model_validate_json(record.request)
            incident = await self._service.get(start_id)
            steps = list(record.steps)
        added: list[str] = []  # steps of this attempt, recorded with done at the end
        members: list[str] = []
        if STEP_MEMBERS in steps:
            posts, announcement = await self._record_posts(incident, req)
        else:  # both at once: the posts are recorded while the members are added
            adding, recording = await asyncio.gather(
                self._add_members(incident, req),
                self._record_posts(incident, req),
                return_exceptions=True,
            )
            if isinstance(adding, BaseException):
                raise adding
            if isinstance(recording, BaseException):
                raise recording
            (invitees, refused), (posts, announcement) = adding, recording
            added = [INVITE_FAILED + uid for uid in refused] + [STEP_MEMBERS]
            members = [uid for uid in invitees if uid not in refused]
            crash_point("start.members_added")
        steps += added
        # The reporter told and the start announced once the channel shows its first line
        # (the card and checklist follow meanwhile); not at all if that line fails.
        opened = asyncio.Event()
        channel = asyncio.ensure_future(self._channel_posts(incident, posts, opened))
        work: list[Awaitable[object]] = [channel]  # awaited below, with the rest
        if STEP_TOLD not in steps:
            tell = self._tell(incident, req, steps, looked_for=made is None)
            work.append(self._once(opened, channel, tell))
        if announcement is not None:
            work.append(self._once(opened, channel, self._announce(incident, announcement)))
        if STEP_HOOKS not in steps:
            work.append(self._started(incident, made if added else None, members))
        for result in await asyncio.gather(*work, return_exceptions=True):
            if isinstance(result, BaseException):
                raise result
        crash_point("start.set_up")
        async with self._db.transaction() as tx:
            done = added + [s for s in (STEP_TOLD, STEP_HOOKS) if s not in steps]
            await self.store.steps_done(start_id, done, tx=tx)
            await self.store.move(tx, start_id, StartState.CREATED, StartState.DONE)

    async def _record_posts(
        self, incident: Incident, req: StartRequest
    ) -> tuple[_Posts, tuple[str, bool] | None]:
        """Record, in one transaction, the posts the set-up makes (rendered once): the
        "started" line, the card and the checklist pages missing, in the order they are
        posted, and the announcement; each as ``(key, fresh)`` (see :meth:`Outbox.add`)."""
        names = await self._dir.names([incident.reporter_id, incident.commander_id])
        kept = await self._service.missing_posts(incident)
        started = messages.incident_started(incident, names, req.origin_link)
        drafts = [Draft(f"started:{incident.id}", "notice", started), *(d for d, _ in kept)]
        outbox = self._service.outbox
        async with self._db.transaction() as tx:
            posts = []
            for draft in drafts:
                fresh = await outbox.add(
                    tx,
                    key=draft.key,
                    kind=draft.kind,
                    channel_id=incident.channel_id,
                    message=draft.message,
                    props=draft.props,
                    incident_id=incident.id,
                    data=draft.data,
                    again=draft.kind != "notice",  # a refused card is tried again (ensure_posts)
                )
                posts.append((draft.key, fresh))
            announcement = None
            if incident.broadcast_channel_id:
                key = f"announce:{incident.id}"
                fresh = await outbox.add(
                    tx,
                    key=key,
                    kind="announcement",
                    channel_id=incident.broadcast_channel_id,
                    message=messages.announcement(incident, names),
                    incident_id=incident.id,
                )
                announcement = (key, fresh)
        crash_point("start.posts_recorded")
        kept_ones = {d.key: (digest, d.message) for d, digest in kept}
        return _Posts(posts, kept_ones), announcement

    async def _channel_posts(
        self, incident: Incident, posts: _Posts, opened: asyncio.Event
    ) -> None:
        """The channel's posts, in order (``opened`` set once the first exists); what each
        card or page made now shows is remembered (as ``IncidentService.ensure_posts``)."""
        ids = await self._service.outbox.deliver_in_order(posts.keys, first=opened)
        for (key, fresh), post_id in zip(posts.keys, ids, strict=True):
            if fresh and post_id and key in posts.digests:
                digest, message = posts.digests[key]
                await self._service.rendered.sent(
                    post_id, incident_id=incident.id, digest=digest, message=message
                )

    @staticmethod
    async def _once(
        opened: asyncio.Event, channel: asyncio.Future[None], work: Coroutine[Any, Any, None]
    ) -> None:
        """``work`` once ``opened`` is set; not at all if ``channel`` ends first (failed)."""
        waiting = asyncio.ensure_future(opened.wait())
        either: list[asyncio.Future[Any]] = [waiting, channel]
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()
        if not opened.is_set():
            work.close()  # never started
            return
        await work

    async def _started(self, incident: Incident, made: _Made | None, members: list[str]) -> None:
        """The started hooks (members tracking reads the channel's members), once the members
        added just now are recorded (on the first attempt as all there is: no listing)."""
        if made is not None:
            await self._members.made(made.channel_id, members, since=made.at)
        else:
            await self._members.added(incident.channel_id, members)
        await self._service.run_started_hooks(incident)

    async def _tell(
        self, incident: Incident, req: StartRequest, steps: list[str], *, looked_for: bool
    ) -> None:
        """Tell the reporter (a direct message looked for first if an earlier attempt may
        have sent it: ``looked_for``)."""
        await self._notify.tell_once(
            incident.reporter_id,
            req.origin_channel_id,
            await self._told(incident, req, steps),
            key=f"told:{incident.id}",
            look=looked_for,
        )
        crash_point("start.told")

    def _add_members(
        self, incident: Incident, req: StartRequest
    ) -> Awaitable[tuple[list[str], list[str]]]:
        """Add the reporter and the invitees (all at once, the calls started before this
        returns: they go out ahead of what the caller does next, e.g. rendering the first
        posts); awaited, those asked and those Mattermost refused. An unknown outcome raises
        (adding again is harmless, so the step is simply done again)."""
        invitees = list(dict.fromkeys((incident.reporter_id, *req.playbook.invite_user_ids)))
        calls = asyncio.gather(
            *(self._chat.add_channel_member(incident.channel_id, uid) for uid in invitees),
            return_exceptions=True,
        )
        return self._added(incident.id, invitees, calls)

    async def _added(
        self, incident_id: str, invitees: list[str], calls: Awaitable[list[Any]]
    ) -> tuple[list[str], list[str]]:
        results = await calls
        refused = []
        for uid, result in zip(invitees, results, strict=True):
            if isinstance(result, ChatRefused):
                log.warning(
                    "invite_failed", incident_id=incident_id, user_id=uid, error=repr(result)
                )
                refused.append(uid)
            elif isinstance(result, BaseException):
                raise result
        return invitees, refused

    async def _told(self, incident: Incident, req: StartRequest, steps: list[str]) -> str:
        text = messages.tell_reporter(incident)
        refused = [s.removeprefix(INVITE_FAILED) for s in steps if s.startswith(INVITE_FAILED)]
        if refused:
            names = await self._dir.names(refused)
            text += "\n" + messages.invite_failures([names(u) for u in refused])
        if req.playbook.broadcast_channel_id and not incident.broadcast_channel_id:
            text += "\n" + messages.broadcast_dropped()
        return text

    async def _announce(self, incident: Incident, effect: tuple[str, bool]) -> None:
        """Post the recorded announcement ``(key, fresh)``; a refusal is told the reporter."""
        key, fresh = effect
        try:
            await self._service.outbox.deliver(key, fresh=fresh)
        except ChatRefused as exc:  # e.g. the bot may not post there: the start stands
            log.warning("announcement_refused", incident_id=incident.id, error_id=exc.error_id)
            try:  # ... and the reporter is told, who can announce it by hand
                await self._notify.tell(
                    incident.reporter_id,
                    incident.channel_id,
                    messages.announcement_failed(incident),
                )
            except Exception as told:
                log.warning(
                    "announcement_failure_not_told", incident_id=incident.id, error=repr(told)
                )

    # ---- finishing what was cut short -------------------------------------------------------

    async def finish(self, start_id: str) -> None:
        """Bring one start to its end: channel found or created, incident saved, set up.

        Raises :class:`InputError` when Mattermost refused the channel (the start failed)."""
        await self._create(start_id)
        await self.set_up(start_id)

    async def finish_all(self) -> None:
        """Every start a kill, an outage or a lost answer left unfinished (the re-sync)."""
        await self.store.prune(self._clock.now_ms() - KEEP_SETTLED_MS)
        for record in await self.store.unfinished():
            await self._finish_or_tell(record.id)

    async def _finish_or_tell(self, start_id: str) -> bool:
        """True when the start is finished or failed for good (the reporter is then told)."""
        try:
            await self.finish(start_id)
        except InputError:
            await self._tell_safely(start_id, messages.start_refused())
            return True
        except Exception as exc:
            log.warning("start_not_finished", start_id=start_id, error=repr(exc))
            return False
        return True

    async def _retry(self, start_id: str) -> None:
        for delay in REPAIR_DELAYS_S:
            await asyncio.sleep(delay)
            if await self._finish_or_tell(start_id):
                log.info("start_finished_later", start_id=start_id)
                return

    def _forget_made(self, start_id: str) -> None:
        made = self._made.pop(start_id, None)
        if made is not None:
            self._members.unwatch(made.channel_id)

    def _report(self, start_id: str) -> Report:
        """How a background step of this start that failed is told: to its reporter."""

        async def report(exc: BaseException) -> None:
            await self._tell_safely(start_id, messages.start_failed())

        return report

    async def _tell_safely(self, start_id: str, text: str) -> None:
        record = await self.store.get(start_id)
        if record is None:
            return
        req = StartRequest.model_validate_json(record.request)
        try:
            await self._notify.tell(req.reporter_id, req.origin_channel_id, text)
        except Exception as exc:
            log.warning("reporter_not_told", start_id=start_id, error=repr(exc))
