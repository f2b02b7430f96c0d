"""`MattermostDouble`: a Mattermost 5.36 server double on 127.0.0.1 for tests."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from .channels import valid_channel_name
from .commands import Core
from .config import ServerConfig
from .faults import Faults
from .plumbing import Control
from .server import build_app
from .state import Channel, Command, FailRule, Reaction, RequestRecord, State, Team, User
from .texts import Mentions
from .users import UserSide
from .util import Clock, Json, new_id, new_token, now_ms
from .websocket import Hub


class MattermostDouble(UserSide):
    """Speaks the recorded wire formats and refuses what the real server refuses.

    >>> mm = MattermostDouble(trigger_ttl=3.0); await mm.start(); mm.url
    """

    def __init__(self, trigger_ttl: float = 3.0, *, integration_timeout: float = 30.0) -> None:
        self.state = State()
        self._clock = Clock()
        self._hub = Hub(self.state.member_ids, self.state.team_member_ids)
        self._core = Core(self.state, self._hub, self._clock, lambda: self.url, trigger_ttl)
        self._core.integration_timeout = integration_timeout
        self._control = Control()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._url = ""
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        self._runner = web.AppRunner(
            build_app(self._core, self._control), access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await self._site.start()
        host, port = self._runner.addresses[0][:2]
        self._url = f"http://{host}:{port}"
        self._control.faults.bind(self._go_offline)

    async def _go_offline(self, offline: bool) -> None:
        runner = self._runner
        assert runner is not None, "the double is not started"
        if offline and self._site is not None:
            await self._site.stop()
            self._site = None
            await self._hub.drop_all()
            for connection in list(runner.server.connections if runner.server else []):
                if connection.transport is not None:
                    connection.transport.close()
            for _ in range(2):  # the sockets close in callbacks the loop runs next
                await asyncio.sleep(0)
        elif not offline and self._site is None:
            self._site = web.TCPSite(runner, "127.0.0.1", self.port)
            await self._site.start()

    async def close(self) -> None:
        await self._hub.drop_all()
        if self._core.http is not None:
            await self._core.http.close()
            self._core.http = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> MattermostDouble:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`; empty before `start()`."""
        return self._url

    @property
    def port(self) -> int:
        return int(self._url.rsplit(":", 1)[1])

    @property
    def websocket_url(self) -> str:
        return self._url.replace("http://", "ws://") + "/api/v4/websocket"

    @property
    def trigger_ttl(self) -> float:
        return self._core.trigger_ttl

    @trigger_ttl.setter
    def trigger_ttl(self, seconds: float) -> None:
        self._core.trigger_ttl = seconds

    # ---- seeding ---------------------------------------------------------------
    @property
    def config(self) -> ServerConfig:
        """The server configuration (``GET /api/v4/config``); tests change it with ``set``."""
        return self.state.config

    def add_team(self, name: str, display_name: str | None = None) -> Team:
        team = Team(new_id(), name, display_name or name.title(), now_ms(), new_id())
        self.state.teams[team.id] = team
        self.state.team_members[team.id] = set()
        return team

    def add_user(
        self,
        username: str,
        teams: list[str] | None = None,
        admin: bool = False,
        bot: bool = False,
        *,
        display_name: str = "",
        description: str = "",
        owner_id: str = "",
    ) -> User:
        if self.state.user_by_name(username) is not None:
            raise ValueError(f"username {username!r} already exists")
        at = now_ms()
        user = User(
            id=new_id(),
            username=username.lower(),
            token=new_token(),
            roles="system_admin system_user" if admin else "system_user",
            is_bot=bot,
            email=f"{username}@localhost" if bot else f"{username}@example.com",
            first_name=display_name or (username if bot else ""),
            create_at=at,
            update_at=at,
            bot_description=description,
            bot_display_name=display_name or username,
            owner_id=owner_id,
        )
        self.state.users[user.id] = user
        self.state.tokens[user.token] = user.id
        for team_id in teams or []:
            self.add_team_member(team_id, user.id)
        return user

    def add_team_member(self, team_id: str, user_id: str) -> None:
        self.state.team_of(team_id)
        self.state.team_members[team_id].add(user_id)

    def set_admin(self, user: User | str, admin: bool = True) -> None:
        """Grant/revoke `system_admin` (what `PUT /users/{id}/roles` does)."""
        who = self._user(user)
        who.roles = "system_admin system_user" if admin else "system_user"

    def add_channel(
        self,
        team_id: str,
        name: str,
        private: bool = False,
        members: list[str] | None = None,
        display_name: str | None = None,
        *,
        header: str = "",
        purpose: str = "",
        creator_id: str = "",
    ) -> Channel:
        """Seed a channel quietly (no system posts, no events)."""
        self.state.team_of(team_id)
        if not valid_channel_name(name):
            raise ValueError(f"invalid channel name {name!r}")
        if self.state.channel_by_name(team_id, name) is not None:
            raise ValueError(f"channel {name!r} already exists")
        channel = self._core.new_channel(
            team_id,
            name,
            display_name or name.replace("-", " ").title(),
            "P" if private else "O",
            creator_id=creator_id,
            header=header,
            purpose=purpose,
        )
        for user_id in members or []:
            self._core.put_member(channel, user_id)
        return channel

    def seed_member(self, channel_id: str, user_id: str) -> None:
        """Make `user_id` a member quietly (no system post, no event): a join the bot missed."""
        self._core.put_member(self.state.channel(channel_id), user_id)

    def seed_posts(self, channel_id: str, user: User | str, messages: list[str]) -> list[str]:
        """Store plain posts quietly (no events), oldest first, one ms apart; their ids."""
        channel = self.state.channel(channel_id)
        author = self._user(user)
        ids: list[str] = []
        for message in messages:
            at = self._clock.tick()
            post: Json = {
                "id": new_id(), "create_at": at, "update_at": at, "edit_at": 0, "delete_at": 0,
                "is_pinned": False, "user_id": author.id, "channel_id": channel.id, "root_id": "",
                "message": message, "type": "", "props": {}, "pending_post_id": "",
                "file_ids": [],
            }  # fmt: skip
            self.state.add_post(post)
            channel.total_msg_count += 1
            channel.last_post_at = at
            ids.append(post["id"])
        return ids

    def seed_reaction(self, user: User | str, post_id: str, emoji: str, *, on: bool = True) -> None:
        """Add (or with `on=False` remove) a reaction quietly: a change whose event was lost."""
        who = self._user(user)
        existing = self.state.reactions.setdefault(post_id, [])
        existing[:] = [r for r in existing if (r.user_id, r.emoji_name) != (who.id, emoji)]
        if on:
            existing.append(Reaction(who.id, post_id, emoji, self._clock.tick()))

    def register_command(
        self,
        team_id: str,
        trigger: str,
        url: str,
        *,
        method: str = "P",
        creator_id: str = "",
        auto_complete: bool = False,
        **fields: Any,
    ) -> Command:
        body = {
            "team_id": team_id,
            "trigger": trigger,
            "url": url,
            "method": method,
            "auto_complete": auto_complete,
            **fields,
        }
        return self._core.create_command(creator_id, body)

    # ---- inspection --------------------------------------------------------------
    def posts(self, channel_id: str) -> list[Json]:
        """Stored posts, oldest first, deleted ones left out, full props (integration kept)."""
        return [self._core.full_post(p) for p in self.state.channel_posts(channel_id)]

    def get_post(self, post_id: str) -> Json | None:
        post = self._core.live_post(post_id)
        return self._core.full_post(post) if post is not None else None

    def notified(self, post_id: str) -> Mentions:
        """Whom the post notified when it was created, found as the 5.36 server finds it:
        ``user_ids`` mentioned (by name or channel-wide), and whether ``@here``, ``@channel``
        or ``@all`` was used (tests/double/texts.py). A post never created: AssertionError."""
        found = self.state.notified.get(post_id)
        assert found is not None, f"no post {post_id} was created"
        return found

    def ephemerals(self, user_id: str) -> list[Json]:
        """Ephemeral posts delivered to the user, oldest first, as the user received them."""
        return [self._core.ephemeral_view(p) for p in self.state.ephemerals.get(user_id, [])]

    def dialogs(self, user_id: str) -> list[Json]:
        """`open_dialog` payloads received: {"trigger_id", "url", "dialog"}."""
        return copy.deepcopy(self.state.dialogs.get(user_id, []))

    def channel_members(self, channel_id: str) -> set[str]:
        return self.state.member_ids(channel_id)

    def channel_by_name(self, team_id: str, name: str) -> Channel | None:
        return self.state.channel_by_name(team_id, name)

    def channel(self, channel_id: str) -> Channel | None:
        return self.state.channels.get(channel_id)

    def user_by_name(self, username: str) -> User | None:
        return self.state.user_by_name(username)

    def file_bytes(self, file_id: str) -> bytes:
        return self.state.files[file_id].data

    @property
    def requests(self) -> list[RequestRecord]:
        """Every HTTP request served (live list: `.clear()` it between phases)."""
        return self._control.requests

    @property
    def keep_bodies(self) -> bool:
        """Whether the request log keeps each request's query, body and answer bytes
        (:class:`RequestRecord`; off by default: benchmarks that replay calls turn it on)."""
        return self._control.keep_bodies

    @keep_bodies.setter
    def keep_bodies(self, keep: bool) -> None:
        self._control.keep_bodies = keep

    @property
    def events(self) -> list[Json]:
        """Every websocket event emitted (`event`, `data`, `broadcast`), in order."""
        return self._hub.events

    def last_seq(self, user_id: str) -> int:
        """The seq of the newest event queued for the user's newest connection (-1: none)."""
        conns = [c for c in self._hub.connections if c.user_id == user_id]
        return conns[-1].seq - 1 if conns else -1

    def redeliver(self, event: Json) -> None:
        """Send a recorded event (an entry of `events`) again, as a replay after a resume
        does: at-least-once delivery."""
        b = event.get("broadcast", {})
        self._hub.emit(
            str(event["event"]), dict(event["data"]), user_id=b.get("user_id", ""),
            channel_id=b.get("channel_id", ""), team_id=b.get("team_id", ""),
        )  # fmt: skip

    def connections(self, user_id: str | None = None) -> int:
        """Open websocket connections (of one user)."""
        return sum(1 for c in self._hub.connections if user_id in (None, c.user_id))

    # ---- faults ----------------------------------------------------------------------
    @property
    def faults(self) -> Faults:
        """Fault injection (429/5xx before acting, acted-then-failed, lost and held
        answers, unreachable): see :mod:`tests.double.faults`."""
        return self._control.faults

    def fail_next(
        self,
        method: str = "*",
        path_regex: str = ".*",
        status: int = 500,
        error_id: str = "double.injected_failure",
        times: int = 1,
        *,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next `times` requests matching answer `status` with an error body."""
        rule = FailRule(method.upper(), path_regex, status, error_id, times, message, headers or {})
        self._control.fail_rules.append(rule)

    def outage(self, on: bool = True) -> None:
        """While on: REST answers 503, websocket upgrades fail, open websockets are dropped."""
        self._control.outage = on
        if on and self._hub.connections:
            task = asyncio.get_running_loop().create_task(self._hub.drop_all())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def drop_websockets(self) -> None:
        """Close every server-side websocket (clients must reconnect; 5.36: fresh hello)."""
        await self._hub.drop_all()

    async def wait_until(
        self, predicate: Callable[[], Any], within: float = 5.0, interval: float = 0.01
    ) -> None:
        """Poll `predicate` until truthy; TimeoutError after `within` seconds."""
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {within}s")
            await asyncio.sleep(interval)
