"""The SQLite database: one aiosqlite connection, WAL, foreign keys, numbered migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import aiosqlite

from bot.log import get_logger
from bot.services.ports import StoreUnavailable

log = get_logger(__name__)

CANNOT_OPEN: tuple[type[Exception], ...] = (OSError, sqlite3.Error)
"""What :meth:`Database.open` raises when its path cannot hold a database: the composition
root and the CLI catch these without naming the driver."""

_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)  # primary result codes


def _migrations() -> list[tuple[int, str, str]]:
    files = resources.files("bot.store") / "migrations"
    found = []
    for entry in files.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    """Owns the connection. Writes go through :meth:`transaction`, which serialises them."""

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        self._conn: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    async def open(self) -> None:
        """Open (creating the file and its directory when missing) and migrate.

        Raises one of :data:`CANNOT_OPEN` when the path cannot hold a database.
        """
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            # Found out here, on no thread: when aiosqlite's own connect fails it stops its
            # worker thread without waiting, and that thread later answers into an event loop
            # that may be closed by then (a traceback after the one-line start-up error).
            sqlite3.connect(self._path).close()
        self._conn = await aiosqlite.connect(self._path, isolation_level=None)
        self._conn.row_factory = aiosqlite.Row
        await self._conn.execute("PRAGMA journal_mode=WAL")
        await self._conn.execute("PRAGMA foreign_keys=ON")
        await self._conn.execute("PRAGMA synchronous=NORMAL")
        await self._conn.execute("PRAGMA busy_timeout=5000")
        await self._migrate()

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _migrate(self) -> None:
        conn = self.conn
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
        )
        async with conn.execute("SELECT version FROM schema_migrations") as cur:
            applied = {row[0] for row in await cur.fetchall()}
        for version, name, sql in _migrations():
            if version in applied:
                continue
            async with self.transaction() as tx:
                await tx.executescript_in_tx(sql)
                await tx.conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, name)
                )
            log.info("migration_applied", version=version, name=name)

    async def fetch_one(self, sql: str, args: Sequence[object] = ()) -> sqlite3.Row | None:
        """The first row ``sql`` reads, or None: one trip to SQLite's thread (a cursor opened,
        read and closed by hand takes three)."""
        rows = await self.conn.execute_fetchall(sql, args)
        return next(iter(rows), None)

    async def fetch_all(self, sql: str, args: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Every row ``sql`` reads, in one trip to SQLite's thread."""
        return list(await self.conn.execute_fetchall(sql, args))

    async def write(self, sql: str, args: Sequence[object] = ()) -> int:
        """Run one writing statement as a transaction of its own (SQLite makes a lone
        statement atomic and durable by itself): one trip to SQLite's thread where
        BEGIN, the statement and COMMIT take three. Returns the rows it changed.

        Raises :class:`StoreUnavailable` when another process keeps the database locked
        past the busy timeout (as :meth:`transaction` does)."""
        async with self._write_lock:
            try:
                cur = await self.conn.execute(sql, args)
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF not in _BUSY:
                    raise
                raise StoreUnavailable(f"database is locked: {exc}") from exc
            return cur.rowcount

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A write transaction: committed when the block ends, rolled back when it raises.

        Raises :class:`StoreUnavailable` when another process keeps the database locked
        past the busy timeout (5 s).
        """
        async with self._write_lock:
            conn = self.conn
            try:
                await conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF not in _BUSY:
                    raise
                raise StoreUnavailable(f"database is locked: {exc}") from exc
            try:
                yield Tx(conn)
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            else:
                await conn.execute("COMMIT")


class Tx:
    """A write transaction in progress."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def fetch_one(self, sql: str, args: Sequence[object] = ()) -> sqlite3.Row | None:
        """The first row ``sql`` reads in this transaction, or None (one trip)."""
        rows = await self.conn.execute_fetchall(sql, args)
        return next(iter(rows), None)

    async def executescript_in_tx(self, sql: str) -> None:
        # executescript() would COMMIT first; run the statements one by one instead.
        for statement in _split_sql(sql):
            await self.conn.execute(statement)


def _split_sql(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    text = "\n".join(line.split("--", 1)[0] for line in lines)
    return [part.strip() for part in text.split(";") if part.strip()]
