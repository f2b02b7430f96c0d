"""The composition root: builds every component, owns every lifetime, closes in reverse."""

from __future__ import annotations

import asyncio
import gc
import math
import os
import secrets
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import Gauge

from bot.clock import Clock, SystemClock
from bot.commands import chat as chat_commands
from bot.commands import checklist as checklist_commands
from bot.commands import incident as incident_commands
from bot.commands import playbooks as playbook_commands
from bot.commands import review as review_commands
from bot.commands import status as status_commands
from bot.commands import testdata as testdata_commands
from bot.commands import webhooks as webhook_commands
from bot.commands.router import CommandRouter
from bot.domain.models import Incident, Playbook
from bot.domain.run_policy import refused_of
from bot.domain.signing import Signer
from bot.errors import ChatUnavailable
from bot.interactions import checklist as checklist_interactions
from bot.interactions import incident as incident_interactions
from bot.interactions import playbooks as playbook_interactions
from bot.interactions import start_flow
from bot.interactions import status as status_interactions
from bot.interactions.buttons import Buttons, post_digest
from bot.interactions.router import InteractionRouter
from bot.log import get_logger
from bot.metrics import Metrics
from bot.scheduler.scheduler import ReminderScheduler
from bot.scheduler.timer import SystemTimer
from bot.services.container import Services, Urls
from bot.services.directory import Directory
from bot.services.effects import Outbox
from bot.services.follow import ChannelFollower, UserFollower
from bot.services.incidents import IncidentService
from bot.services.memberships import Memberships
from bot.services.notify import Notifier
from bot.services.playbook_file import PlaybookFileError
from bot.services.playbook_file import read as read_playbooks
from bot.services.playbooks import PlaybookService
from bot.services.ports import ChatRefused, Timer, User
from bot.services.rendered import RenderedPosts
from bot.services.review import ReviewService
from bot.services.status import ReminderPosts, StatusService
from bot.services.sync import Resync
from bot.services.testdata import TestData
from bot.services.timeline import MemberTracker, Permalinks, TimelineCapture
from bot.services.webhooks import Webhooks
from bot.settings import Settings
from bot.store.conversation import ConversationStore
from bot.store.db import CANNOT_OPEN, Database
from bot.store.effects import EffectStore
from bot.store.incidents import IncidentStore
from bot.store.installation import Installation, InstallationStore
from bot.store.memberships import MembershipStore
from bot.store.nonces import NonceStore
from bot.store.playbooks import PlaybookStore
from bot.store.reminders import ReminderState, ReminderStore
from bot.store.renders import RenderStore
from bot.store.review import ReviewStore
from bot.store.starts import StartStore
from bot.store.status import StatusStore
from bot.store.webhooks import WebhookDeliveryStore
from bot.tasks import TaskTracker
from bot.transport.api.auth import Identities
from bot.transport.api.incidents import IncidentsApi
from bot.transport.api.routes import build_api
from bot.transport.command_tokens import CommandTokens
from bot.transport.conversation import ChatSide
from bot.transport.conversation import wire as wire_chat
from bot.transport.dispatcher import EventDispatcher
from bot.transport.events import (
    AddedToTeam,
    ChannelDeleted,
    ChannelRestored,
    ChannelUpdated,
    PostDeleted,
    Posted,
    PostEdited,
    ReactionAdded,
    ReactionRemoved,
    UserAdded,
    UserRemoved,
    UserUpdated,
)
from bot.transport.http import build_http_app, http_runner
from bot.transport.mattermost_client import MattermostClient
from bot.transport.verify import CommandToken
from bot.transport.webhook_sender import HttpWebhookSender
from bot.transport.websocket import WebsocketListener, new_event_queue

log = get_logger(__name__)


class ConfigError(Exception):
    """warroom cannot start with this configuration; the message says what to do."""


