"""Memberships of channels warroom makes (bot/services/memberships.py): known unlisted, or not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.transport.events import UserAdded, UserRemoved
from tests.scenarios.harness import World, world


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path) as built:
        await built.listening()
        yield built


async def test_a_channel_warroom_made_is_known_from_what_it_added_unless_someone_left(
    w: World,
) -> None:
    """The rule: warroom records the members of a channel it made without listing them only
    when it followed every change since the channel was made; else it lists it later."""
    members = w.app.services.memberships
    since = w.app.services.clock.now_ms()
    store = members._store  # what was recorded, not what a read would list

    members.watch("made-1")
    await members.on_added(
        UserAdded(seq=1, user_id=w.carol.id, channel_id="made-1")
    )  # joined alone
    assert await members.made("made-1", [w.alice.id], since=since)
    assert set(await store.members("made-1", since=since) or []) == {
        w.bot.id,
        w.alice.id,
        w.carol.id,
    }
    assert not members.being_set_up("made-1")

    members.watch("made-2")
    await members.on_removed(UserRemoved(seq=2, user_id=w.bob.id, channel_id="made-2"))
    assert not await members.made("made-2", [w.alice.id, w.bob.id], since=since)
    assert await store.members("made-2", since=since) is None  # unknown: listed when needed

    assert not await members.made("never-watched", [w.alice.id], since=since)


async def test_a_confirmed_membership_is_asked_of_the_store_again_once_anyone_left(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rule: a membership the store confirmed is answered from memory (every change of
    a task asks it) until someone is removed, the channel is listed again or the stream
    starts over; then the store is asked again, and says what it now knows."""
    incident = await w.start_incident(w.alice, "Kept")
    members = w.app.services.memberships
    asked: list[str] = []
    real = members._store.is_member

    async def counted(channel_id: str, user_id: str, *, since: int) -> bool | None:
        asked.append(user_id)
        return await real(channel_id, user_id, since=since)

    monkeypatch.setattr(members._store, "is_member", counted)
    channel = incident.channel_id
    assert await members.is_member(channel, w.alice.id)
    assert await members.is_member(channel, w.alice.id)
    assert asked == [w.alice.id]
    await members.on_removed(UserRemoved(seq=90, user_id=w.alice.id, channel_id=channel))
    assert await members.is_member(channel, w.alice.id) is False
    assert asked == [w.alice.id, w.alice.id]
    await members.on_added(UserAdded(seq=91, user_id=w.alice.id, channel_id=channel))
    assert await members.is_member(channel, w.alice.id)
    await members.seed(channel)  # listed again
    assert await members.is_member(channel, w.alice.id)
    assert len(asked) == 4
    members.stream_started()  # a new stream: what the last one confirmed is asked again
    await members.is_member(channel, w.alice.id)
    assert len(asked) == 5
