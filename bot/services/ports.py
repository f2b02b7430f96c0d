"""What the services need from the outside world. Adapters implement these Protocols.

Storage is reached only through the Protocols here: the unit of work (:class:`UnitOfWork`,
whose transaction is opaque, :data:`Tx`) and one port per kind of record (incidents, starts,
status updates, the outbox, nonces, reminders, playbooks, memberships, review records …).
Services import no store and no database driver: every SQL string and every SQLite specific
lives in ``bot/store/``, which maps storage errors to the errors declared here
(:class:`StaleIncident`, :class:`NameTaken`, :class:`StoreUnavailable`) or in
:mod:`bot.errors`, and only the composition root ``bot/app.py`` builds the concrete stores.
So a second store implementation (PostgreSQL, say) needs no change outside ``bot/store/`` and
``bot/app.py``: it implements these Protocols, yields its own transaction object, and raises
these errors. ``tests/test_layers.py`` holds the rule.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import IO, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.models import Incident, IncidentStatus, Playbook, TimelineEvent
from bot.domain.oneshot import OneShot
from bot.domain.outbox import Effect, EffectState
from bot.domain.reminders import Reminder, ReminderState
from bot.domain.review import StatsRow
from bot.domain.starts import StartRecord, StartState
from bot.domain.status import StatusUpdate
from bot.domain.webhooks import Delivery, DeliveryState
from bot.errors import StoreUnavailable as StoreUnavailable  # re-exported: the ports name it


class ChatRefused(Exception):
    """Mattermost refused a request (a 4xx answer): ``status`` and the server's ``error_id``."""

    def __init__(self, status: int, error_id: str, message: str = "") -> None:
        super().__init__(f"{status} {error_id}: {message}")
        self.status = status
        self.error_id = error_id
        self.message = message


class NeedsTrigger(Exception):
    """A dialog was to be opened for a request that carries no trigger id (a chat message).

    Mattermost opens a dialog only with the ``trigger_id`` of a slash command or a button
    click (``POST /actions/dialogs/open``), so the chat transport answers with a button
    that runs the command again, and the click's trigger id opens the dialog.
    ``title``: the dialog's title (the button's label), "" if unknown.
    """

    def __init__(self, title: str = "") -> None:
        super().__init__(title or "dialog")
        self.title = title


class ChatModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class User(ChatModel):
    id: str
    username: str
    roles: str = ""
    is_bot: bool = False
    delete_at: int = 0
    first_name: str = ""
    last_name: str = ""

    @property
    def is_admin(self) -> bool:
        return "system_admin" in self.roles.split()

    @property
    def is_deactivated(self) -> bool:
        """Deactivated in Mattermost (``delete_at`` > 0): cannot log in or act."""
        return self.delete_at > 0

    @property
    def is_guest(self) -> bool:
        return "system_guest" in self.roles.split()


class Team(ChatModel):
    id: str
    name: str
    display_name: str = ""


class Channel(ChatModel):
    id: str
    team_id: str = ""
    name: str
    display_name: str = ""
    type: str = "O"
    header: str = ""
    creator_id: str = ""
    delete_at: int = 0
    total_msg_count: int = 0

    @property
    def is_private(self) -> bool:
        return self.type == "P"


class Reaction(ChatModel):
    user_id: str
    post_id: str
    emoji_name: str
    create_at: int = 0


class Post(ChatModel):
    id: str
    channel_id: str
    user_id: str = ""
    message: str = ""
    create_at: int = 0
    update_at: int = 0
    edit_at: int = 0
    delete_at: int = 0
    root_id: str = ""
    type: str = ""
    props: dict[str, Any] = Field(default_factory=dict)
    file_ids: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)  # reactions, files, embeds

    @property
    def reactions(self) -> list[Reaction]:
        """The reactions the server sent with the post (lists of posts include them)."""
        raw = self.metadata.get("reactions") or []
        return [Reaction.model_validate(r) for r in raw if isinstance(r, dict)]


class FileInfo(ChatModel):
    id: str
    name: str = ""
    extension: str = ""
    mime_type: str = ""
    size: int = 0
    user_id: str = ""
    post_id: str = ""
    create_at: int = 0


