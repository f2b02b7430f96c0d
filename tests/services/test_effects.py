"""The outbox (bot/services/effects.py): each post made once, whatever Mattermost answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.outbox import Effect, EffectState
from bot.errors import ChatUnavailable
from bot.render.keys import KEY_PROP
from bot.services.effects import Outbox
from bot.services.ports import ChatRefused
from tests.double.faults import ActThenDrop, Refuse
from tests.scenarios.harness import World, world

POSTS = r"^/api/v4/posts$"


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path) as built:
        yield built


def outbox(w: World) -> Outbox:
    return w.app.services.incidents.outbox


async def record(w: World, key: str, kind: str = "test") -> bool:
    async with w.app.db.transaction() as tx:
        return await outbox(w).add(
            tx, key=key, kind=kind, channel_id=w.town.id, message=f"post {key}"
        )


def posts_with(w: World, key: str) -> list[str]:
    return [p["id"] for p in w.mm.posts(w.town.id) if p["props"].get(KEY_PROP) == key]


async def test_a_post_whose_outcome_is_unknown_is_looked_for_before_it_is_made_again(
    w: World,
) -> None:
    """The rule: warroom never re-posts what it may have posted without looking for it."""
    completed: list[tuple[str, str]] = []

    async def complete(effect: Effect, post_id: str) -> None:
        completed.append((effect.key, post_id))

    outbox(w).on_posted("test", complete)
    assert await record(w, "k1", "test")
    w.mm.faults.inject("POST", POSTS, ActThenDrop())
    with pytest.raises(ChatUnavailable):
        await outbox(w).deliver("k1", fresh=True)
    [made] = posts_with(w, "k1")  # the server made it; warroom did not hear back
    effect = await outbox(w).store.get("k1")
    assert effect is not None and effect.state is EffectState.PENDING and effect.attempts == 1
    assert await outbox(w).deliver("k1") == made
    assert posts_with(w, "k1") == [made]
    assert completed == [("k1", made)]
    # done: delivering again neither posts nor completes a second time
    assert await outbox(w).deliver("k1") == made
    assert completed == [("k1", made)] and posts_with(w, "k1") == [made]


async def test_a_fresh_effect_is_posted_without_a_look_back(w: World) -> None:
    assert await record(w, "k2")
    w.mm.requests.clear()
    post_id = await outbox(w).deliver("k2", fresh=True)
    assert posts_with(w, "k2") == [post_id]
    assert not [r for r in w.mm.requests if r.method == "GET" and "/posts" in r.path]


async def test_a_key_is_recorded_once(w: World) -> None:
    assert await record(w, "k3")
    assert not await record(w, "k3")


async def test_a_refused_post_fails_for_good_until_tried_again_on_purpose(w: World) -> None:
    assert await record(w, "k4")
    w.mm.faults.inject("POST", POSTS, Refuse(500))
    with pytest.raises(ChatUnavailable):
        await outbox(w).deliver("k4", fresh=True)
    await outbox(w).flush()  # the re-sync: looked for, not found, posted
    assert len(posts_with(w, "k4")) == 1
    archived = w.mm.add_channel(w.team.id, "elsewhere", private=True, members=[w.alice.id])
    async with w.app.db.transaction() as tx:
        await outbox(w).add(tx, key="k5", kind="test", channel_id=archived.id, message="x")
    with pytest.raises(ChatRefused):
        await outbox(w).deliver("k5", fresh=True)
    await outbox(w).flush()
    effect = await outbox(w).store.get("k5")
    assert effect is not None and effect.state is EffectState.FAILED
    async with w.app.db.transaction() as tx:
        again = await outbox(w).add(
            tx, key="k5", kind="test", channel_id=archived.id, message="x", again=True
        )
    assert not again
    effect = await outbox(w).store.get("k5")
    assert effect is not None and effect.state is EffectState.PENDING


async def test_a_background_delivery_that_fails_for_good_is_reported(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kind 6: a post retried in the background that is refused, or never gets through,
    reaches its report (a person is told), not just the log."""
    monkeypatch.setattr("bot.services.effects.RETRY_DELAYS_S", (0.0, 0.0))
    reported: list[str] = []

    async def report(exc: BaseException) -> None:
        reported.append(type(exc).__name__)

    closed = w.mm.add_channel(w.team.id, "closed", private=True, members=[w.alice.id])
    async with w.app.db.transaction() as tx:
        await outbox(w).add(tx, key="r1", kind="test", channel_id=closed.id, message="x")
    outbox(w).deliver_later("r1", report=report)  # refused: the bot is not in that channel
    await w.settle()
    assert reported == ["ChatRefused"]
    assert await record(w, "r2")
    w.mm.faults.inject("POST", POSTS, Refuse(500), times=None)  # never gets through
    outbox(w).deliver_later("r2", report=report)
    await w.settle()
    assert reported == ["ChatRefused", "RuntimeError"]
    assert posts_with(w, "r1") == [] and posts_with(w, "r2") == []


async def test_posts_delivered_in_order_show_in_that_order_and_a_refusal_stops_the_rest(
    w: World,
) -> None:
    """The rule behind overlapping: each post is made only once the one before it is
    answered, and what follows a post (its completion) runs in order for one prefix."""
    completed: list[str] = []

    async def complete(effect: Effect, post_id: str) -> None:
        if effect.key == "seq:1":
            await asyncio.sleep(0.05)  # the slow first one still completes first
        completed.append(effect.key)

    outbox(w).on_posted("seq", complete)
    keys = [f"seq:{n}" for n in range(1, 5)]
    fresh = [(key, await record(w, key, "seq")) for key in keys]
    ids = await outbox(w).deliver_in_order(fresh)
    assert [p["id"] for p in w.mm.posts(w.town.id) if p["props"].get(KEY_PROP) in keys] == ids
    assert completed == keys
    for key in keys:
        effect = await outbox(w).store.get(key)
        assert effect is not None and effect.state is EffectState.DONE

    closed = w.mm.add_channel(w.team.id, "closed", private=True, members=[w.alice.id])
    assert await record(w, "stop:1")
    async with w.app.db.transaction() as tx:
        await outbox(w).add(tx, key="stop:2", kind="test", channel_id=closed.id, message="x")
    assert await record(w, "stop:3")
    with pytest.raises(ChatRefused):
        await outbox(w).deliver_in_order([("stop:1", True), ("stop:2", True), ("stop:3", True)])
    assert len(posts_with(w, "stop:1")) == 1
    assert posts_with(w, "stop:3") == []  # not made after the refusal: left for the re-sync
    effect = await outbox(w).store.get("stop:3")
    assert effect is not None and effect.state is EffectState.PENDING


async def test_a_post_just_recorded_is_made_as_recorded_unless_delivered_since(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its first delivery does not read it back; a delivery by anyone else in between (the
    re-sync) takes that out, so the first one then reads it and sees it made: one post."""
    store = outbox(w).store
    reads: list[str] = []
    get = store.get

    async def counted(key: str) -> Effect | None:
        reads.append(key)
        return await get(key)

    monkeypatch.setattr(store, "get", counted)
    assert await record(w, "k5")
    made = await outbox(w).deliver("k5", fresh=True)
    assert reads == [] and posts_with(w, "k5") == [made]
    assert await record(w, "k6")
    again = await outbox(w).deliver("k6")  # someone else's, e.g. the re-sync's
    assert await outbox(w).deliver("k6", fresh=True) == again
    assert reads == ["k6", "k6"] and posts_with(w, "k6") == [again]
