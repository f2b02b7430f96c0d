from pathlib import Path

import pytest

from bot.domain import transitions
from bot.domain.models import EventKind, IncidentStatus, Playbook
from bot.errors import InputError
from bot.store.db import Database
from bot.store.incidents import IncidentStore, StaleIncident
from bot.store.installation import Installation, InstallationStore
from bot.store.nonces import NonceStore, OneShot
from bot.store.playbooks import PlaybookStore

PB = Playbook(id="pb1", title="Outage", team_id="t" * 26)


def incident(n: int = 0):  # type: ignore[no-untyped-def]
    inc, events = transitions.new_incident(
        incident_id=f"{n:026d}",
        playbook=PB,
        team_id="t" * 26,
        channel_id=f"c{n:025d}",
        channel_name=f"inc-{n}",
        name=f"Incident {n}",
        description="",
        reporter_id="u" * 26,
        now=1000 + n,
    )
    return inc, events


async def test_migrations_apply_once_and_survive_reopen(tmp_path: Path) -> None:
    for _ in range(2):
        database = Database(tmp_path / "w.db")
        await database.open()
        async with database.conn.execute("SELECT count(*) FROM schema_migrations") as cur:
            row = await cur.fetchone()
        assert row is not None and row[0] >= 1
        async with database.conn.execute("PRAGMA journal_mode") as cur:
            mode = await cur.fetchone()
        assert mode is not None and mode[0] == "wal"
        await database.close()


async def test_incident_round_trip_and_optimistic_concurrency(db: Database) -> None:
    store = IncidentStore(db)
    inc, events = incident()
    async with db.transaction() as tx:
        await store.insert(tx, inc)
        await store.add_events(tx, inc.id, events)
    loaded = await store.by_channel(inc.channel_id)
    assert loaded == inc
    ended, end_events = transitions.end(inc, actor_id="a", now=2000)
    async with db.transaction() as tx:
        saved = await store.update(tx, ended)
        await store.add_events(tx, inc.id, end_events)
    assert saved.version == 1
    with pytest.raises(StaleIncident):
        async with db.transaction() as tx:
            await store.update(tx, ended)  # still version 0: someone saved in between
    assert [e.kind for e in await store.timeline(inc.id)] == [EventKind.CREATED, EventKind.ENDED]
    assert await store.list_team("t" * 26, status=IncidentStatus.ONGOING) == []


async def test_a_walk_gives_every_incident_once_a_page_at_a_time(db: Database) -> None:
    store = IncidentStore(db)
    other = "o" * 26
    async with db.transaction() as tx:
        for n in range(7):
            inc, _ = incident(n)
            if n % 3 == 0:
                inc = inc.model_copy(update={"status": IncidentStatus.ENDED})
            if n == 5:
                inc = inc.model_copy(update={"team_id": other})
            await store.insert(tx, inc)
    pages = [[i.id for i in page] async for page in store.pages(size=3)]
    assert pages == [[f"{n:026d}" for n in chunk] for chunk in ([0, 1, 2], [3, 4, 5], [6])]
    team = [i.id async for page in store.pages(team_id="t" * 26, size=2) for i in page]
    assert team == [f"{n:026d}" for n in (0, 1, 2, 3, 4, 6)]
    ongoing = [i.id async for i in store.each_ongoing()]
    assert ongoing == [i.id for i in await store.list_ongoing()]
    assert ongoing == [f"{n:026d}" for n in (1, 2, 4, 5)]


async def test_commander_history_follows_changes(db: Database) -> None:
    store = IncidentStore(db)
    inc, events = incident()
    _, change_events = transitions.change_commander(
        inc, actor_id="u" * 26, new_commander_id="b" * 26, now=3000
    )
    async with db.transaction() as tx:
        await store.insert(tx, inc)
        await store.add_events(tx, inc.id, [*events, *change_events])
    assert await store.commanders(inc.id) == [("u" * 26, 1000), ("b" * 26, 3000)]