@dataclass
class Warroom:
    services: Services
    commands: CommandRouter
    interactions: InteractionRouter
    metrics: Metrics
    url: str  # where warroom's HTTP server listens
    events: EventDispatcher
    listener: WebsocketListener
    resync: Resync
    tokens: CommandTokens
    chat: ChatSide  # direct messages, @mentions, signals (issue 11)
    db: Database  # the stores' database: services reach it only through their ports
    reminders: ReminderScheduler  # the durable reminders (services see it as a port)

    async def reload_playbooks(self) -> None:
        await reload_playbooks(self.services)

    def on_sighup(self) -> None:
        """``SIGHUP``: re-read playbooks.yaml and the installation `warroom setup` stored
        (command tokens of teams added meanwhile)."""
        # No report: a signal has no person to answer; each reload logs what it refused.
        self.services.tasks.spawn("reload-playbooks", self.reload_playbooks(), report=None)
        self.services.tasks.spawn("reload-command-tokens", self.tokens.reload(), report=None)


async def reload_playbooks(services: Services) -> None:
    """Reload playbooks.yaml; a bad file is logged and the last good set stays in force."""
    try:
        await services.playbooks.reload()
    except PlaybookFileError as exc:
        log.error("playbooks_rejected", file=str(exc.file), problems=exc.problems)


