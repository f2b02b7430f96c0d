"""Every post warroom makes, exactly once: an outbox with stable keys, found before re-posting.

The mechanism (the reminder scheduler's, generalised):

1. A post is recorded as an *effect* (pending) before it is made, in the same transaction as
   the change it belongs to (a status update, a task change, a start), under a stable key.
2. The post carries the key in its props (``warroom_key``, :mod:`bot.render.keys`).
3. When its id comes back, ``pending -> posted`` records it while the kind's completion
   records it where it belongs (status update row and timeline, card id, …); then ``done``.
   A kind without a completion (a notice, an announcement) goes ``pending -> done`` at once.
4. Whenever the outcome of an earlier attempt is unknown (warroom was killed, the answer was
   lost or timed out, an error after the server acted), the channel's newest posts are
   searched for the key before posting again (:class:`PostFinder`, a bounded look-back).
   The re-sync (at start and after every reconnect) delivers and completes every unfinished
   effect, so the record and the post are reconciled.

The narrow gap: a post made in the unknown window and then deleted, or pushed out of the
searched window (the newest :data:`FIND_PAGES` × :data:`FIND_PER_PAGE` posts) before warroom
looks, is made again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.crashpoints import crash_point
from bot.domain.outbox import Effect, EffectState
from bot.log import get_logger
from bot.render.keys import keyed, keys_of
from bot.services.locks import KeyedLocks
from bot.services.ports import ChatClient, ChatRefused, EffectRows, Post, Tx, UnitOfWork
from bot.tasks import Report, Spawn

log = get_logger(__name__)

FIND_PAGES, FIND_PER_PAGE = 2, 100  # how far back a post of unknown outcome is looked for
RETRY_DELAYS_S = (1.0, 5.0, 30.0, 120.0, 600.0)
KEEP_SETTLED_MS = 7 * 24 * 3600 * 1000  # settled effects are kept a week, then forgotten
RECORDED_KEPT = 1000  # effects kept in memory for their first delivery, at most

Completion = Callable[[Effect, str], Awaitable[None]]
# Takes over pending effects of a kind posted in batches (bot/services/lines.py), oldest first.
Resume = Callable[[list[Effect]], None]


@dataclass(frozen=True)
class Draft:
    """A post to record in the outbox (:meth:`Outbox.add`): its key, kind and contents."""

    key: str
    kind: str
    message: str
    props: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


class PostFinder:
    """Finds warroom's own post by its key among a channel's newest posts."""

    def __init__(self, chat: ChatClient) -> None:
        self._chat = chat

    async def find(self, channel_id: str, key: str) -> str | None:
        """The id of the live post carrying ``key`` (as its key or one of several), or None
        (looks at the newest 200 posts)."""
        return await self.find_where(channel_id, lambda post: key in keys_of(post.props))

    async def find_keys(self, channel_id: str, keys: Collection[str]) -> dict[str, str]:
        """Which of ``keys`` live posts among the newest 200 carry: key -> post id (one walk
        for them all, however many there are)."""
        wanted, found = set(keys), dict[str, str]()
        for page in range(FIND_PAGES):
            posts = await self._chat.channel_posts(channel_id, page=page, per_page=FIND_PER_PAGE)
            for post_id in posts.order:
                post = posts.posts.get(post_id)
                if post is not None and not post.delete_at:
                    found |= {k: post.id for k in keys_of(post.props) if k in wanted}
            if len(found) == len(wanted) or len(posts.order) < FIND_PER_PAGE:
                break
        return found

    async def find_where(self, channel_id: str, match: Callable[[Post], bool]) -> str | None:
        """The id of the newest live post ``match`` accepts among the newest 200, or None."""
        for page in range(FIND_PAGES):
            found = await self._chat.channel_posts(channel_id, page=page, per_page=FIND_PER_PAGE)
            for post_id in found.order:
                post = found.posts.get(post_id)
                if post is not None and not post.delete_at and match(post):
                    return post.id
            if len(found.order) < FIND_PER_PAGE:
                break
        return None


class _Stopped(Exception):
    """A post of a sequence not made because one before it failed."""


class Outbox:
    """Records, makes and completes posts exactly once (see the module docstring)."""

    def __init__(
        self, *, db: UnitOfWork, store: EffectRows, chat: ChatClient, clock: Clock, spawn: Spawn
    ) -> None:
        self._db = db
        self.store = store
        self._chat = chat
        self._clock = clock
        self._spawn = spawn
        self.finder = PostFinder(chat)
        self._completions: dict[str, Completion] = {}
        self._batched: dict[str, Resume] = {}
        self._locks = KeyedLocks()
        # Effects this process recorded as new, kept for their first delivery (``fresh``) to
        # make without reading them back; any delivery of the key takes its entry out.
        self._recorded: dict[str, Effect] = {}

    def on_posted(self, kind: str, completion: Completion) -> None:
        """Run ``completion(effect, post_id)`` once a post of ``kind`` exists. It must be
        idempotent: a kill may interrupt it, and then it runs again at the next re-sync."""
        self._completions[kind] = completion

    def batched(self, kind: str, resume: Resume) -> None:
        """Effects of ``kind`` are posted by someone else, several in one post, in order (see
        :mod:`bot.services.lines`); :meth:`flush` hands it those still pending (no completion
        runs for them). Must be set before the first flush."""
        self._batched[kind] = resume

    async def settle(self, keys: Sequence[str], post_id: str) -> None:
        """Record that the post ``post_id`` says the effects of ``keys`` (batched kinds)."""
        async with self._db.transaction() as tx:
            await self.store.settle(tx, keys, post_id)

    async def refused(self, keys: Sequence[str]) -> None:
        """Mattermost refused the post of ``keys`` for good (batched kinds)."""
        async with self._db.transaction() as tx:
            await self.store.fail(tx, keys)

    async def add(
        self,
        tx: Tx,
        *,
        key: str,
        kind: str,
        channel_id: str,
        message: str,
        props: dict[str, Any] | None = None,
        incident_id: str = "",
        data: dict[str, Any] | None = None,
        again: bool = False,
    ) -> bool:
        """Record a post to make (inside the caller's transaction); False if ``key`` exists.

        ``again``: an effect of this key that Mattermost refused earlier is tried once more
        (e.g. a card, which the re-sync keeps trying to post).
        """
        effect = self._effect(key, kind, channel_id, message, props, incident_id, data)
        if await self.store.add(tx, effect):
            if kind not in self._batched:  # those are posted by someone else (flush)
                if len(self._recorded) >= RECORDED_KEPT:  # never delivered (rolled back)
                    self._recorded.clear()
                self._recorded[key] = effect
            return True
        if again:
            await self.store.move(tx, key, EffectState.FAILED, EffectState.PENDING)
        return False

    async def record(
        self, tx: Tx, *, key: str, kind: str, channel_id: str, message: str, incident_id: str
    ) -> None:
        """:meth:`add` for a key new by construction (a change's lines: one saved version, one
        key each), whose answer nobody needs: it waits for nothing before ``tx`` ends."""
        effect = self._effect(key, kind, channel_id, message, None, incident_id, None)
        await self.store.record(tx, effect)

    def _effect(
        self,
        key: str,
        kind: str,
        channel_id: str,
        message: str,
        props: dict[str, Any] | None,
        incident_id: str,
        data: dict[str, Any] | None,
    ) -> Effect:
        return Effect(
            key=key,
            kind=kind,
            channel_id=channel_id,
            message=message,
            incident_id=incident_id,
            props=props or {},
            data=data or {},
            created_at=self._clock.now_ms(),
        )

    async def deliver(self, key: str, *, fresh: bool = False) -> str:
        """Make the post (or find the one an earlier attempt made) and complete it.

        ``fresh``: this process recorded the effect just now and has not tried it, so there
        is nothing to look for. Returns the post id ("" if refused earlier). Raises
        :class:`ChatRefused` when Mattermost refuses the post (the effect is then failed) and
        :class:`bot.errors.ChatUnavailable` when the outcome is unknown (it stays pending and
        is looked for before the next attempt).
        """
        return await self._deliver(key, fresh=fresh)

    async def _deliver(
        self,
        key: str,
        *,
        fresh: bool,
        made: asyncio.Future[None] | None = None,
        after: asyncio.Future[None] | None = None,
        before: asyncio.Future[Any] | None = None,
    ) -> str:
        """:meth:`deliver`; in a sequence (:meth:`deliver_in_order`) the post is made only
        once ``after`` (the one before it was made) is done, ``made`` is done once this one
        exists (or is known not to be made now; failed if it fails first), and the
        completion waits for ``before`` (the one before it of the same prefix) to end.

        A post just made has its id recorded (``posted``) while its completion runs: a kill
        before the record leaves it pending, so the next attempt finds it by its key."""
        async with self._locks.hold(key):
            try:
                # As recorded, when this process just recorded it and nobody delivered it
                # since (whoever did took the entry out, and then it is read).
                known = self._recorded.pop(key, None)
                effect = known if fresh and known is not None else await self.store.get(key)
                if after is not None:
                    await after  # raises when the one before failed: this one is not made
                if effect is None:
                    raise KeyError(key)
                if effect.state is EffectState.FAILED:
                    return ""
                post_id = effect.post_id
                if effect.state is EffectState.PENDING:
                    post_id = await self._post(effect, look_first=not fresh or effect.attempts > 0)
            except BaseException:
                if made is not None and not made.done():
                    made.set_exception(_Stopped(key))
                raise
            finally:
                if made is not None and not made.done():
                    made.set_result(None)
            if effect.state is EffectState.DONE:
                return post_id
            completion = self._completions.get(effect.kind)
            if completion is None:  # nothing follows: done at once, with its id
                await self._move(key, effect.state, EffectState.DONE, post_id=post_id)
                return post_id
            steps = [self._complete(effect, post_id, completion, before)]
            if effect.state is EffectState.PENDING:
                steps.append(self._move(key, effect.state, EffectState.POSTED, post_id=post_id))
            for result in await asyncio.gather(*steps, return_exceptions=True):
                if isinstance(result, BaseException):
                    raise result
            await self._move(key, EffectState.POSTED, EffectState.DONE)
            return post_id

    async def _complete(
        self,
        effect: Effect,
        post_id: str,
        completion: Completion,
        before: asyncio.Future[Any] | None,
    ) -> None:
        if before is not None:
            await asyncio.wait([before])
        await completion(effect, post_id)

    async def _move(
        self, key: str, old: EffectState, new: EffectState, *, post_id: str | None = None
    ) -> None:
        await self.store.move_now(key, old, new, post_id=post_id)

    async def deliver_in_order(
        self, keys: Sequence[tuple[str, bool]], *, first: asyncio.Event | None = None
    ) -> list[str]:
        """:meth:`deliver` each ``(key, fresh)``, in this order and overlapping: a post is made
        once the one before it is answered (so a channel shows them in this order; each one's
        effect is read meanwhile), and what follows each post (its id recorded, its
        completion: in order among keys of the same prefix, ``checklist:…``) runs while the
        next one is made. ``first`` is set once the first post exists (not if it fails).
        Returns the post ids; a failure stops the posts after it and is raised once the ones
        already made are finished."""
        loop = asyncio.get_running_loop()
        made: list[asyncio.Future[None]] = [loop.create_future() for _ in keys]
        if first is not None and made:

            def opened(done: asyncio.Future[None]) -> None:
                if not done.cancelled() and done.exception() is None:
                    first.set()

            made[0].add_done_callback(opened)
        tasks: list[asyncio.Future[str]] = []
        last: dict[str, asyncio.Future[str]] = {}  # completions of one prefix run in order
        try:
            for n, (key, fresh) in enumerate(keys):
                prefix = key.split(":", 1)[0]
                task = asyncio.ensure_future(
                    self._deliver(
                        key,
                        fresh=fresh,
                        made=made[n],
                        after=made[n - 1] if n else None,
                        before=last.get(prefix),
                    )
                )  # one post's own steps: awaited below with the others
                tasks.append(task)
                last[prefix] = task
            results = await asyncio.gather(*tasks, return_exceptions=True)
        finally:  # cut short (cancelled): none of them is left running on its own
            for left in tasks:
                left.cancel()
            for future in made:  # a stop told to nobody (the last one's) is no error
                if future.done() and not future.cancelled():
                    future.exception()
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise next((f for f in failures if not isinstance(f, _Stopped)), failures[0])
        return [r for r in results if isinstance(r, str)]

    async def _post(self, effect: Effect, *, look_first: bool) -> str:
        """Make the post (or find the one an earlier attempt made); its id (not recorded)."""
        found = None
        # A channel out of reach is not looked in: posting says so (and fails the effect).
        with contextlib.suppress(ChatRefused):
            if look_first:
                found = await self.finder.find(effect.channel_id, effect.key)
        if found:
            log.info("effect_post_found", key=effect.key, post_id=found)
            post_id = found
        else:
            try:
                post = await self._chat.create_post(
                    effect.channel_id, effect.message, props=keyed(effect.props, effect.key)
                )
            except ChatRefused as exc:
                log.warning("effect_refused", key=effect.key, error_id=exc.error_id)
                async with self._db.transaction() as tx:
                    await self.store.move(tx, effect.key, EffectState.PENDING, EffectState.FAILED)
                raise
            except Exception:
                await self.store.attempted(effect.key)  # the post may exist: look first next time
                raise
            crash_point(f"posted.{effect.kind}")
            post_id = post.id
        return post_id

    def deliver_later(self, key: str, *, report: Report | None) -> None:
        """Keep trying in the background, backing off (the re-sync also finishes it);
        ``report`` tells a person when Mattermost refuses it or every try failed."""
        self._spawn(f"effect-retry-{key}", self._retry(key), report=report)

    async def deliver_now_or_later(self, key: str, *, report: Report | None) -> str:
        """Deliver a fresh effect; on an unknown outcome keep trying in the background.

        Returns the post id, or "" when it is not known yet. A refusal still raises.
        """
        try:
            return await self.deliver(key, fresh=True)
        except ChatRefused:
            raise
        except Exception as exc:
            log.warning("effect_outcome_unknown", key=key, error=repr(exc))
            self.deliver_later(key, report=report)
            return ""

    async def _retry(self, key: str) -> None:
        """Raises when the effect failed for good (refused) or every try failed: the task's
        report then tells a person (the re-sync still finishes an effect left pending)."""
        last: Exception | None = None
        for delay in RETRY_DELAYS_S:
            await asyncio.sleep(delay)
            try:
                await self.deliver(key)
            except ChatRefused:
                raise
            except Exception as exc:
                log.warning("effect_retry_failed", key=key, error=repr(exc))
                last = exc
            else:
                return
        raise RuntimeError(f"effect {key} not delivered") from last

    async def flush(self) -> None:
        """Deliver and complete every unfinished effect (at start and after a reconnect)."""
        await self.store.prune(self._clock.now_ms() - KEEP_SETTLED_MS)
        batches: dict[str, list[Effect]] = {}
        for effect in await self.store.unfinished():
            if effect.kind in self._batched and effect.state is EffectState.PENDING:
                batches.setdefault(effect.kind, []).append(effect)
                continue
            try:
                await self.deliver(effect.key)
            except ChatRefused:
                continue
            except Exception:
                log.exception("effect_flush_failed", key=effect.key)
        for kind, effects in batches.items():
            self._batched[kind](effects)
