"""Status updates: post, record, broadcast, remind; follow edits and deletions of the posts."""

from __future__ import annotations

import asyncio

from bot.clock import Clock
from bot.crashpoints import crash_point
from bot.domain.ids import new_id
from bot.domain.models import EventKind, Incident, TimelineEvent
from bot.domain.oneshot import OneShot
from bot.domain.outbox import Effect
from bot.domain.reminders import Reminder
from bot.domain.status import StatusUpdate
from bot.errors import ChatUnavailable, InputError, InvalidTransition, NotFound, Pending
from bot.log import get_logger
from bot.render import status as render
from bot.render.keys import key_of, keyed
from bot.render.views import ButtonMaker
from bot.services.directory import Directory
from bot.services.effects import Outbox, PostFinder
from bot.services.incidents import IncidentService
from bot.services.notify import Notifier
from bot.services.ports import (
    ChatClient,
    ChatRefused,
    GiveUp,
    IncidentRows,
    Nonces,
    Post,
    ReminderSchedule,
    StatusRows,
    UnitOfWork,
)
from bot.tasks import Spawn

log = get_logger(__name__)

REMINDER_CHOICES = (0, 15 * 60, 30 * 60, 60 * 60, 4 * 3600, 24 * 3600)
TESTING_CHOICE = 10
RESYNC_CONCURRENCY = 8


def reminder_key(reminder: Reminder) -> str:
    """The stable key a reminder's post carries (found after a kill, see the scheduler)."""
    return f"reminder:{reminder.id}"


class ReminderPosts:
    """The chat side of a reminder (:class:`bot.services.ports.ReminderPoster`)."""

    def __init__(
        self,
        *,
        chat: ChatClient,
        once: ChatClient,
        incidents: IncidentService,
        directory: Directory,
        buttons: ButtonMaker,
        notifier: Notifier,
    ) -> None:
        """``once``: the chat client making one attempt per call, for posting and finding
        (the scheduler retries a transient failure later, durably); ``chat`` retries in-call
        (removing a post)."""
        self._chat = chat
        self._once = once
        self._incidents = incidents
        self._dir = directory
        self._buttons = buttons
        self._notify = notifier
        self._finder = PostFinder(once)  # one attempt per look: the scheduler retries

    async def post(self, reminder: Reminder) -> str | None:
        """Post the reminder. Raises :class:`bot.errors.ChatUnavailable` on a transient
        failure (the scheduler tries again later) and :class:`GiveUp` on a refusal, after
        telling the commander, who can still post the update."""
        try:
            incident = await self._incidents.get(reminder.incident_id)
        except NotFound:
            return None
        if not incident.is_ongoing:
            return None
        names = await self._dir.names([incident.commander_id])
        text, props = render.reminder_post(incident, names, self._buttons, reminder.id)
        try:
            post = await self._once.create_post(
                reminder.channel_id, text, props=keyed(props, reminder_key(reminder))
            )
        except ChatRefused as exc:
            if await self._archived(incident):
                # Archived by hand, unseen so far: the follower ends the incident and tells
                # the commander what to do (restore, restart); "post an update there" is
                # advice nobody can follow.
                log.info("reminder_channel_archived", incident_id=incident.id)
            else:
                await self._tell_refused(incident, exc)
            raise GiveUp(f"{exc.status} {exc.error_id}") from None
        return post.id

    async def _archived(self, incident: Incident) -> bool:
        """Whether the incident channel is archived now (read fresh; False if unknown)."""
        try:
            return bool((await self._chat.get_channel(incident.channel_id)).delete_at)
        except (ChatRefused, ChatUnavailable):
            return False

    async def _tell_refused(self, incident: Incident, exc: ChatRefused) -> None:
        try:  # a direct message: the incident channel is what refused
            await self._notify.tell(
                incident.commander_id, "", render.reminder_refused(incident, exc.status)
            )
        except (ChatRefused, ChatUnavailable):
            log.warning("reminder_refusal_not_told", incident_id=incident.id, exc_info=True)

    async def failed(self, reminder: Reminder) -> None:
        """Tell the commander by direct message: the reminder kept failing and was closed."""
        incident = await self._incidents.get(reminder.incident_id)
        if incident.is_ongoing:
            await self._notify.tell(incident.commander_id, "", render.reminder_failed(incident))

    async def find(self, reminder: Reminder) -> str | None:
        key = reminder_key(reminder)

        def made_for(post: Post) -> bool:
            # The mark alone: a post made before reminders carried their key (an upgrade).
            return key_of(post.props) == key or post.props.get(render.REMINDER_MARK) == str(
                reminder.id
            )

        try:
            return await self._finder.find_where(reminder.channel_id, made_for)
        except ChatRefused:
            return None  # the channel is out of reach: posting will say so, and tell

    async def remove(self, reminder: Reminder) -> None:
        if not reminder.post_id:
            return
        try:
            await self._chat.delete_post(reminder.post_id)
        except ChatRefused as exc:
            if exc.status != 404:
                raise