class TeamWatch:
    """The bot's teams: joining one reloads the playbooks (``team: "*"`` ones cover it)."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._seen: set[str] | None = None

    async def on_added(self, event: AddedToTeam) -> None:
        if event.user_id == self._services.bot_user_id:
            await self._reload()

    async def resync(self) -> None:
        """A team joined while the stream was down: the team list changed since last seen."""
        teams = {t.id for t in await self._services.chat.my_teams()}
        if self._seen is not None and teams != self._seen:
            await self._reload()
        self._seen = teams

    async def _reload(self) -> None:
        self._seen = None
        await reload_playbooks(self._services)


def build_routers() -> tuple[CommandRouter, InteractionRouter]:
    commands = CommandRouter()
    interactions = InteractionRouter()
    incident_commands.register(commands)
    incident_interactions.register(interactions)
    start_flow.register(interactions)
    playbook_commands.register(commands)
    playbook_interactions.register(interactions)
    status_commands.register(commands)
    status_interactions.register(interactions)
    checklist_commands.register(commands)
    checklist_interactions.register(interactions)
    review_commands.register(commands)
    testdata_commands.register(commands)
    webhook_commands.register(commands)
    chat_commands.register_rerun(interactions, commands)  # dialogs asked for in chat
    return commands, interactions


@dataclass
class _Features:
    """What the composition builds beside :class:`Services` and wires to events below."""

    reminders: ReminderScheduler
    members: MemberTracker
    capture: TimelineCapture
    memberships: Memberships


@asynccontextmanager
async def running(
    settings: Settings, *, clock: Clock | None = None, timer: Timer | None = None
) -> AsyncIterator[Warroom]:
    """Start warroom: database, Mattermost client, HTTP server, listeners. Stop on exit.

    Tests pass a fake ``clock`` and a ``timer`` that waits for it (often the same object).
    """
    clock = clock or SystemClock()
    timer = timer or SystemTimer(clock)
    async with AsyncExitStack() as stack:
        # The token is checked before the database is created: a wrong one leaves no file.
        token = await bot_token(settings)
        metrics = Metrics()

        async def sleep(seconds: float) -> None:  # retry waits, measured by the app's clock
            await timer.sleep_until(clock.now_ms() + math.ceil(seconds * 1000))

        chat = MattermostClient(
            settings.mattermost_url,
            token,
            timeout=settings.request_timeout,
            sleep=sleep,
            now_ms=clock.now_ms,
            observe=metrics.observe_rest,
        )
        stack.push_async_callback(chat.close)
        me = await identity(chat, settings)
        db = await open_database(settings)
        stack.push_async_callback(db.close)
        installation = await _installation(settings, db)

        store = InstallationStore(db)

        async def stored_tokens() -> dict[str, str]:
            return (await store.load()).command_tokens

        command_tokens = CommandTokens(
            # Each is accepted only from the team it was registered on (`warroom setup`
            # stores team id -> token); plain WARROOM_COMMAND_TOKENS entries from any team.
            fixed=[CommandToken(token, team) for team, token in settings.command_token_entries()],
            stored=installation.command_tokens,
            load=stored_tokens,
        )
        if not command_tokens.known():
            log.warning(
                "no_command_tokens",
                hint="run `warroom setup` or set WARROOM_COMMAND_TOKENS: /incident is refused",
            )

        log.info("bot_identity", user_id=me.id, username=me.username)
        _say_run_policy(settings)
        tasks = TaskTracker()
        stack.push_async_callback(tasks.close)
        sender = HttpWebhookSender(settings.webhook_timeout, settings.webhook_hosts())
        stack.push_async_callback(sender.close)

        base_url = await _bind_probe(settings)
        # The URL Mattermost reaches warroom at: the setting, else what `warroom setup`
        # registered the slash command with, else the address bound here.
        public = (settings.public_url or installation.public_url or base_url).rstrip("/")
        urls = Urls(
            command=f"{public}/mattermost/command",
            action=f"{public}/mattermost/action",
            dialog=f"{public}/mattermost/dialog",
            mattermost=settings.mattermost_url,
        )
        services, features = _build_services(
            settings=settings,
            db=db,
            chat=chat,
            me=me,
            clock=clock,
            timer=timer,
            tasks=tasks,
            urls=urls,
            signing_key=installation.signing_key,
            sender=sender,
        )
        commands, interactions = build_routers()
        chat_side = wire_chat(
            services, commands, bot_username=me.username, store=ConversationStore(db)
        )
        events, resync, listener = _wire_events(services, features, token=token, chat=chat_side)
        _watch(metrics, services=services, features=features, listener=listener, events=events)
        http_app = build_http_app(
            services=services,
            commands=commands,
            interactions=interactions,
            metrics_registry=metrics,
            tokens=command_tokens,
            ready=lambda: listener.connected,
            api=build_api(services, Identities(settings.mattermost_url)),
        )
        runner = http_runner(http_app)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        try:
            await web.TCPSite(runner, settings.listen_host, _port_of(base_url)).start()
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {settings.listen_host}:{_port_of(base_url)}"
                f" ({exc.strerror or exc}): set WARROOM_LISTEN_PORT to a free port"
            ) from None

        warroom = Warroom(
            services=services,
            commands=commands,
            interactions=interactions,
            metrics=metrics,
            url=base_url,
            events=events,
            listener=listener,
            resync=resync,
            tokens=command_tokens,
            chat=chat_side,
            db=db,
            reminders=features.reminders,
        )
        await warroom.reload_playbooks()
        chat_side.reindex(await services.playbooks.file_playbooks())  # also if the file is bad
        background = [
            asyncio.create_task(listener.run(), name="websocket"),
            asyncio.create_task(events.run(), name="dispatcher"),
            asyncio.create_task(features.reminders.run(), name="reminders"),
            asyncio.create_task(services.webhooks.run(), name="webhooks"),
        ]

        async def stop_background() -> None:
            await listener.stop()
            await events.close()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)

        stack.push_async_callback(stop_background)
        log.info("warroom_started", url=base_url, public_url=public)
        yield warroom
        log.info("warroom_stopping", in_flight=len(tasks))


def _say_run_policy(settings: Settings) -> None:
    """Log which task commands the bot runs itself, and which allowed ones it refuses."""
    refused = refused_of(settings.run_commands)
    if refused:
        log.warning(
            "run_commands_refused",
            triggers=refused,
            hint="built-ins that change memberships, channels or settings are never run by"
            " the bot: Run hands them to the clicker",
        )
    allowed = sorted(set(settings.run_commands) - set(refused))
    log.info("run_commands", bot_runs=allowed, everything_else="handed to the clicker")


async def bot_token(settings: Settings) -> str:
    """The bot token: the setting, else what `warroom setup` stored. Never creates the
    database file. Raises :class:`ConfigError` when there is none."""
    if settings.bot_token:
        return settings.bot_token.get_secret_value()
    if settings.db_path.exists():
        db = await open_database(settings)
        try:
            stored = (await InstallationStore(db).load()).bot_token
        finally:
            await db.close()
        if stored:
            return stored
    raise ConfigError(
        f"No bot token: set WARROOM_BOT_TOKEN or run `warroom setup` first"
        f" (no token stored in {settings.db_path})."
    )


async def identity(chat: MattermostClient, settings: Settings) -> User:
    """Who the token belongs to. Raises :class:`ConfigError` for a refused token or an
    unreachable server, with what to do."""
    try:
        return await chat.me()
    except ChatRefused as exc:
        if exc.status == 401:
            raise ConfigError(
                f"Mattermost at {settings.mattermost_url} refused the bot token (401: wrong or"
                " revoked). Run `warroom setup` again (it replaces a token that no longer"
                " works) or set WARROOM_BOT_TOKEN to a valid one."
            ) from None
        raise ConfigError(
            f"Mattermost at {settings.mattermost_url} refused to say who the bot is"
            f" ({exc.status} {exc.error_id}); check the bot account and its token."
        ) from None
    except ChatUnavailable:
        raise ConfigError(
            f"cannot reach Mattermost at {settings.mattermost_url}: check"
            " WARROOM_MATTERMOST_URL and that the server is up."
        ) from None


async def open_database(settings: Settings) -> Database:
    db = Database(settings.db_path)
    try:
        await db.open()
    except CANNOT_OPEN as exc:
        await db.close()
        raise ConfigError(
            f"cannot open the database {settings.db_path} ({exc}): check WARROOM_DB_PATH"
            " and that the directory is writable."
        ) from None
    return db


async def _installation(settings: Settings, db: Database) -> Installation:
    """What `warroom setup` stored, with the settings' token and key taking precedence."""
    store = InstallationStore(db)
    installation = await store.load()
    if settings.bot_token:
        installation.bot_token = settings.bot_token.get_secret_value()
    if not installation.bot_token:
        raise ConfigError("No bot token: set WARROOM_BOT_TOKEN or run `warroom setup` first.")
    if settings.signing_key:
        installation.signing_key = settings.signing_key.get_secret_value()
    elif not installation.signing_key:
        installation.signing_key = secrets.token_urlsafe(32)
        await store.save(installation)
    return installation