class PostsPage(ChatModel):
    order: list[str] = Field(default_factory=list)
    posts: dict[str, Post] = Field(default_factory=dict)
    next_post_id: str = ""
    prev_post_id: str = ""


class ChatClient(Protocol):
    """The Mattermost REST operations warroom uses, as the bot."""

    async def me(self) -> User: ...
    async def get_user(self, user_id: str) -> User: ...
    async def get_user_by_username(self, username: str) -> User: ...
    async def get_users(self, user_ids: list[str]) -> list[User]: ...
    async def get_team(self, team_id: str) -> Team: ...
    async def get_team_by_name(self, name: str) -> Team: ...
    async def my_teams(self) -> list[Team]: ...
    async def is_team_member(self, team_id: str, user_id: str) -> bool: ...
    async def create_channel(
        self, *, team_id: str, name: str, display_name: str, private: bool, header: str
    ) -> Channel: ...
    async def get_channel(self, channel_id: str) -> Channel: ...
    async def get_channel_by_name(self, team_id: str, name: str) -> Channel: ...
    async def my_channels(self, team_id: str) -> list[Channel]: ...
    async def add_channel_member(self, channel_id: str, user_id: str) -> None: ...
    async def is_channel_member(self, channel_id: str, user_id: str) -> bool: ...
    async def channel_member_ids(self, channel_id: str) -> list[str]: ...
    async def direct_channel(self, user_a: str, user_b: str) -> Channel: ...
    async def create_post(
        self,
        channel_id: str,
        message: str,
        *,
        props: dict[str, Any] | None = None,
        root_id: str = "",
        file_ids: list[str] | None = None,
    ) -> Post: ...
    async def update_post(self, post_id: str, message: str, props: dict[str, Any]) -> Post: ...
    async def get_post(self, post_id: str) -> Post: ...
    async def delete_post(self, post_id: str) -> None: ...
    async def pin_post(self, post_id: str) -> None: ...
    async def post_ephemeral(
        self, user_id: str, channel_id: str, message: str, props: dict[str, Any] | None = None
    ) -> None: ...
    async def open_dialog(self, trigger_id: str, url: str, dialog: dict[str, Any]) -> None: ...
    async def execute_command(self, channel_id: str, command: str) -> None: ...
    async def upload_file(self, channel_id: str, filename: str, data: bytes | IO[bytes]) -> str: ...
    async def get_file_info(self, file_id: str) -> FileInfo: ...
    async def get_file(self, file_id: str) -> bytes: ...
    async def channel_posts(self, channel_id: str, *, page: int, per_page: int) -> PostsPage: ...
    async def post_reactions(self, post_id: str) -> list[Reaction]: ...
    async def add_reaction(self, user_id: str, post_id: str, emoji: str) -> None: ...
    async def remove_reaction(self, user_id: str, post_id: str, emoji: str) -> None: ...


class WebhookStore(Protocol):
    """The durable webhook outbox and delivery log (bot/store/webhooks.py)."""

    async def add(self, tx: Tx, delivery: Delivery) -> None:
        """Record ``delivery`` (pending) in the transaction ``tx`` of the change it reports."""

    async def due(self, now: int, limit: int) -> list[Delivery]:
        """Pending deliveries due at ``now`` (ms), oldest first."""
        ...

    async def next_due(self) -> int | None:
        """When the earliest pending delivery is due (ms), None when none is pending."""
        ...

    async def settle(
        self, delivery_id: str, *, state: DeliveryState, status: int | None, error: str, at: int
    ) -> None:
        """An attempt ended the delivery (delivered, failed, disabled)."""

    async def retry(
        self, delivery_id: str, *, status: int | None, error: str, next_at: int
    ) -> None:
        """An attempt failed; try again at ``next_at`` (ms)."""

    async def disable(self, playbook_id: str, url: str, at: int) -> None:
        """The endpoint answered 410: disable it, and settle its pending deliveries."""

    async def is_disabled(self, playbook_id: str, url: str) -> bool: ...

    async def enable(self, url: str) -> int:
        """Lift the 410 disabling of ``url`` (in every playbook); how many were lifted."""
        ...

    async def for_incident(self, incident_id: str, limit: int) -> list[Delivery]:
        """The newest deliveries of an incident, newest first."""
        ...


