"""Members ever involved and pinned posts in SQLite: one row per person, one event per post."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.models import EventKind, TimelineEvent
from bot.store.db import Database
from bot.store.incidents import IncidentStore
from bot.store.review import ReviewStore
from tests.store.test_store import incident

A, B = "a" * 26, "b" * 26


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "w.db")
    await database.open()
    inc, _ = incident(1)
    async with database.transaction() as tx:
        await IncidentStore(database).insert(tx, inc)
    yield database
    await database.close()


async def test_join_leave_rejoin_counts_people_once(db: Database) -> None:
    store, inc_id = ReviewStore(db), incident(1)[0].id
    assert not await store.tracked(inc_id)
    assert await store.join(inc_id, [A], 10, events=False) == [A]
    assert await store.tracked(inc_id)
    assert await store.join(inc_id, [A, B], 20) == [B]
    assert await store.leave(inc_id, [B, B], 30) == [B]
    assert await store.leave(inc_id, [B], 31) == []
    assert await store.join(inc_id, [B], 40) == [B]
    assert await store.present(inc_id) == {A, B}
    assert await store.ever_involved(inc_id) == 2
    events = await IncidentStore(db).timeline(inc_id)
    assert [(e.kind, e.actor_id, e.at) for e in events] == [
        (EventKind.MEMBER_JOINED, B, 20),
        (EventKind.MEMBER_LEFT, B, 30),
        (EventKind.MEMBER_JOINED, B, 40),
    ]


async def test_a_post_is_pinned_once_and_unpinned(db: Database) -> None:
    store, inc_id = ReviewStore(db), incident(1)[0].id
    event = TimelineEvent(kind=EventKind.POST_PINNED, at=5, actor_id=A, data={"post_id": "p"})
    assert await store.pin(inc_id, event, "p")
    assert not await store.pin(inc_id, event.model_copy(update={"actor_id": B}), "p")
    assert [e.actor_id for e in await IncidentStore(db).timeline(inc_id)] == [A]
    assert await store.unpin(inc_id, "p")
    assert not await store.unpin(inc_id, "p")
    assert await IncidentStore(db).timeline(inc_id) == []


async def test_window_and_channel_name_lookups(db: Database) -> None:
    store = ReviewStore(db)
    inc = incident(1)[0]
    assert [i.id for i in await store.team_window(inc.team_id, 10**12)] == [inc.id]  # ongoing
    found = await store.by_channel_name(inc.team_id, inc.channel_name)
    assert found is not None and found.id == inc.id
    assert await store.by_channel_name(inc.team_id, "nope") is None