def _build_services(
    *,
    settings: Settings,
    db: Database,
    chat: MattermostClient,
    me: User,
    clock: Clock,
    timer: Timer,
    tasks: TaskTracker,
    urls: Urls,
    signing_key: str,
    sender: HttpWebhookSender,
) -> tuple[Services, _Features]:
    incident_store = IncidentStore(db)
    nonces = NonceStore(db)
    outbox = Outbox(db=db, store=EffectStore(db), chat=chat, clock=clock, spawn=tasks.spawn)
    signer = Signer(signing_key.encode())
    buttons = Buttons(signer, urls.action, clock)
    memberships = Memberships(
        store=MembershipStore(db),
        chat=chat,
        clock=clock,
        bot_user_id=me.id,
        is_incident_channel=_has_incident(incident_store),
        spawn=tasks.spawn,
        turn=tasks.foreground.turn,
    )
    directory = Directory(chat, memberships)
    directory.remember(me)
    notifier = Notifier(chat, me.id)
    incidents = IncidentService(
        db=db,
        incidents=incident_store,
        chat=chat,
        directory=directory,
        notifier=notifier,
        buttons=buttons,
        clock=clock,
        tasks=tasks.spawn,
        outbox=outbox,
        starts=StartStore(db),
        nonces=nonces,
        bot_user_id=me.id,
        memberships=memberships,
        rendered=RenderedPosts(records=RenderStore(db), digest=post_digest, clock=clock),
    )
    playbooks = PlaybookService(
        store=PlaybookStore(db),
        chat=chat,
        directory=directory,
        clock=clock,
        file=settings.playbooks_file,
        nonces=nonces,
        webhook_hosts=settings.webhook_hosts(),
    )
    webhooks = Webhooks(
        store=WebhookDeliveryStore(db),
        playbook=playbooks.stored,
        sender=sender,
        clock=clock,
        timer=timer,
        allowed_hosts=settings.webhook_hosts(),
        environ=os.environ,
    )
    incidents.hooks.recorded.append(webhooks.record)
    # Status updates and their durable reminders.
    reminders = ReminderScheduler(
        db=db,
        store=ReminderStore(db),
        clock=clock,
        timer=timer,
        poster=ReminderPosts(
            chat=chat,
            once=chat.single_attempt(),  # the scheduler retries on its own, durable schedule
            incidents=incidents,
            directory=directory,
            buttons=buttons,
            notifier=notifier,
        ),
    )
    status = StatusService(
        db=db,
        store=StatusStore(db),
        incident_store=incident_store,
        incidents=incidents,
        chat=chat,
        directory=directory,
        notifier=notifier,
        clock=clock,
        scheduler=reminders,
        tasks=tasks.spawn,
        outbox=outbox,
        nonces=nonces,
        mattermost_url=settings.mattermost_url,
        testing=settings.testing_enabled,
    )
    incidents.hooks.last_update = status.last_update
    incidents.hooks.ended.append(status.on_ended)
    # Members ever involved, timeline capture by reaction, review and export.
    review_store = ReviewStore(db)
    members = MemberTracker(
        chat=chat,
        directory=directory,
        incidents=incident_store,
        store=review_store,
        clock=clock,
        bot_user_id=me.id,
        memberships=memberships,
        turn=tasks.foreground.turn,
    )
    incidents.hooks.started.append(members.started)  # lists the members once (memberships too)
    capture = TimelineCapture(
        chat=chat,
        incidents=incident_store,
        store=review_store,
        links=Permalinks(chat, settings.mattermost_url),
        bot_user_id=me.id,
        emoji=settings.timeline_emoji,
        notifier=notifier,
        turn=tasks.foreground.turn,
    )
    review = ReviewService(
        chat=chat,
        directory=directory,
        incidents=incidents,
        incident_store=incident_store,
        store=review_store,
        clock=clock,
        memberships=memberships,
    )
    services = Services(
        settings=settings,
        chat=chat,
        clock=clock,
        signer=signer,
        buttons=buttons,
        directory=directory,
        notifier=notifier,
        incidents=incidents,
        playbooks=playbooks,
        nonces=nonces,
        tasks=tasks,
        urls=urls,
        bot_user_id=me.id,
        status=status,
        review=review,
        testdata=TestData(incidents),
        webhooks=webhooks,
        memberships=memberships,
    )

    async def as_the_api_shows(incident: Incident) -> dict[str, Any]:
        return (await IncidentsApi(services).shown(incident)).model_dump(mode="json")

    webhooks.render = as_the_api_shows
    features = _Features(
        reminders=reminders, members=members, capture=capture, memberships=memberships
    )
    return services, features