class WebhookUnreachable(Exception):
    """A webhook receiver gave no HTTP answer (refused, reset, timed out); the message says
    which, for the delivery log."""


class WebhookRefused(Exception):
    """A webhook target resolved only to addresses warroom may not connect to (private,
    link-local, metadata… and not listed in ``WARROOM_WEBHOOK_ALLOWED_HOSTS``); nothing was
    sent. The message says which host and addresses, for the delivery log."""


class WebhookSender(Protocol):
    """POSTs one webhook delivery (bot/transport/webhook_sender.py)."""

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """The receiver's HTTP status; :class:`WebhookUnreachable` when there was none,
        :class:`WebhookRefused` when the target's addresses are not allowed."""
        ...


class Timer(Protocol):
    """Waits until a time of the injected clock; tests move a fake clock instead of sleeping."""

    async def sleep_until(self, when_ms: int) -> None: ...


async def sleep_until_or_woken(timer: Timer, wake: asyncio.Event, until: int | None) -> None:
    """Return when ``wake`` is set or the clock reaches ``until`` (ms; ``None``: only ``wake``),
    whichever comes first; the other wait is cancelled and awaited (no task outlives the call).
    The sleep of the durable workers (reminders, webhooks) between their stored due times."""
    waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(wake.wait())]
    if until is not None:
        waits.append(asyncio.ensure_future(timer.sleep_until(until)))
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
        await asyncio.gather(*waits, return_exceptions=True)


@dataclass(frozen=True)
class IncidentFilter:
    """Which incidents a listing keeps (each ``None``: any): times in epoch ms, bounds
    inclusive; ``severity`` compared case-insensitively (as ``str.lower``); an incident that
    has not ended is outside any ``ended_*`` bound."""

    status: IncidentStatus | None = None
    commander_id: str | None = None
    playbook_id: str | None = None
    severity: str | None = None
    started_after: int | None = None
    started_before: int | None = None
    ended_after: int | None = None
    ended_before: int | None = None


IncidentSort = Literal["created_at", "ended_at", "name"]
"""What a listing is ordered by; ties by incident id. An incident's key: ``created_at``,
``ended_at`` (-1 while ongoing) or ``name.lower()``."""

SortKey = tuple[int | str, str]
"""An incident's place in a listing: its key (see :data:`IncidentSort`) and its id."""


class MembershipStorePort(Protocol):
    """Followed incident-channel membership (``bot/store/memberships.py``). Times in ms;
    ``since``: listings older than this are not current (unknown)."""

    async def seed(self, channel_id: str, user_ids: Iterable[str], at: int) -> None: ...
    async def join_listed(self, channel_id: str, user_ids: Iterable[str], at: int) -> None: ...
    async def add(self, channel_id: str, user_id: str) -> None: ...
    async def remove(self, channel_id: str, user_id: str) -> None: ...
    async def forget(self, channel_id: str) -> None: ...
    async def is_member(self, channel_id: str, user_id: str, *, since: int) -> bool | None: ...
    async def members(self, channel_id: str, *, since: int) -> list[str] | None: ...
    async def member_of(self, user_id: str, channel_ids: Iterable[str]) -> set[str]: ...
    async def unknown_channels(self, channel_ids: Iterable[str], *, since: int) -> list[str]: ...
    async def incident_channels(self, *, ongoing_first: bool = True) -> list[str]: ...
    async def visible_incidents(
        self,
        team_id: str,
        user_id: str,
        *,
        admin: bool,
        since: int,
        checked: int = 0,
        public: bool = True,
        status: IncidentStatus | None = None,
        limit: int = 10,
    ) -> tuple[list[Incident], list[str]]: ...
    async def visible_stats_rows(
        self,
        team_id: str,
        user_id: str,
        *,
        admin: bool,
        since: int,
        window_start: int,
        checked: int = 0,
        public: bool = True,
    ) -> tuple[list[StatsRow], list[str]]: ...
    async def checked_up_to(self, *, since: int) -> int: ...
    async def visible_page(
        self,
        team_ids: Sequence[str],
        user_id: str,
        *,
        admin: bool,
        since: int,
        checked: int = 0,
        public: bool = True,
        where: IncidentFilter,
        sort: IncidentSort,
        descending: bool,
        after: SortKey | None,
        limit: int,
    ) -> tuple[list[Incident], list[str]]:
        """Of ``team_ids``' incidents matching ``where`` that ``user_id`` may view, at most
        ``limit`` in ``sort`` order, from the one after ``after`` on; and the channels of
        the private ones left out because unknown (as :meth:`visible_incidents`)."""
        ...


