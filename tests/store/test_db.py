"""bot/store/db.py: opening the database, writing, and its write-behind transactions."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import sqlite3
import threading
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot.services.ports import StoreUnavailable
from bot.store import db as db_module
from bot.store.db import Database, Expect


async def test_a_path_that_cannot_be_opened_fails_before_any_worker_thread_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule: a database path SQLite cannot open raises from ``open()`` without starting
    aiosqlite's worker thread. aiosqlite stops a failed connection's thread without waiting
    for it, so that thread would later answer into a closed event loop and print a traceback
    after warroom's one-line start-up error."""
    started: list[str] = []
    real_start = threading.Thread.start

    def start(self: threading.Thread) -> None:
        started.append(self.name)
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", start)
    db = Database(tmp_path)  # a directory: SQLite cannot open it as a database file
    with pytest.raises(sqlite3.Error):
        await db.open()
    assert not [name for name in started if "_connection_worker_thread" in name]


async def test_a_database_another_process_keeps_locked_raises_the_ports_error(
    tmp_path: Path,
) -> None:
    """Rule (issue 12): storage errors reach the services as the ports' errors, never as the
    driver's: a write lock held elsewhere past the busy timeout is :class:`StoreUnavailable`,
    and the transaction that could not begin has changed nothing."""
    path = tmp_path / "w.db"
    holder, waiter = Database(path), Database(path)
    await holder.open()
    await waiter.open()
    try:
        await waiter.conn.execute("PRAGMA busy_timeout=0")  # no 5-second wait in a test
        async with holder.transaction() as tx:
            await tx.conn.execute("INSERT INTO used_nonces (nonce, expires_at) VALUES ('a', 1)")
            with pytest.raises(StoreUnavailable, match="locked"):
                async with waiter.transaction() as late:  # BEGIN is sent with its first write
                    late.later("INSERT INTO used_nonces (nonce, expires_at) VALUES ('c', 1)")
        async with waiter.transaction() as tx:  # free again: the waiter writes
            await tx.conn.execute("INSERT INTO used_nonces (nonce, expires_at) VALUES ('b', 1)")
        async with holder.conn.execute("SELECT count(*) FROM used_nonces") as cur:
            assert tuple(await cur.fetchone() or ()) == (2,)
    finally:
        await waiter.close()
        await holder.close()


async def test_a_lone_write_is_never_part_of_a_transaction_in_progress(tmp_path: Path) -> None:
    """The rule behind Database.write: one statement, its own transaction, after the open one
    (so a rollback of that one cannot take it along)."""
    db = Database(tmp_path / "w.db")
    await db.open()
    try:
        await db.conn.execute("CREATE TABLE t (v INTEGER)")
        entered = asyncio.Event()

        async def rolled_back() -> None:
            with contextlib.suppress(RuntimeError):
                async with db.transaction() as tx:
                    await tx.conn.execute("INSERT INTO t VALUES (1)")
                    entered.set()
                    await asyncio.sleep(0.05)  # the lone write waits meanwhile
                    raise RuntimeError("rolled back")

        inside = asyncio.create_task(rolled_back())
        await entered.wait()
        assert await db.write("INSERT INTO t VALUES (2)") == 1
        await inside
        assert [r[0] for r in await db.fetch_all("SELECT v FROM t")] == [2]
        other = Database(tmp_path / "w.db")  # another process holding the lock: the ports' error
        await other.open()
        try:
            await other.conn.execute("PRAGMA busy_timeout=0")
            async with db.transaction() as tx:
                await tx.conn.execute("INSERT INTO t VALUES (3)")
                with pytest.raises(StoreUnavailable, match="locked"):
                    await other.write("INSERT INTO t VALUES (4)")
        finally:
            await other.close()
    finally:
        await db.close()


# ---- the write-behind transaction (Tx) ------------------------------------------------------


class Refused(Exception):
    """An error an expectation raises in the tests below."""