def _has_incident(store: IncidentStore) -> Callable[[str], Awaitable[bool]]:
    async def has(channel_id: str) -> bool:
        return await store.by_channel(channel_id) is not None

    return has


def _wire_events(
    services: Services, features: _Features, *, token: str, chat: ChatSide
) -> tuple[EventDispatcher, Resync, WebsocketListener]:
    """The event stream: who handles which websocket event, and what re-syncs after a gap."""
    # Rule (docs/mattermost-objects.md): each event kind handled below has a re-sync
    # counterpart declared with `resync.add(..., covers=...)`; tests/test_follow_rule.py
    # fails when one is missing.
    status = services.status
    resync = Resync(
        incidents=services.incidents,
        store=services.incidents.store,
        turn=services.tasks.foreground.turn,
    )
    queue = new_event_queue()
    events = EventDispatcher(queue, services.tasks)
    channels = ChannelFollower(
        chat=services.chat,
        incidents=services.incidents,
        notifier=services.notifier,
        clock=services.clock,
    )
    users = UserFollower(directory=services.directory, incidents=services.incidents)

    # Incident channels renamed, archived, restored by hand.
    events.register(ChannelUpdated, channels.on_updated)
    events.register(ChannelDeleted, channels.on_deleted)
    events.register(ChannelRestored, channels.on_restored)
    resync.add(
        channels.resync, covers=(ChannelUpdated, ChannelDeleted, ChannelRestored), first=True
    )
    # Users renamed or (de)activated.
    events.register(UserUpdated, users.on_updated)
    resync.add(users.resync, covers=(UserUpdated,), first=True)

    # Start offers on the start emoji; posts pinned to the timeline by reaction. The re-sync
    # re-reads the reactions of incident channels; a start offer is not made late (an offer
    # after the fact, to someone who may have moved on, would be noise — see the docs table).
    async def start_offer(event: ReactionAdded) -> None:
        await start_flow.on_reaction(services, event)

    events.register(ReactionAdded, start_offer)
    events.register(ReactionAdded, features.capture.on_added)
    events.register(ReactionRemoved, features.capture.on_removed)
    resync.add(features.capture.resync, covers=(ReactionAdded, ReactionRemoved))
    # Members ever involved.
    events.register(UserAdded, features.members.on_added)
    events.register(UserRemoved, features.members.on_removed)
    resync.add(features.members.resync, covers=(UserAdded, UserRemoved))
    # Who is in each incident channel, for reads answered locally (issue 12).
    events.register(UserAdded, features.memberships.on_added)
    events.register(UserRemoved, features.memberships.on_removed)
    resync.add(features.memberships.resync, covers=(UserAdded, UserRemoved), first=True)

    # Status update posts and pinned posts edited or deleted.
    # (One handler each: a failing one does not keep the other from running.)
    async def status_edited(event: PostEdited) -> None:
        await status.post_edited(event.post)

    async def status_deleted(event: PostDeleted) -> None:
        await status.post_deleted(event.post)

    async def pin_edited(event: PostEdited) -> None:
        await features.capture.post_edited(event.post)

    async def pin_deleted(event: PostDeleted) -> None:
        await features.capture.post_deleted(event.post)

    # A card or checklist page deleted by hand: the next sync (a change, or the re-sync's
    # Resync.catch_up_posts) finds it gone and posts it again.
    async def kept_deleted(event: PostDeleted) -> None:
        await services.incidents.post_deleted(event.post.id)

    # A card or checklist page edited by hand: the next sync puts it back.
    async def kept_edited(event: PostEdited) -> None:
        await services.incidents.post_edited(event.post.id, event.post.message)

    events.register(PostEdited, status_edited)
    events.register(PostDeleted, status_deleted)
    events.register(PostEdited, pin_edited)
    events.register(PostDeleted, pin_deleted)
    events.register(PostDeleted, kept_deleted)
    events.register(PostEdited, kept_edited)
    # status.resync re-reads status posts; capture.resync (above) re-reads pinned posts
    resync.add(status.resync, covers=(PostEdited, PostDeleted))

    # The bot added to a team: `team: "*"` playbooks now cover it too.
    teams = TeamWatch(services)
    events.register(AddedToTeam, teams.on_added)
    resync.add(teams.resync, covers=(AddedToTeam,))

    # Chat: DMs and mentions answered, signals offered; the catch-up re-reads DMs.
    events.register(Posted, chat.on_posted)
    resync.add(chat.conversation.catch_up, covers=(Posted,))

    async def on_connected(first: bool) -> None:
        # The listener waits for this before reading on: keep it short, re-sync aside.
        features.memberships.stream_started()
        # No report: the re-sync is warroom's own upkeep, for nobody in particular; each hook
        # logs what it could not catch up, and the next reconnect tries again.
        services.tasks.spawn("resync", resync.run(), report=None)

    listener = WebsocketListener(
        url=services.settings.mattermost_url,
        token=token,
        queue=queue,
        on_connected=on_connected,
        prefilter=chat.intake.skip,
    )
    features.memberships.follow_stream(lambda: listener.connected)
    return events, resync, listener