class OngoingIncidents(Protocol):
    """The incidents the re-sync walks (``bot/store/incidents.py``)."""

    async def list_ongoing(self) -> list[Incident]: ...
    def pages(
        self, *, team_id: str | None = None, ongoing: bool = False, size: int = ...
    ) -> AsyncIterator[list[Incident]]:
        """All incidents (of a team; ongoing only), a page at a time: a walk over many holds
        one page in memory."""
        ...

    def each_ongoing(self) -> AsyncIterator[Incident]:
        """Every ongoing incident, one at a time, read a page at a time."""
        ...


class PostDigest(Protocol):
    """A digest of a post's content as its readers see and use it, whenever it was rendered
    (button tokens count without their expiry; ``bot/interactions/buttons.post_digest``)."""

    def __call__(self, message: str, props: dict[str, Any]) -> str: ...


class RenderRecords(Protocol):
    """What each post warroom keeps in place (card, checklist pages) was last set to
    (``bot/store/renders.py``): post id -> (incident id, digest, set at in ms)."""

    async def load(self) -> dict[str, tuple[str, str, int]]: ...
    async def record(
        self, post_id: str, *, incident_id: str, digest: str, sent_at: int
    ) -> None: ...
    async def forget(self, post_ids: Sequence[str]) -> None: ...


class IncidentReads(OngoingIncidents, Protocol):
    """Incidents and their history as stored (``bot/store/incidents.py``); times in ms."""

    async def by_channel(self, channel_id: str) -> Incident | None: ...
    async def timeline(self, incident_id: str) -> list[TimelineEvent]: ...
    async def commanders(self, incident_id: str) -> list[tuple[str, int]]:
        """(user id, since) of every commander, in order."""
        ...


class ReviewRecords(Protocol):
    """What the review reads and the timeline capture writes (``bot/store/review.py``):
    members ever involved, posts pinned to the timeline, status texts; times in ms."""

    async def join(
        self, incident_id: str, user_ids: Iterable[str], at: int, *, events: bool = True
    ) -> list[str]: ...
    async def leave(self, incident_id: str, user_ids: Iterable[str], at: int) -> list[str]: ...
    async def present(self, incident_id: str) -> set[str]: ...
    async def tracked(self, incident_id: str) -> bool: ...
    async def ever_involved(self, incident_id: str) -> int: ...
    async def pin(self, incident_id: str, event: TimelineEvent, post_id: str) -> bool: ...
    async def pinned_post_ids(self, incident_id: str) -> set[str]: ...
    async def pinned_quotes(self, incident_id: str) -> dict[str, tuple[str, bool]]: ...
    async def requote(
        self, incident_id: str, post_id: str, *, message: str, deleted: bool = False
    ) -> bool: ...
    async def unpin(self, incident_id: str, post_id: str) -> bool: ...
    async def update_texts(self, incident_id: str) -> dict[str, str | None]: ...
    async def by_channel_name(self, team_id: str, channel_name: str) -> Incident | None: ...


class SignalOffers(Protocol):
    """One signal offer per thread and playbook, ever (``bot/store/conversation.py``)."""

    async def claim_offer(self, *, root_id: str, playbook_id: str, post_id: str, now: int) -> bool:
        """Record an offer in thread ``root_id``; False if one was made there before."""
        ...

    async def forget_offer(self, *, root_id: str, playbook_id: str) -> None:
        """Undo a claim whose offer could not be posted."""
        ...


