"""bot/store/db.py: opening the database, writing."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.services.ports import StoreUnavailable
from bot.store.db import Database


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
                async with waiter.transaction():
                    pass
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