def _watch(
    metrics: Metrics,
    *,
    services: Services,
    features: _Features,
    listener: WebsocketListener,
    events: EventDispatcher,
) -> None:
    """Gauges and counters read at scrape time from the parts that keep them."""
    incidents, reminders = services.incidents.store, features.reminders.store
    ongoing = Gauge("warroom_incidents_ongoing", "Ongoing incidents", registry=metrics.registry)
    pending = Gauge(
        "warroom_reminders_pending",
        "Status reminders waiting in the database for their due time (the durable queue)",
        registry=metrics.registry,
    )

    outbox, effects = (
        Gauge(
            "warroom_outbox_depth",
            "Posts recorded in the outbox and not yet finished (pending or posted)",
            registry=metrics.registry,
        ),
        services.incidents.outbox.store,
    )

    async def refresh() -> None:
        ongoing.set(await incidents.count_ongoing())
        pending.set(await reminders.count(ReminderState.PENDING))
        outbox.set(await effects.count_unfinished())

    metrics.refresh_with(refresh)
    metrics.gauge(
        "warroom_background_tasks", "Background tasks in flight", lambda: len(services.tasks)
    )
    metrics.gauge(
        "warroom_websocket_connected",
        "1 when the event stream is up",
        lambda: float(listener.connected),
    )
    metrics.gauge("warroom_event_queue_depth", "Websocket events waiting", events.depth)
    metrics.counts(
        "warroom_websocket_reconnects",
        "Times the event stream was lost and tried again",
        lambda: listener.reconnects,
    )
    metrics.counts(
        "warroom_websocket_events",
        "Websocket events received, by type",
        lambda: listener.events_by_type,
        label="type",
    )
    metrics.counts(
        "warroom_events_dropped", "Events dropped on a full queue", lambda: listener.dropped
    )
    metrics.counts(
        "warroom_reminders_fired", "Reminders posted since start", lambda: features.reminders.fired
    )