Tx = Any
"""A write transaction in progress, as :meth:`UnitOfWork.transaction` yields it: opaque to the
services, which only pass it to the store methods that take one."""


class UnitOfWork(Protocol):
    """Opens write transactions (``bot/store/db.py`` ``Database``). The transaction is
    opaque here: services only pass it to the store methods that take one. Leaving the
    block commits; an exception rolls it back (and propagates)."""

    def transaction(self) -> AbstractAsyncContextManager[Tx]: ...


class ReminderRows(Protocol):
    """Reminder rows (``bot/store/reminders.py``); times in ms; ``tx`` from
    :meth:`UnitOfWork.transaction`."""

    async def get(self, reminder_id: int) -> Reminder | None: ...
    async def next_due(self) -> int | None: ...
    async def due(self, now: int, limit: int) -> list[Reminder]: ...
    async def open_for(self, incident_id: str) -> list[Reminder]: ...
    async def unsettled(self) -> list[Reminder]: ...
    async def count(self, state: ReminderState) -> int: ...
    async def add(
        self, tx: Tx, *, incident_id: str, channel_id: str, due_at: int, now: int
    ) -> int: ...
    async def claim(self, tx: Tx, ids: Sequence[int]) -> list[int]: ...
    async def move(
        self,
        tx: Tx,
        reminder_id: int,
        old: ReminderState,
        new: ReminderState,
        *,
        post_id: str | None = None,
        due_at: int | None = None,
        attempt: bool = False,
    ) -> bool: ...


InTransaction = Callable[[Tx], Awaitable[None]]
"""A step run first in a change's own transaction (its argument: the opaque transaction); it
raises to roll the change back."""


class PlaybookRows(Protocol):
    """Stored playbooks (``bot/store/playbooks.py``); ``now`` in ms."""

    async def replace_file_playbooks(self, playbooks: Sequence[Playbook], now: int) -> None: ...
    async def upsert(
        self, playbook: Playbook, now: int, *, also: InTransaction | None = None
    ) -> None:
        """Insert or replace; :class:`bot.errors.InputError` ("duplicate_title") when the
        team has another playbook of that title."""
        ...

    async def delete(self, playbook_id: str, *, also: InTransaction | None = None) -> None: ...
    async def get(self, playbook_id: str) -> Playbook | None: ...
    async def for_team(self, team_id: str) -> list[Playbook]: ...
    async def file_playbooks(self) -> list[Playbook]: ...


class NonceSpender(Protocol):
    """Spends a dialog's one-shot nonce inside a transaction (``bot/store/nonces.py``)."""

    async def spend(self, tx: Tx, once: OneShot, *, now: int) -> bool:
        """False if it was spent before (a replay)."""
        ...

    async def spend_or_refuse(self, tx: Tx, once: OneShot, *, now: int) -> None:
        """Spend it in ``tx``; if it was spent before (a replay), :class:`InputError`
        ``stale_dialog`` is raised, here or when ``tx`` next reaches the store (at the latest
        when its block ends), and nothing of ``tx`` is kept."""
        ...


class Nonces(NonceSpender, Protocol):
    """Dialogs' one-shot nonces (``bot/store/nonces.py``); times in epoch ms."""

    async def consume(self, nonce: str, *, expires_at: int, now: int) -> bool:
        """Spend ``nonce`` in a transaction of its own; False if it was spent before."""
        ...

    async def refund(self, nonce: str) -> None:
        """Make a spent nonce usable again (what it authorised changed nothing)."""

    async def is_used(self, nonce: str) -> bool: ...


class StaleIncident(Exception):
    """The incident changed since it was read (optimistic concurrency): read it again.
    ``args[0]``: the incident id."""