async def nonces(db: Database) -> list[tuple[str, int]]:
    rows = await db.conn.execute_fetchall(
        "SELECT nonce, expires_at FROM used_nonces ORDER BY nonce"
    )
    return [(str(r[0]), int(r[1])) for r in rows]


ADD = "INSERT INTO used_nonces (nonce, expires_at) VALUES (?, ?)"


def test_aiosqlite_still_offers_the_call_the_store_runs_its_transactions_with() -> None:
    """Rule: a transaction is sent to aiosqlite's thread through its internal
    ``Connection._execute`` (bot/store/db.py ``_in_thread``, the one place that uses it).
    If an aiosqlite release drops it, this fails first: pin the older release, or find
    another way into that thread."""
    execute = getattr(aiosqlite.Connection, "_execute", None)
    assert callable(execute), (
        "aiosqlite.Connection._execute is gone: bot/store/db.py _in_thread needs another way"
        " to run a function in aiosqlite's thread (see the pin in pyproject.toml)"
    )
    assert list(inspect.signature(execute).parameters)[:2] == ["self", "fn"]


async def test_a_transaction_reaches_sqlite_in_one_trip(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule (issue 12): BEGIN, the statements whose result nobody reads and COMMIT are sent
    to SQLite's thread together; a transaction that wrote nothing sends nothing."""
    trips: list[str] = []
    real = db_module._in_thread

    async def counted(conn: aiosqlite.Connection, fn: Any, *args: object) -> Any:
        trips.append(getattr(fn, "__name__", "?"))
        return await real(conn, fn, *args)

    monkeypatch.setattr(db_module, "_in_thread", counted)
    async with db.transaction() as tx:
        for n in range(5):
            tx.later(ADD, (f"n{n}", n))
        tx.later_many(ADD, [("m1", 1), ("m2", 2)])
    assert len(trips) == 1
    async with db.transaction():
        pass
    assert len(trips) == 1
    assert len(await nonces(db)) == 7


async def test_a_read_in_a_transaction_sees_the_writes_queued_before_it(db: Database) -> None:
    """Rule: read your writes. A read in the transaction first sends what is queued, in
    order, and reads in the same trip."""
    async with db.transaction() as tx:
        tx.later(ADD, ("a", 1))
        tx.later("UPDATE used_nonces SET expires_at = expires_at + 10 WHERE nonce = ?", ("a",))
        row = await tx.fetch_one("SELECT expires_at FROM used_nonces WHERE nonce = ?", ("a",))
        assert row is not None and row[0] == 11
        tx.later(ADD, ("b", 2))
        rows = await tx.fetch_all("SELECT nonce FROM used_nonces ORDER BY nonce")
        assert [r[0] for r in rows] == ["a", "b"]
        cur = await tx.conn.execute("DELETE FROM used_nonces WHERE nonce = ?", ("b",))
        assert cur.rowcount == 1  # a statement run through conn: after the queue, its answer
    assert await nonces(db) == [("a", 11)]


async def test_queued_statements_run_in_the_order_they_were_given(db: Database) -> None:
    """Rule: the queue keeps the order: each statement sees the ones before it."""
    async with db.transaction() as tx:
        tx.later(ADD, ("x", 1))
        tx.later("UPDATE used_nonces SET expires_at = expires_at * 10", ())
        tx.later(ADD, ("y", 2))
        tx.later("UPDATE used_nonces SET expires_at = expires_at + 1", ())
        tx.later("DELETE FROM used_nonces WHERE expires_at = ?", (3,))  # y: 2 + 1
        tx.later(ADD, ("y", 5))
    assert await nonces(db) == [("x", 11), ("y", 5)]


async def test_an_expectation_not_met_raises_its_error_and_keeps_nothing(db: Database) -> None:
    """Rule: a statement whose row count matters carries its expectation; when it is not
    met, its error is raised from the trip that ran it, and every statement of the
    transaction, sent in an earlier trip or queued with it, is rolled back."""
    async with db.transaction() as tx:
        tx.later(ADD, ("kept", 1))

    async def change() -> None:
        async with db.transaction() as tx:
            tx.later(ADD, ("early", 1))
            assert await tx.fetch_one("SELECT 1 FROM used_nonces WHERE nonce = 'early'")
            tx.later(ADD, ("queued", 2))
            tx.later(
                "UPDATE used_nonces SET expires_at = 9 WHERE nonce = ?",
                ("absent",),
                expect=Expect(Refused("absent"), rows=1),
            )
            tx.later(ADD, ("after", 3))

    with pytest.raises(Refused, match="absent"):
        await change()
    assert await nonces(db) == [("kept", 1)]


async def test_an_expectation_not_met_before_a_read_ends_the_transaction(db: Database) -> None:
    """Rule: the read that sent a failing statement raises its error; the transaction is
    rolled back in that trip and cannot be used any more."""
    used_after: list[BaseException] = []

    async def change() -> None:
        async with db.transaction() as tx:
            tx.later(ADD, ("a", 1))
            tx.later(ADD, ("a", 2), expect=Expect(Refused(), driver=sqlite3.IntegrityError))
            try:
                await tx.fetch_all("SELECT nonce FROM used_nonces")
            finally:
                try:
                    tx.later(ADD, ("b", 1))
                except RuntimeError as exc:
                    used_after.append(exc)

    with pytest.raises(Refused):
        await change()
    assert [str(e) for e in used_after] == ["the transaction is over"]
    assert await nonces(db) == []


async def test_an_error_of_the_driver_is_raised_as_the_expectation_maps_it(db: Database) -> None:
    """Rule: a driver error named by the expectation reaches the caller as the error the
    expectation gives (the ports' own), the driver's as its cause; one it does not name
    stays the driver's. Either way nothing is kept."""
    async with db.transaction() as tx:
        tx.later(ADD, ("a", 1))

    async def add_again(nonce: str, expect: Expect) -> None:
        async with db.transaction() as tx:
            tx.later(ADD, (nonce, 1))
            tx.later(ADD, ("a", 1), expect=expect)

    taken = Expect(Refused("taken"), driver=sqlite3.IntegrityError)
    with pytest.raises(Refused, match="taken") as raised:
        await add_again("b", taken)
    assert isinstance(raised.value.__cause__, sqlite3.IntegrityError)
    with pytest.raises(sqlite3.IntegrityError):
        await add_again("c", Expect(Refused("rows"), rows=1))  # maps no driver error
    assert await nonces(db) == [("a", 1)]


async def test_a_block_that_raises_sends_nothing_it_queued(db: Database) -> None:
    """Rule: leaving the block by an exception rolls back what was sent and drops what was
    queued; the next transaction starts clean."""

    async def change() -> None:
        async with db.transaction() as tx:
            tx.later(ADD, ("sent", 1))
            await tx.fetch_all("SELECT 1")
            tx.later(ADD, ("queued", 2))
            raise Refused("the change failed")

    with pytest.raises(Refused):
        await change()
    async with db.transaction() as tx:
        tx.later(ADD, ("next", 3))
    assert await nonces(db) == [("next", 3)]


async def test_a_read_through_the_database_in_the_transactions_task_sees_its_writes(
    db: Database,
) -> None:
    """Rule: read your writes whichever store method reads: in the task that has the
    transaction open, the database's own statement calls are the transaction's (a hook that
    renders the incident it is saving reads the timeline rows just queued)."""
    async with db.transaction() as tx:
        tx.later(ADD, ("a", 1))
        rows = await db.conn.execute_fetchall("SELECT nonce FROM used_nonces")
        assert [r[0] for r in rows] == ["a"]
        tx.later(ADD, ("b", 2))
        async with db.conn.execute("SELECT count(*) FROM used_nonces") as cur:
            assert tuple(await cur.fetchone() or ()) == (2,)
    assert await nonces(db) == [("a", 1), ("b", 2)]
