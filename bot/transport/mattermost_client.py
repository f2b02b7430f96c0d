"""The Mattermost REST client: mattermostautodriver underneath, typed models and errors on top."""

from __future__ import annotations

import asyncio
import copy
import random
import time
from collections.abc import Awaitable, Callable
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit

import httpx
from mattermostautodriver import AsyncTypedDriver
from mattermostautodriver.exceptions import (
    InvalidMattermostError,
    MattermostError,
    TooManyRequests,
)
from pydantic import BaseModel

from bot import deadline
from bot.errors import ChatUnavailable, InputError
from bot.log import get_logger
from bot.services.ports import (
    Channel,
    ChatRefused,
    FileInfo,
    NeedsTrigger,
    Post,
    PostsPage,
    Reaction,
    Team,
    User,
)
from bot.transport.retry import ONE_ATTEMPT, Failure, RetryPolicy, Safety

log = get_logger(__name__)
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
Sleep = Callable[[float], Awaitable[None]]

# Every operation and what repeating it does (see bot/transport/retry.py). A create is
# repeated only when Mattermost surely did not act on it.
IDEMPOTENT, CREATE = Safety.IDEMPOTENT, Safety.CREATE
OPERATIONS: dict[str, Safety] = {
    "get_me": IDEMPOTENT,
    "get_user": IDEMPOTENT,
    "get_user_by_username": IDEMPOTENT,
    "get_users": IDEMPOTENT,  # a POST that only reads
    "get_team": IDEMPOTENT,
    "get_team_by_name": IDEMPOTENT,
    "get_teams_for_user": IDEMPOTENT,
    "get_team_member": IDEMPOTENT,
    "create_channel": CREATE,
    "get_channel": IDEMPOTENT,
    "get_channel_by_name": IDEMPOTENT,
    "get_channels_for_team_for_user": IDEMPOTENT,
    "add_channel_member": IDEMPOTENT,  # an existing member is answered as added
    "get_channel_member": IDEMPOTENT,
    "get_channel_members": IDEMPOTENT,
    "create_direct_channel": IDEMPOTENT,  # answers the existing direct channel
    "create_post": CREATE,
    "patch_post": IDEMPOTENT,
    "get_post": IDEMPOTENT,
    "delete_post": IDEMPOTENT,
    "pin_post": IDEMPOTENT,
    "create_post_ephemeral": CREATE,
    "open_dialog": CREATE,
    "execute_command": CREATE,
    "upload_file": CREATE,
    "get_file_info": IDEMPOTENT,
    "get_file": IDEMPOTENT,
    "get_posts_for_channel": IDEMPOTENT,
    "get_reactions": IDEMPOTENT,
    "save_reaction": IDEMPOTENT,  # saving the same reaction again changes nothing
    "delete_reaction": IDEMPOTENT,
}


# The endpoint group of each operation, for metrics (the path's first segment under /api/v4).
GROUPS: dict[str, str] = {
    **dict.fromkeys(("get_me", "get_user", "get_user_by_username", "get_users"), "users"),
    **dict.fromkeys(
        ("get_team", "get_team_by_name", "get_teams_for_user", "get_team_member"), "teams"
    ),
    **dict.fromkeys(
        (
            "create_channel",
            "get_channel",
            "get_channel_by_name",
            "add_channel_member",
            "get_channel_member",
            "get_channel_members",
            "create_direct_channel",
            "get_posts_for_channel",
        ),
        "channels",
    ),
    **dict.fromkeys(
        (
            "create_post",
            "patch_post",
            "get_post",
            "delete_post",
            "pin_post",
            "create_post_ephemeral",
        ),
        "posts",
    ),
    "open_dialog": "actions",
    "execute_command": "commands",
    **dict.fromkeys(("upload_file", "get_file_info", "get_file"), "files"),
    **dict.fromkeys(("get_reactions", "save_reaction", "delete_reaction"), "reactions"),
}
# (endpoint group, seconds, error: "" on success, else the HTTP status or "network")
Observe = Callable[[str, float, str], None]


def _ignore(group: str, seconds: float, error: str) -> None:
    """The default :data:`Observe`: measure nothing."""


def driver_options(url: str, token: str, *, timeout: float) -> dict[str, Any]:
    parts = urlsplit(url)
    scheme = parts.scheme or "http"
    port = parts.port or (443 if scheme == "https" else 80)
    if parts.path not in ("", "/"):
        raise ValueError("the Mattermost URL must not have a path (sub-path installs unsupported)")
    return {
        "url": parts.hostname,
        "port": port,
        "scheme": scheme,
        "token": token,
        "request_timeout": timeout,
        # Retries are decided in one place, MattermostClient._call: the driver's own would
        # sleep outside the injected clock, skip 500 and POSTs that are safe to repeat, and
        # give up on a Retry-After above its cap.
        "max_retries": 0,
        "verify": True,
    }