class IncidentRows(IncidentReads, Protocol):
    """Incidents, their commander history and timeline (``bot/store/incidents.py``); times in
    epoch ms; ``tx`` from :meth:`UnitOfWork.transaction`."""

    async def count_ongoing(self) -> int:
        """How many incidents are ongoing (all teams)."""
        ...

    async def get(self, incident_id: str) -> Incident | None: ...

    async def list_team(
        self, team_id: str, *, status: IncidentStatus | None = None, limit: int | None = 1000
    ) -> list[Incident]:
        """Newest first; ``limit=None`` for all of them."""
        ...

    async def team_ids(self) -> list[str]:
        """Every team that has incidents."""
        ...

    async def insert(self, tx: Tx, incident: Incident) -> None: ...

    async def update(self, tx: Tx, incident: Incident) -> Incident:
        """Save ``incident`` if nobody saved it since it was read; returns it with version + 1.
        Otherwise :class:`StaleIncident` is raised, here or when ``tx`` next reaches the
        store (at the latest when its block ends), and nothing of ``tx`` is kept."""
        ...

    async def add_events(self, tx: Tx, incident_id: str, events: Sequence[TimelineEvent]) -> None:
        """Append ``events`` to the timeline (a commander change to the commander history)."""


class NameTaken(Exception):
    """Another start in progress has reserved this channel name in the team."""


class StartRows(Protocol):
    """Starts in progress (``bot/store/starts.py``); times in epoch ms; ``tx`` from
    :meth:`UnitOfWork.transaction`."""

    async def get(self, start_id: str) -> StartRecord | None: ...

    async def unfinished(self) -> list[StartRecord]:
        """Starts left creating or created, oldest first."""
        ...

    async def add(
        self, tx: Tx, *, start_id: str, team_id: str, channel_name: str, request: str, now: int
    ) -> None:
        """Record the intent and reserve ``channel_name``; :class:`NameTaken` if reserved."""

    async def rename(self, start_id: str, channel_name: str) -> None:
        """Reserve another name; :class:`NameTaken` if reserved."""

    async def move(self, tx: Tx, start_id: str, old: StartState, new: StartState) -> bool:
        """``old`` -> ``new`` if the start is still in ``old``; False if it had moved on."""
        ...

    async def finish(self, start_id: str, state: StartState) -> None: ...

    async def steps_done(self, start_id: str, steps: list[str], *, tx: Tx | None = None) -> None:
        """Note set-up steps as done (appended to the recorded list), in ``tx`` if given."""

    async def prune(self, before: int) -> int:
        """Forget settled starts recorded before ``before``; how many."""
        ...


class StatusRows(Protocol):
    """Status updates and the posts that carry them (``bot/store/status.py``); times in epoch
    ms; ``tx`` from :meth:`UnitOfWork.transaction`."""

    async def latest(self, incident_id: str) -> StatusUpdate | None:
        """The newest update whose post has not been deleted."""
        ...

    async def live(self, incident_id: str, limit: int = 1000) -> list[StatusUpdate]:
        """Updates whose post has not been deleted, newest first."""
        ...

    async def all(self, incident_id: str) -> list[StatusUpdate]:
        """Every update, deleted ones included, oldest first."""
        ...

    async def by_post(self, post_id: str) -> StatusUpdate | None: ...

    async def add(
        self,
        tx: Tx,
        *,
        incident_id: str,
        author_id: str,
        message: str,
        post_id: str,
        reminder_seconds: int,
        now: int,
    ) -> int:
        """Record an update; its id."""
        ...

    async def add_once(
        self,
        tx: Tx,
        *,
        incident_id: str,
        author_id: str,
        message: str,
        post_id: str,
        reminder_seconds: int,
        now: int,
    ) -> tuple[int, bool]:
        """Record the update of ``post_id`` unless it is recorded; (its id, whether new)."""
        ...

    async def set_broadcast(self, update_id: int, post_id: str) -> None: ...

    async def edited(self, post_id: str, message: str) -> bool:
        """Follow an edit of the post; False if nothing changed."""
        ...

    async def deleted(self, post_id: str, now: int) -> bool:
        """Follow a deletion of the post; False if it was already known."""
        ...


