"""Who calls the REST API: the Mattermost user whose token the request carries.

A caller sends a Mattermost personal access token or session token as
``Authorization: Bearer <token>``. warroom asks the server who that is
(``GET /api/v4/users/me`` with that token, Mattermost 5.36 api4/user.go getUser with
``user_id=me``: 401 for a token that is unknown, expired or revoked) and then acts exactly
as it does for that user in chat. Answers are cached for :data:`TTL_S` seconds (a refusal
for :data:`REFUSED_TTL_S`), at most :data:`MAX_ENTRIES` tokens each, keyed by a hash of the
token (the token itself is never kept).
A deactivated user's session is revoked by the server, so their token stops working there;
warroom refuses a user that still answers with ``delete_at`` set, too.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.errors import ChatUnavailable
from bot.services.ports import User

TTL_S = 30.0
REFUSED_TTL_S = 5.0  # a refused token is not asked about again for this long
MAX_ENTRIES = 1024
TIMEOUT_S = 5.0


class Unauthenticated(Exception):
    """No token, or one Mattermost does not accept: answered 401."""


def bearer(header: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; :class:`Unauthenticated`
    when there is none (the scheme is case-insensitive, RFC 6750 section 2.1)."""
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 256 or " " in token:
        raise Unauthenticated
    return token


class Identities:
    """Tokens to users, asked of Mattermost and cached briefly (bounded, least recent out)."""

    def __init__(
        self,
        mattermost_url: str,
        *,
        ttl_s: float = TTL_S,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = mattermost_url.rstrip("/") + "/api/v4/users/me"
        self._ttl = ttl_s
        self._max = max_entries
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, User]] = OrderedDict()
        self._refused: OrderedDict[str, float] = OrderedDict()
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def __len__(self) -> int:
        return len(self._cache)

    async def user(self, token: str) -> User:
        """The active, human user ``token`` belongs to.

        Raises :class:`Unauthenticated` (Mattermost refused the token, or it is a bot's or a
        deactivated user's) and :class:`ChatUnavailable` (Mattermost did not answer).
        """
        key = hashlib.sha256(token.encode()).hexdigest()
        hit = self._cache.get(key)
        now = self._clock()
        if hit is not None and now - hit[0] < self._ttl:
            self._cache.move_to_end(key)
            return hit[1]
        refused_at = self._refused.get(key)
        if refused_at is not None and now - refused_at < REFUSED_TTL_S:
            raise Unauthenticated  # a flood of bad tokens is not passed on to Mattermost
        try:
            user = await self._ask(token)
            if user.is_deactivated or user.is_bot:
                raise Unauthenticated
        except Unauthenticated:
            _bounded_put(self._refused, key, now, self._max)
            raise
        self._refused.pop(key, None)
        _bounded_put(self._cache, key, (now, user), self._max)
        return user

    async def _ask(self, token: str) -> User:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        try:
            async with self._session.get(
                self._url, headers={"Authorization": f"Bearer {token}"}
            ) as answer:
                if answer.status in (400, 401, 403, 404):
                    raise Unauthenticated
                if answer.status != 200:
                    raise ChatUnavailable("get_me")
                data = await answer.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ChatUnavailable("get_me") from exc
        if not isinstance(data, dict):
            raise ChatUnavailable("get_me")
        return User.model_validate(data)


def _bounded_put(cache: OrderedDict[str, Any], key: str, value: Any, most: int) -> None:
    """Put ``key`` last (most recent); drop the least recent beyond ``most`` entries."""
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > most:
        cache.popitem(last=False)