class StatusService:
    def __init__(
        self,
        *,
        db: UnitOfWork,
        store: StatusRows,
        incident_store: IncidentRows,
        incidents: IncidentService,
        chat: ChatClient,
        directory: Directory,
        notifier: Notifier,
        clock: Clock,
        scheduler: ReminderSchedule,
        tasks: Spawn,
        outbox: Outbox,
        nonces: Nonces,
        mattermost_url: str,
        testing: bool,
    ) -> None:
        self._db = db
        self.store = store
        self._incident_store = incident_store
        self._incidents = incidents
        self._chat = chat
        self._dir = directory
        self._notify = notifier
        self._clock = clock
        self.scheduler = scheduler
        self._spawn = tasks
        self._mattermost_url = mattermost_url
        self._testing = testing
        self._outbox = outbox
        self._nonces = nonces
        outbox.on_posted("status", self._posted)
        outbox.on_posted("broadcast", self._broadcast_posted)

    # ---- the dialog -----------------------------------------------------------------

    def reminder_choices(self) -> list[int]:
        extra = [TESTING_CHOICE] if self._testing else []
        return [REMINDER_CHOICES[0], *extra, *REMINDER_CHOICES[1:]]

    def parse_reminder(self, value: str) -> int | None:
        """Seconds until the next reminder (0: none), or None if not a listed choice."""
        if not value.isdigit() or int(value) not in self.reminder_choices():
            return None
        return int(value)

    async def prefill(self, incident: Incident) -> tuple[str, int]:
        """The newest live update (or the playbook's template) and the previous reminder."""
        latest = await self.store.latest(incident.id)
        if latest is not None:
            message, seconds = latest.message, latest.reminder_seconds
        else:
            message, seconds = incident.status_template, (incident.reminder_minutes or 0) * 60
        if seconds not in self.reminder_choices():
            seconds = 0
        return message, seconds

    # ---- posting an update ----------------------------------------------------------

    async def submit(
        self,
        *,
        incident_id: str,
        author_id: str,
        message: str,
        reminder_seconds: int,
        once: OneShot | None = None,
    ) -> StatusUpdate:
        """Record the update (and spend the dialog's nonce), post it, complete it.

        The post is an effect of the outbox (kind ``status``): a kill or a lost answer never
        posts it twice nor leaves it off the timeline. Raises :class:`Pending` when
        Mattermost's answer was lost (it is posted, or found, in the background).
        """
        incident = await self._incidents.get(incident_id)
        await self._dir.require_member(incident, author_id)
        if not incident.is_ongoing:
            raise InvalidTransition("already_ended")
        names = await self._dir.names([author_id])
        key = f"status:{incident.id}:{new_id()}"
        async with self._db.transaction() as tx:
            if once and not await self._nonces.spend(tx, once, now=self._clock.now_ms()):
                raise InputError("stale_dialog")
            await self._outbox.add(
                tx,
                key=key,
                kind="status",
                channel_id=incident.channel_id,
                message=render.update_post(names, author_id, message),
                incident_id=incident.id,
                data={
                    "author_id": author_id,
                    "message": message,
                    "reminder_seconds": reminder_seconds,
                },
            )
        crash_point("status.recorded")
        try:
            post_id = await self._outbox.deliver(key, fresh=True)
        except ChatRefused:
            raise
        except Exception as exc:
            log.warning("status_outcome_unknown", incident_id=incident.id, error=repr(exc))
            self._outbox.deliver_later(
                key,
                report=self._notify.reporter(
                    author_id, incident.channel_id, render.update_not_posted(incident)
                ),
            )
            raise Pending("status_update") from None
        update = await self.store.by_post(post_id)
        if update is None:
            raise NotFound("post")
        return update

    async def _posted(self, effect: Effect, post_id: str) -> None:
        """An update post exists: record it with its timeline event (once), then schedule
        the reminder, copy it to the broadcast channel and refresh the card. Runs again
        after a kill until done, so each part is idempotent."""
        data = effect.data
        reminder_seconds = int(data["reminder_seconds"])
        at = effect.created_at
        async with self._db.transaction() as tx:
            update_id, new = await self.store.add_once(
                tx,
                incident_id=effect.incident_id,
                author_id=str(data["author_id"]),
                message=str(data["message"]),
                post_id=post_id,
                reminder_seconds=reminder_seconds,
                now=at,
            )
            if new:
                event = TimelineEvent(
                    kind=EventKind.STATUS_UPDATED,
                    at=at,
                    actor_id=str(data["author_id"]),
                    data={"post_id": post_id, "reminder_seconds": reminder_seconds},
                )
                current = await self._incidents.get(effect.incident_id)
                await self._incidents.record_events(tx, current, [event])
        log.info("status_updated", incident_id=effect.incident_id, post_id=post_id)
        crash_point("status.completed")
        incident = await self._incidents.get(effect.incident_id)
        latest = await self.store.latest(incident.id)
        if latest is not None and latest.id == update_id:  # no newer update overtook it
            await self.scheduler.replace(
                incident_id=incident.id,
                channel_id=incident.channel_id,
                due_at=at + reminder_seconds * 1000 if reminder_seconds else None,
            )
        if incident.broadcast_channel_id:
            update = await self.store.by_post(post_id)
            if update is not None:
                self._spawn(
                    f"status-broadcast-{incident.id}",
                    self._broadcast(incident, update, effect.key),
                    report=self._notify.reporter(
                        update.author_id, incident.channel_id, render.broadcast_failed()
                    ),
                )
        self._incidents.refresh_later(incident, tell=str(effect.data.get("author_id", "")))

    async def _broadcast(self, incident: Incident, update: StatusUpdate, key: str) -> None:
        """Copy the update to the broadcast channel, once; a refusal never undoes the update
        (the author is told); an unknown outcome is retried (found before re-posting)."""
        copy_key = f"{key}:broadcast"
        try:
            team = await self._chat.get_team(incident.team_id)
            names = await self._dir.names([update.author_id])
            text = render.broadcast(
                incident,
                names,
                author_id=update.author_id,
                link=f"{self._mattermost_url}/{team.name}/pl/{update.post_id}",
                now=update.created_at,
                message=update.message,
            )
            async with self._db.transaction() as tx:
                fresh = await self._outbox.add(
                    tx,
                    key=copy_key,
                    kind="broadcast",
                    channel_id=incident.broadcast_channel_id,
                    message=text,
                    incident_id=incident.id,
                    data={"update_id": update.id},
                )
            await self._outbox.deliver(copy_key, fresh=fresh)
        except ChatRefused as exc:
            log.warning("status_broadcast_refused", incident_id=incident.id, error=repr(exc))
            try:
                await self._notify.tell(
                    update.author_id, incident.channel_id, render.broadcast_failed()
                )
            except Exception:
                log.exception("status_broadcast_failure_not_told", incident_id=incident.id)
        except Exception as exc:
            log.warning("status_broadcast_unknown", incident_id=incident.id, error=repr(exc))
            if await self._outbox.store.get(copy_key) is not None:
                self._outbox.deliver_later(
                    copy_key,
                    report=self._notify.reporter(
                        update.author_id, incident.channel_id, render.broadcast_failed()
                    ),
                )

    async def _broadcast_posted(self, effect: Effect, post_id: str) -> None:
        await self.store.set_broadcast(int(effect.data["update_id"]), post_id)

    # ---- hooks ----------------------------------------------------------------------

    async def last_update(self, incident: Incident) -> str:
        latest = await self.store.latest(incident.id)
        if latest is None:
            return ""
        names = await self._dir.names([latest.author_id])
        return render.last_update(latest.message, names.at(latest.author_id), latest.created_at)

    async def on_ended(self, incident: Incident) -> None:
        await self.scheduler.cancel(incident.id)

    async def dismiss(self, reminder_id: int, incident: Incident) -> None:
        reminder = await self.scheduler.store.get(reminder_id)
        if reminder is None or reminder.incident_id != incident.id:
            raise NotFound("post")
        await self.scheduler.dismiss(reminder_id)

    # ---- following the posts ----------------------------------------------------------

    async def post_edited(self, post: Post) -> None:
        update = await self.store.by_post(post.id)
        if update is not None and await self.store.edited(
            update.post_id, render.body_of(post.message)
        ):
            await self._refresh(update.incident_id)

    async def post_deleted(self, post: Post) -> None:
        update = await self.store.by_post(post.id)
        if update is not None and await self.store.deleted(update.post_id, self._clock.now_ms()):
            await self._refresh(update.incident_id)

    async def _refresh(self, incident_id: str) -> None:
        log.info("status_post_followed", incident_id=incident_id)
        self._incidents.refresh_later(await self._incidents.get(incident_id))

    async def resync(self) -> None:
        """Re-read the newest status post of every ongoing incident (events may be lost)."""
        slots = asyncio.Semaphore(RESYNC_CONCURRENCY)

        async def one(incident: Incident) -> None:
            async with slots:
                if await self._recheck(incident.id):
                    await self._refresh(incident.id)

        async for page in self._incident_store.pages(ongoing=True):  # one page in memory
            await asyncio.gather(*(one(i) for i in page))

    async def _recheck(self, incident_id: str) -> bool:
        """Mark deleted posts and follow edits until the newest live update is found."""
        changed = False
        for update in await self.store.live(incident_id, limit=20):
            try:
                post = await self._chat.get_post(update.post_id)
            except ChatRefused as exc:
                if exc.status != 404:
                    return changed
                changed |= await self.store.deleted(update.post_id, self._clock.now_ms())
                continue
            if post.delete_at:
                changed |= await self.store.deleted(update.post_id, self._clock.now_ms())
                continue
            changed |= await self.store.edited(update.post_id, render.body_of(post.message))
            return changed
        return changed
