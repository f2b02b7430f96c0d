"""Status updates: post, record, broadcast, remind; follow edits and deletions of the posts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from bot.clock import Clock
from bot.domain.models import EventKind, Incident, TimelineEvent
from bot.errors import ChatUnavailable, InvalidTransition, NotFound
from bot.log import get_logger
from bot.render import status as render
from bot.render.views import ButtonMaker
from bot.scheduler.scheduler import GiveUp, ReminderScheduler
from bot.scheduler.store import Reminder
from bot.services.directory import Directory
from bot.services.incidents import IncidentService
from bot.services.notify import Notifier
from bot.services.ports import ChatClient, ChatRefused, Post
from bot.store.db import Database
from bot.store.incidents import IncidentStore
from bot.store.status import StatusStore, StatusUpdate

log = get_logger(__name__)

REMINDER_CHOICES = (0, 15 * 60, 30 * 60, 60 * 60, 4 * 3600, 24 * 3600)
TESTING_CHOICE = 10
FIND_PAGES, FIND_PER_PAGE = 2, 100  # how far back a reminder post is looked for after a kill
RESYNC_CONCURRENCY = 8


class ReminderPosts:
    """The chat side of a reminder (:class:`bot.scheduler.scheduler.ReminderPoster`)."""

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
            post = await self._once.create_post(reminder.channel_id, text, props=props)
        except ChatRefused as exc:
            await self._tell_refused(incident, exc)
            raise GiveUp(f"{exc.status} {exc.error_id}") from None
        return post.id

    async def _tell_refused(self, incident: Incident, exc: ChatRefused) -> None:
        try:  # a direct message: the incident channel is what refused
            await self._notify.tell(
                incident.commander_id, "", render.reminder_refused(incident, exc.status)
            )
        except (ChatRefused, ChatUnavailable):
            log.warning("reminder_refusal_not_told", incident_id=incident.id, exc_info=True)

    async def find(self, reminder: Reminder) -> str | None:
        for page in range(FIND_PAGES):
            try:
                found = await self._once.channel_posts(
                    reminder.channel_id, page=page, per_page=FIND_PER_PAGE
                )
            except ChatRefused:
                return None  # the channel is out of reach: posting will say so, and tell
            for post in found.posts.values():
                if post.props.get(render.REMINDER_MARK) == str(reminder.id) and not post.delete_at:
                    return post.id
            if len(found.order) < FIND_PER_PAGE:
                break
        return None

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
        db: Database,
        store: StatusStore,
        incident_store: IncidentStore,
        incidents: IncidentService,
        chat: ChatClient,
        directory: Directory,
        notifier: Notifier,
        clock: Clock,
        scheduler: ReminderScheduler,
        tasks: Callable[[str, Coroutine[Any, Any, None]], object],
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
        self, *, incident_id: str, author_id: str, message: str, reminder_seconds: int
    ) -> StatusUpdate:
        incident = await self._incidents.get(incident_id)
        await self._dir.require_member(incident, author_id)
        if not incident.is_ongoing:
            raise InvalidTransition("already_ended")
        names = await self._dir.names([author_id])
        post = await self._chat.create_post(
            incident.channel_id, render.update_post(names, author_id, message)
        )
        now = self._clock.now_ms()
        event = TimelineEvent(
            kind=EventKind.STATUS_UPDATED,
            at=now,
            actor_id=author_id,
            data={"post_id": post.id, "reminder_seconds": reminder_seconds},
        )
        async with self._db.transaction() as tx:
            update_id = await self.store.add(
                tx,
                incident_id=incident.id,
                author_id=author_id,
                message=message,
                post_id=post.id,
                reminder_seconds=reminder_seconds,
                now=now,
            )
            await self._incident_store.add_events(tx, incident.id, [event])
        update = StatusUpdate(
            id=update_id,
            incident_id=incident.id,
            author_id=author_id,
            message=message,
            post_id=post.id,
            reminder_seconds=reminder_seconds,
            created_at=now,
        )
        log.info("status_updated", incident_id=incident.id, post_id=post.id)
        await self.scheduler.replace(
            incident_id=incident.id,
            channel_id=incident.channel_id,
            due_at=now + reminder_seconds * 1000 if reminder_seconds else None,
        )
        if incident.broadcast_channel_id:
            self._spawn(f"status-broadcast-{incident.id}", self._broadcast(incident, update))
        self._incidents.refresh_later(incident)
        return update

    async def _broadcast(self, incident: Incident, update: StatusUpdate) -> None:
        """Copy the update to the broadcast channel; a failure never undoes the update."""
        try:
            team = await self._chat.get_team(incident.team_id)
            names = await self._dir.names([update.author_id])
            text = render.broadcast(
                incident,
                names,
                author_id=update.author_id,
                link=f"{self._mattermost_url}/{team.name}/pl/{update.post_id}",
                now=self._clock.now_ms(),
                message=update.message,
            )
            copy = await self._chat.create_post(incident.broadcast_channel_id, text)
        except Exception as exc:
            log.warning("status_broadcast_failed", incident_id=incident.id, error=repr(exc))
            try:
                await self._notify.tell(
                    update.author_id, incident.channel_id, render.broadcast_failed()
                )
            except Exception:
                log.exception("status_broadcast_failure_not_told", incident_id=incident.id)
            return
        await self.store.set_broadcast(update.id, copy.id)

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

        await asyncio.gather(*(one(i) for i in await self._incident_store.list_ongoing()))

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
