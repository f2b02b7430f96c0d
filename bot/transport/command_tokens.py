"""The slash-command tokens the HTTP edge accepts, kept in step with ``warroom setup``.

``warroom setup --team other`` may run while warroom runs: it registers ``/incident`` on the new
team and stores that command's token in the database. The running process picks it up without
a restart: an unknown token makes it re-read the stored installation — at most once per
``min_interval_s`` whatever the number of bad requests (one reload at a time; callers arriving
meanwhile wait for that one), and only for a presented token of a plausible length — and
``SIGHUP`` re-reads it too (:meth:`CommandTokens.reload`). Comparisons stay constant-time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from bot.log import get_logger
from bot.transport.verify import CommandToken, token_ok

log = get_logger(__name__)

MAX_TOKEN_LEN = 64  # Mattermost's tokens are 26 characters; anything far longer is not one
RELOAD_INTERVAL_S = 10.0

Loader = Callable[[], Awaitable[Mapping[str, str]]]


class CommandTokens:
    """Tokens from the settings (``fixed``: each for its team, or any team) plus those
    ``warroom setup`` stored (team id -> token, read by ``load``), each accepted only from
    the team it was registered on (:func:`bot.transport.verify.token_ok`)."""

    def __init__(
        self,
        *,
        fixed: Sequence[CommandToken],
        stored: Mapping[str, str],
        load: Loader,
        min_interval_s: float = RELOAD_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fixed = [t for t in fixed if t.token]
        self._stored = dict(stored)
        self._load = load
        self._interval = min_interval_s
        self._clock = clock
        self._last_reload: float | None = None
        self._lock = asyncio.Lock()
        self.reloads = 0

    def known(self) -> list[CommandToken]:
        """Every accepted token with the team it is bound to."""
        return self._fixed + [CommandToken(t, team) for team, t in self._stored.items() if t]

    def by_team(self) -> dict[str, str]:
        """Team id -> the token ``warroom setup`` registered there."""
        return dict(self._stored)

    async def check(self, presented: str, team_id: str) -> bool:
        """True if ``presented`` is a known token registered on ``team_id`` (or on any team),
        re-reading the stored ones (rate-limited) when it is not."""
        if token_ok(presented, team_id, self.known()):
            return True
        if not presented or len(presented) > MAX_TOKEN_LEN:
            return False
        await self._reload_rate_limited()
        return token_ok(presented, team_id, self.known())

    async def _reload_rate_limited(self) -> None:
        if self._lock.locked():
            async with self._lock:  # someone is re-reading right now: use their result
                return
        now = self._clock()
        if self._last_reload is not None and now - self._last_reload < self._interval:
            return
        await self.reload()

    async def reload(self) -> None:
        """Re-read the stored tokens now (``SIGHUP``; an unknown token, rate-limited)."""
        async with self._lock:
            self._last_reload = self._clock()
            self.reloads += 1
            try:
                stored = dict(await self._load())
            except Exception:
                log.exception("command_tokens_reload_failed")
                return
            if stored != self._stored:
                added = sorted(set(stored) - set(self._stored))
                log.info("command_tokens_reloaded", teams=len(stored), new_teams=added)
            self._stored = stored