def _failure(exc: Exception) -> Failure:
    if isinstance(exc, TooManyRequests):
        return Failure(429, exc, retry_after=exc.retry_after)
    if isinstance(exc, (MattermostError, InvalidMattermostError)):
        return Failure(exc.status_code, exc)
    return Failure(None, exc)


class MattermostClient:
    """Implements :class:`bot.services.ports.ChatClient`.

    Every call is retried as :mod:`bot.transport.retry` decides for its operation
    (:data:`OPERATIONS`), waiting with ``sleep`` (seconds; the app passes one measured by
    its clock, and ``now_ms`` reading that clock): never past the deadline of the callback
    the call is made for (bot/deadline.py). Raises :class:`ChatRefused` for a refusal (final) and
    :class:`bot.errors.ChatUnavailable` for a transient failure that outlived the retries.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 10.0,
        policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        rng: random.Random | None = None,
        observe: Observe = _ignore,
    ) -> None:
        self._driver = AsyncTypedDriver(driver_options(url, token, timeout=timeout))
        # The driver sets the Authorization header only in login(); set the token up front.
        self._driver.client.token = token
        self.base_url = url.rstrip("/")
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._now_ms = now_ms
        self._rng = rng or random.Random()
        self._observe = observe
        self._me_id = ""  # the bot's user id, read once when first needed

    def single_attempt(self) -> MattermostClient:
        """The same client (same connection) making one attempt per call, for a caller
        that retries durably on its own schedule (the reminder scheduler). Close only the
        original."""
        view = copy.copy(self)
        view._policy = ONE_ATTEMPT
        return view

    async def close(self) -> None:
        await self._driver.close()

    async def _call(self, operation: str, fn: Callable[[], Awaitable[T]]) -> T:
        safety = OPERATIONS[operation]
        attempt, waited = 1, 0.0
        group = GROUPS.get(operation, "other")
        while True:
            started = time.perf_counter()
            try:
                result = await fn()
            except (httpx.HTTPError, InvalidMattermostError) as exc:  # MattermostError too
                failure = _failure(exc)
                self._observe(
                    group, time.perf_counter() - started, str(failure.status or "network")
                )
            except ValueError as exc:  # an answer that is not the JSON it should be
                self._observe(group, time.perf_counter() - started, "bad_answer")
                log.warning("mattermost_bad_answer", operation=operation, error=repr(exc))
                raise ChatUnavailable(operation, outcome_unknown=True) from exc
            else:
                self._observe(group, time.perf_counter() - started, "")
                return result
            left = deadline.remaining_ms(self._now_ms())
            wait = self._policy.wait_before_retry(
                safety=safety,
                failure=failure,
                attempt=attempt,
                waited=waited,
                rng=self._rng,
                remaining=None if left is None else left / 1000,
            )
            if wait is None:
                raise self._final(operation, failure) from failure.error
            log.info(
                "mattermost_retry",
                operation=operation,
                status=failure.status,
                error=None if failure.status else repr(failure.error),
                attempt=attempt,
                wait_s=round(wait, 3),
            )
            await self._sleep(wait)
            attempt, waited = attempt + 1, waited + wait

    @staticmethod
    def _final(operation: str, failure: Failure) -> Exception:
        exc = failure.error
        if not failure.transient and isinstance(exc, MattermostError):
            return ChatRefused(exc.status_code, exc.error_id or "", str(exc))
        if not failure.transient and failure.status is not None:
            return ChatRefused(failure.status, "", str(exc))
        log.warning(
            "mattermost_unavailable",
            operation=operation,
            status=failure.status,
            error=None if failure.status else repr(exc),
        )
        return ChatUnavailable(
            operation, retry_after=failure.retry_after, outcome_unknown=not failure.not_acted
        )

    async def _model(self, model: type[M], operation: str, fn: Callable[[], Awaitable[Any]]) -> M:
        data = await self._call(operation, fn)
        if not isinstance(data, dict):
            raise ChatUnavailable(operation)
        return model.model_validate(data)

    # users and teams
    async def me(self) -> User:
        return await self._model(User, "get_me", lambda: self._driver.users.get_user(user_id="me"))

    async def get_user(self, user_id: str) -> User:
        return await self._model(
            User, "get_user", lambda: self._driver.users.get_user(user_id=user_id)
        )

    async def get_user_by_username(self, username: str) -> User:
        return await self._model(
            User,
            "get_user_by_username",
            lambda: self._driver.users.get_user_by_username(username=username),
        )

    async def get_users(self, user_ids: list[str]) -> list[User]:
        if not user_ids:
            return []
        data = await self._call(
            "get_users", lambda: self._driver.users.get_users_by_ids(options=user_ids)
        )
        return [User.model_validate(u) for u in data]

    async def get_team(self, team_id: str) -> Team:
        return await self._model(
            Team, "get_team", lambda: self._driver.teams.get_team(team_id=team_id)
        )

    async def get_team_by_name(self, name: str) -> Team:
        return await self._model(
            Team, "get_team_by_name", lambda: self._driver.teams.get_team_by_name(team_name=name)
        )

    async def my_teams(self) -> list[Team]:
        data = await self._call(
            "get_teams_for_user", lambda: self._driver.teams.get_teams_for_user(user_id="me")
        )
        return [Team.model_validate(t) for t in data]

    async def is_team_member(self, team_id: str, user_id: str) -> bool:
        try:
            member = await self._call(
                "get_team_member",
                lambda: self._driver.teams.get_team_member(team_id=team_id, user_id=user_id),
            )
        except ChatRefused as exc:
            if exc.status in (403, 404):
                return False
            raise
        return isinstance(member, dict) and not member.get("delete_at")

    # channels
    async def create_channel(
        self, *, team_id: str, name: str, display_name: str, private: bool, header: str
    ) -> Channel:
        return await self._model(
            Channel,
            "create_channel",
            lambda: self._driver.channels.create_channel(
                team_id=team_id,
                name=name,
                display_name=display_name,
                type="P" if private else "O",
                header=header or None,
            ),
        )

    async def get_channel(self, channel_id: str) -> Channel:
        return await self._model(
            Channel, "get_channel", lambda: self._driver.channels.get_channel(channel_id=channel_id)
        )

    async def my_channels(self, team_id: str) -> list[Channel]:
        """The bot's channels in ``team_id``, archived ones included (``delete_at`` > 0):
        ``GET /users/me/teams/{team_id}/channels?include_deleted=true`` (5.36 api4)."""
        data = await self._call(
            "get_channels_for_team_for_user",
            lambda: self._driver.channels.get_channels_for_team_for_user(
                user_id="me", team_id=team_id, include_deleted=True
            ),
        )
        return [Channel.model_validate(c) for c in data]

    async def get_channel_by_name(self, team_id: str, name: str) -> Channel:
        return await self._model(
            Channel,
            "get_channel_by_name",
            lambda: self._driver.channels.get_channel_by_name(team_id=team_id, channel_name=name),
        )

    async def add_channel_member(self, channel_id: str, user_id: str) -> None:
        await self._call(
            "add_channel_member",
            lambda: self._driver.channels.add_channel_member(
                channel_id=channel_id, user_id=user_id
            ),
        )

    async def is_channel_member(self, channel_id: str, user_id: str) -> bool:
        try:
            await self._call(
                "get_channel_member",
                lambda: self._driver.channels.get_channel_member(
                    channel_id=channel_id, user_id=user_id
                ),
            )
        except ChatRefused as exc:
            if exc.status in (403, 404):
                return False
            raise
        return True

    async def channel_member_ids(self, channel_id: str) -> list[str]:
        ids: list[str] = []
        page = 0
        while True:
            batch = await self._call(
                "get_channel_members",
                lambda p=page: self._driver.channels.get_channel_members(  # type: ignore[misc]
                    channel_id=channel_id, page=p, per_page=200
                ),
            )
            ids.extend(m["user_id"] for m in batch)
            if len(batch) < 200:
                return ids
            page += 1

    async def direct_channel(self, user_a: str, user_b: str) -> Channel:
        return await self._model(
            Channel,
            "create_direct_channel",
            lambda: self._driver.channels.create_direct_channel(options=[user_a, user_b]),
        )

    # posts
    async def create_post(
        self,
        channel_id: str,
        message: str,
        *,
        props: dict[str, Any] | None = None,
        root_id: str = "",
        file_ids: list[str] | None = None,
    ) -> Post:
        """Post as the bot; in a public channel the bot has not joined, join it first.

        5.36 ``api4/post.go`` createPost wants ``create_post`` on the channel (a channel
        member's role) or ``create_post_public`` on the team (only the post-all roles), so a
        plain bot is refused (403) in a public channel it is not in; it may join one
        (``join_public_channels``, ``team_user``) and then post. Whether warroom may post
        there for a person is the services' check, made before (the person can read it).
        """

        def post() -> Any:
            return self._driver.posts.create_post(
                channel_id=channel_id,
                message=message,
                props=props or None,
                root_id=root_id or None,
                file_ids=file_ids or None,
            )

        try:
            return await self._model(Post, "create_post", post)
        except ChatRefused as exc:
            if exc.status != 403 or not await self._join_if_public(channel_id):
                raise
        return await self._model(Post, "create_post", post)

    async def _join_if_public(self, channel_id: str) -> bool:
        """Join ``channel_id`` as the bot if it is a public channel; False if it is not, or
        the bot could not join (the caller then reports the first refusal)."""
        try:
            channel = await self.get_channel(channel_id)
            if channel.type != "O" or channel.delete_at:
                return False
            if not self._me_id:
                self._me_id = (await self.me()).id
            await self.add_channel_member(channel_id, self._me_id)
        except (ChatRefused, ChatUnavailable):
            return False
        log.info("joined_public_channel_to_post", channel_id=channel_id)
        return True

    async def update_post(self, post_id: str, message: str, props: dict[str, Any]) -> Post:
        # PATCH, not PUT: a PUT resets every field it is not given (the card would be unpinned).
        return await self._model(
            Post,
            "patch_post",
            lambda: self._driver.client.put(
                f"/api/v4/posts/{post_id}/patch", options={"message": message, "props": props}
            ),
        )

    async def get_post(self, post_id: str) -> Post:
        return await self._model(
            Post, "get_post", lambda: self._driver.posts.get_post(post_id=post_id)
        )

    async def delete_post(self, post_id: str) -> None:
        await self._call("delete_post", lambda: self._driver.posts.delete_post(post_id=post_id))

    async def pin_post(self, post_id: str) -> None:
        await self._call("pin_post", lambda: self._driver.posts.pin_post(post_id=post_id))

    async def post_ephemeral(
        self, user_id: str, channel_id: str, message: str, props: dict[str, Any] | None = None
    ) -> None:
        post: dict[str, Any] = {"channel_id": channel_id, "message": message}
        if props:
            post["props"] = props
        await self._call(
            "create_post_ephemeral",
            lambda: self._driver.posts.create_post_ephemeral(user_id=user_id, post=post),
        )

    async def open_dialog(self, trigger_id: str, url: str, dialog: dict[str, Any]) -> None:
        if not trigger_id:  # a chat message: no trigger id, the transport offers a button
            raise NeedsTrigger(str(dialog.get("title", "")))
        try:
            await self._call(
                "open_dialog",
                lambda: self._driver.integration_actions.open_interactive_dialog(
                    trigger_id=trigger_id, url=url, dialog=dialog
                ),
            )
        except ChatRefused as exc:
            if exc.error_id.startswith("interactive_message.decode_trigger_id"):
                # Trigger ids live 3 s on 5.36: the user has to ask again.
                raise InputError("dialog_too_slow") from None
            raise

    async def execute_command(self, channel_id: str, command: str) -> None:
        await self._call(
            "execute_command",
            lambda: self._driver.commands.execute_command(channel_id=channel_id, command=command),
        )

    async def upload_file(self, channel_id: str, filename: str, data: bytes | IO[bytes]) -> str:
        if not isinstance(data, bytes):
            data = data.read()  # a stream could be sent only once; bytes can be sent again
        result = await self._call(
            "upload_file",
            lambda: self._driver.client.post(
                "/api/v4/files",
                data={"channel_id": channel_id},
                files={"files": (filename, data)},
            ),
        )
        return str(result["file_infos"][0]["id"])

    async def get_file_info(self, file_id: str) -> FileInfo:
        return await self._model(
            FileInfo,
            "get_file_info",
            lambda: self._driver.client.get(f"/api/v4/files/{file_id}/info"),
        )

    async def get_file(self, file_id: str) -> bytes:
        # The raw response: the driver's get() would decode a JSON file's content itself.
        response = await self._call(
            "get_file",
            lambda: self._driver.client.make_request("get", f"/api/v4/files/{file_id}"),
        )
        return bytes(response.content)

    async def channel_posts(self, channel_id: str, *, page: int, per_page: int) -> PostsPage:
        return await self._model(
            PostsPage,
            "get_posts_for_channel",
            lambda: self._driver.posts.get_posts_for_channel(
                channel_id=channel_id, page=page, per_page=per_page
            ),
        )

    # reactions
    async def post_reactions(self, post_id: str) -> list[Reaction]:
        data = await self._call(
            "get_reactions", lambda: self._driver.reactions.get_reactions(post_id=post_id)
        )
        return [Reaction.model_validate(r) for r in data or []]

    async def add_reaction(self, user_id: str, post_id: str, emoji: str) -> None:
        await self._call(
            "save_reaction",
            lambda: self._driver.reactions.save_reaction(
                options={"user_id": user_id, "post_id": post_id, "emoji_name": emoji}
            ),
        )

    async def remove_reaction(self, user_id: str, post_id: str, emoji: str) -> None:
        await self._call(
            "delete_reaction",
            lambda: self._driver.reactions.delete_reaction(
                user_id=user_id, post_id=post_id, emoji_name=emoji
            ),
        )