async def test_a_failed_transaction_leaves_nothing(db: Database) -> None:
    store = IncidentStore(db)
    inc, _ = incident()

    async def fail_midway() -> None:
        async with db.transaction() as tx:
            await store.insert(tx, inc)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail_midway()
    assert await store.get(inc.id) is None


async def test_nonces_are_single_use(db: Database) -> None:
    nonces = NonceStore(db)
    assert await nonces.consume("n1", expires_at=5000, now=1000)
    assert await nonces.is_used("n1")
    assert not await nonces.consume("n1", expires_at=5000, now=1000)
    # expired nonces are forgotten; their tokens are refused by expiry anyway
    assert await nonces.consume("n2", expires_at=6000, now=9000)
    assert not await nonces.is_used("n1")


async def test_installation_and_playbooks_persist(db: Database) -> None:
    inst = InstallationStore(db)
    await inst.save(Installation(bot_user_id="b", bot_token="t", command_tokens={"team": "x"}))
    assert (await inst.load()).command_tokens == {"team": "x"}
    pbs = PlaybookStore(db)
    await pbs.replace_file_playbooks([PB], now=1)
    assert [p.title for p in await pbs.for_team("t" * 26)] == ["Outage"]
    await pbs.replace_file_playbooks([], now=2)
    assert await pbs.for_team("t" * 26) == []


async def test_a_nonce_is_spent_in_the_transaction_of_the_change_it_authorises(
    db: Database,
) -> None:
    """The rule: if the change rolls back, the nonce is not spent; if it commits, it is."""
    nonces = NonceStore(db)
    once = OneShot("n3", expires_at=5000)

    async def change_that_fails() -> None:
        async with db.transaction() as tx:
            assert await nonces.spend(tx, once, now=1000)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await change_that_fails()
    assert not await nonces.is_used("n3")
    async with db.transaction() as tx:
        assert await nonces.spend(tx, once, now=1000)
    assert await nonces.is_used("n3")
    async with db.transaction() as tx:
        assert not await nonces.spend(tx, once, now=1000)  # a replay
    await nonces.refund("n3")  # what it authorised was refused: usable again
    assert not await nonces.is_used("n3")


async def test_a_replayed_nonce_refuses_the_change_written_with_it(db: Database) -> None:
    """Rule: ``spend_or_refuse`` sends nothing until the transaction does; a nonce spent
    before then raises InputError ``stale_dialog`` and nothing written with it is kept."""
    store, nonces = IncidentStore(db), NonceStore(db)
    inc, _ = incident()
    once = OneShot("n4", expires_at=5000)
    async with db.transaction() as tx:
        await nonces.spend_or_refuse(tx, once, now=1000)
        await store.insert(tx, inc)
    assert await nonces.is_used("n4")
    ended, end_events = transitions.end(inc, actor_id="a", now=2000)

    async def replay() -> None:
        async with db.transaction() as tx:
            await store.update(tx, ended)
            await store.add_events(tx, inc.id, end_events)
            await nonces.spend_or_refuse(tx, once, now=1000)

    with pytest.raises(InputError) as refused:
        await replay()
    assert refused.value.reason == "stale_dialog"
    assert await store.get(inc.id) == inc
    assert await store.timeline(inc.id) == []


async def test_a_stale_save_keeps_nothing_of_its_transaction(db: Database) -> None:
    """Rule: the version check of ``update`` is made where the transaction reaches SQLite;
    when another version was saved, StaleIncident, and the events and lines written in
    that transaction are not kept."""
    store = IncidentStore(db)
    inc, events = incident()
    async with db.transaction() as tx:
        await store.insert(tx, inc)
        await store.add_events(tx, inc.id, events)
    ended, end_events = transitions.end(inc, actor_id="a", now=2000)
    async with db.transaction() as tx:
        await store.update(tx, ended)

    async def stale() -> None:
        async with db.transaction() as tx:
            await store.add_events(tx, inc.id, end_events)
            await store.update(tx, ended)  # still version 0
            await store.add_events(tx, inc.id, end_events)

    with pytest.raises(StaleIncident):
        await stale()
    assert [e.kind for e in await store.timeline(inc.id)] == [EventKind.CREATED]