def _port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def _bind_probe(settings: Settings) -> str:
    """The address the HTTP server will listen on; port 0 picks a free port now."""
    port = settings.listen_port
    if port == 0:
        server = await asyncio.start_server(lambda r, w: None, settings.listen_host, 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
    host = settings.listen_host
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104
    return f"http://{shown}:{port}"


async def check_playbooks_online(settings: Settings) -> list[Playbook]:
    """``warroom check-config --online``: validate playbooks.yaml and resolve it against the
    server exactly as a reload does, saving nothing and creating no database file.

    Raises :class:`PlaybookFileError` with every problem, or :class:`ConfigError` when the
    server cannot be asked.
    """
    spec = await asyncio.to_thread(read_playbooks, settings.playbooks_file)
    chat = MattermostClient(
        settings.mattermost_url, await bot_token(settings), timeout=settings.request_timeout
    )
    exists = settings.db_path.exists()
    db = await open_database(settings) if exists else Database(":memory:")
    try:
        if not exists:
            await db.open()
        await identity(chat, settings)
        service = PlaybookService(
            store=PlaybookStore(db),
            chat=chat,
            directory=Directory(chat),
            clock=SystemClock(),
            file=settings.playbooks_file,
            webhook_hosts=settings.webhook_hosts(),
        )
        return await service.check(spec)
    finally:
        await db.close()
        await chat.close()


# Collector thresholds for a long-running process (CPython's default is 700, 10, 10). Reads
# allocate many short-lived objects (rows, models, rendered text): a larger first generation
# runs the young collection ~14 times less often (each one still short: the young are few
# and mostly dead), and full collections are rarer. bench/bench_scale.py measures the effect.
GC_THRESHOLDS = (10_000, 20, 50)


def settle_gc() -> None:
    """Once, after start-up: set :data:`GC_THRESHOLDS` and move everything built so far
    (modules, classes, schemas, the wired services: about 90,000 objects) out of the
    collector's reach with :func:`gc.freeze`. A full collection otherwise walks all of
    them each time, tens of ms with the event loop stopped: a read's p99. Frozen objects
    live as long as the process does anyway."""
    gc.collect()  # garbage of the start-up itself is freed, not frozen
    gc.set_threshold(*GC_THRESHOLDS)
    gc.freeze()


async def run_forever(settings: Settings) -> None:
    """``warroom run``: start, then serve until SIGTERM or SIGINT (SIGHUP reloads)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    async with running(settings) as warroom:
        settle_gc()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        loop.add_signal_handler(signal.SIGHUP, warroom.on_sighup)
        await stop.wait()