class EffectRows(Protocol):
    """The outbox: posts recorded before they are made (``bot/store/effects.py``); times in
    epoch ms; ``tx`` from :meth:`UnitOfWork.transaction`."""

    async def get(self, key: str) -> Effect | None: ...

    async def unfinished(self) -> list[Effect]:
        """Pending and posted effects, oldest first."""
        ...

    async def count_unfinished(self) -> int:
        """How many effects are pending or posted (the outbox depth)."""
        ...

    async def add(self, tx: Tx, effect: Effect) -> bool:
        """Record ``effect`` (pending); False if its key was recorded before (kept as it is)."""
        ...

    async def record(self, tx: Tx, effect: Effect) -> None:
        """:meth:`add` for a caller that has no use for the answer (a key new by
        construction): no wait for the store before the transaction ends."""
        ...

    async def move(
        self, tx: Tx, key: str, old: EffectState, new: EffectState, *, post_id: str | None = None
    ) -> bool:
        """``old`` -> ``new`` if the effect is still in ``old``; False if it had moved on."""
        ...

    async def settle(self, tx: Tx, keys: Sequence[str], post_id: str) -> None:
        """The effects of ``keys`` (pending or posted) are done, said by the post ``post_id``
        (one post may say several)."""
        ...

    async def fail(self, tx: Tx, keys: Sequence[str]) -> None:
        """The pending effects of ``keys`` were refused for good."""
        ...

    async def move_now(
        self, key: str, old: EffectState, new: EffectState, *, post_id: str | None = None
    ) -> bool:
        """:meth:`move` as a transaction of its own."""
        ...

    async def attempted(self, key: str) -> None:
        """Count an attempt whose outcome is unknown: the next one looks for the post first."""

    async def attempted_all(self, keys: Sequence[str]) -> None:
        """:meth:`attempted` for each of ``keys``, in one transaction."""
        ...

    async def forget(self, tx: Tx, key: str) -> None:
        """Forget a settled effect of ``key`` (its post is gone), so the key may post again."""

    async def prune(self, before: int) -> int:
        """Forget settled effects recorded before ``before``; how many."""
        ...


class ChatMemory(Protocol):
    """What the chat side remembers so a restart or a re-sync never answers a message twice
    (``bot/store/conversation.py``); times in epoch ms."""

    async def claim_message(self, post_id: str, *, now: int) -> bool:
        """Record ``post_id`` as handled; False if it was already (a second delivery)."""
        ...

    async def remember_dm(self, channel_id: str, *, now: int) -> None:
        """Note a direct channel someone talks to warroom in (for the catch-up)."""

    async def recent_dms(self, *, since: int) -> list[str]:
        """Direct channels used since ``since``, most recent first."""
        ...


class ConversationRecords(ChatMemory, SignalOffers, Protocol):
    """Everything the conversational side records (``bot/store/conversation.py``)."""


class GiveUp(Exception):
    """The reminder can never be posted (its channel is gone, the bot was removed…): the
    poster told someone who can act; the reminder is closed. A transient failure is
    :class:`bot.errors.ChatUnavailable` instead: the reminder is tried again later."""


class ReminderPoster(Protocol):
    """What a fired reminder does in chat; the scheduler decides when and how often."""

    async def post(self, reminder: Reminder) -> str | None:
        """Post the reminder; its post id, or None when there is nothing to remind of."""

    async def find(self, reminder: Reminder) -> str | None:
        """The post an earlier, interrupted attempt made for this reminder, if any."""

    async def remove(self, reminder: Reminder) -> None:
        """Delete the reminder's post (already gone is fine)."""

    async def failed(self, reminder: Reminder) -> None:
        """The reminder failed MAX_ATTEMPTS times unexpectedly and is closed: tell a person.
        (A refusal is said by :meth:`post` before it raises :class:`GiveUp`.)"""


class ReminderSchedule(Protocol):
    """The durable reminders as the status service drives them (``bot/scheduler``'s
    ``ReminderScheduler``); times in epoch ms."""

    store: ReminderRows

    async def replace(self, *, incident_id: str, channel_id: str, due_at: int | None) -> None:
        """Close the incident's open reminder (and its post); schedule ``due_at`` if given."""

    async def cancel(self, incident_id: str) -> None:
        """Close the incident's open reminder (and its post)."""

    async def dismiss(self, reminder_id: int) -> bool:
        """Remove a posted reminder (its post); False if it was no longer posted."""
        ...
