"""The SQLite database: one aiosqlite connection, WAL, foreign keys, numbered migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiosqlite

from bot.log import get_logger
from bot.services.ports import StoreUnavailable

log = get_logger(__name__)

CANNOT_OPEN: tuple[type[Exception], ...] = (OSError, sqlite3.Error)
"""What :meth:`Database.open` raises when its path cannot hold a database: the composition
root and the CLI catch these without naming the driver."""

_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)  # primary result codes
# Primary result codes that say the database cannot take a write now (locked past the busy
# timeout, disk full, I/O error, read-only file or directory, file gone): a person's change
# is refused with "try again" and nothing of it kept, never a traceback (sqlite.org/rescode.html).
_UNAVAILABLE = (
    *_BUSY,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_CANTOPEN,
)


def _unavailable(exc: sqlite3.OperationalError) -> StoreUnavailable | None:
    """The :class:`StoreUnavailable` ``exc`` means, or None when it is not about the store
    being unusable (a programming error: raised as it is)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None or code & 0xFF not in _UNAVAILABLE:
        return None
    reason = "database is locked" if code & 0xFF in _BUSY else "database cannot be written"
    return StoreUnavailable(f"{reason}: {exc}")


_T = TypeVar("_T")


def _migrations() -> list[tuple[int, str, str]]:
    files = resources.files("bot.store") / "migrations"
    found = []
    for entry in files.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


class CursorCall(Protocol):
    """What ``execute`` returns: awaited, the cursor; entered with ``async with``, the cursor,
    closed on leaving (aiosqlite's ``Result``)."""

    def __await__(self) -> Generator[Any, None, aiosqlite.Cursor]: ...
    async def __aenter__(self) -> aiosqlite.Cursor: ...
    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None: ...


class Statements(Protocol):
    """The statement calls of aiosqlite's ``Connection`` the stores use (:attr:`Database.conn`
    gives the connection's own, or a transaction's)."""

    def execute(self, sql: str, parameters: Iterable[Any] | None = None, /) -> CursorCall: ...
    def executemany(self, sql: str, parameters: Iterable[Iterable[Any]], /) -> CursorCall: ...
    def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None, /
    ) -> Awaitable[Iterable[sqlite3.Row]]: ...


class Database:
    """Owns the connection. Writes go through :meth:`transaction`, which serialises them
    (write-behind: one trip to SQLite's thread per transaction, see :class:`Tx`)."""

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        self._conn: aiosqlite.Connection | None = None
        self._raw: sqlite3.Connection | None = None  # the one aiosqlite's thread uses
        self._write_lock = asyncio.Lock()
        self._open_tx: Tx | None = None  # the transaction in progress (one at a time)
        self._functions: set[tuple[object, str]] = set()  # (connection, name) registered

    @property
    def conn(self) -> Statements:
        """The connection's statement calls (aiosqlite's). In the task that has a transaction
        open they are the transaction's (:attr:`Tx.conn`): its reads see what it wrote and
        queued (read your writes), whichever store method reads."""
        tx = self._open_tx
        if tx is not None and tx.task is asyncio.current_task():
            return tx.conn
        return self._connection

    @property
    def _connection(self) -> aiosqlite.Connection:
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
        async with self._conn.execute("PRAGMA journal_mode=WAL") as cur:
            self._raw = cur.connection  # used only in aiosqlite's thread (see Tx)
        await self._conn.execute("PRAGMA foreign_keys=ON")
        await self._conn.execute("PRAGMA synchronous=NORMAL")
        await self._conn.execute("PRAGMA busy_timeout=5000")
        await self._migrate()

    async def create_function(
        self, name: str, narg: int, func: Callable[..., object], *, deterministic: bool = False
    ) -> None:
        """Make ``func`` callable from SQL as ``name`` with ``narg`` arguments on the open
        connection (sqlite3's ``create_function``), once per connection: a second call with
        the same name while it is open does nothing. Raises ``RuntimeError`` when not open."""
        conn = self._connection
        if (conn, name) in self._functions:
            return
        await conn.create_function(name, narg, func, deterministic=deterministic)
        self._functions.add((conn, name))

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
            self._raw = None
            self._functions.clear()

    @property
    def _sqlite(self) -> sqlite3.Connection:
        if self._raw is None:
            raise RuntimeError("database is not open")
        return self._raw

    async def _migrate(self) -> None:
        conn = self._connection
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
                tx.later(
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
                mapped = _unavailable(exc)
                if mapped is None:
                    raise
                log.error("store_unavailable", error=str(exc))
                raise mapped from exc
            return cur.rowcount

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A write transaction: committed when the block ends, rolled back when it raises.

        Write-behind (see :class:`Tx`): BEGIN IMMEDIATE, the statements queued and COMMIT
        reach SQLite's thread in one trip when the block ends; a block that wrote nothing
        costs no trip. The commit is done when the block's ``async with`` returns (WAL,
        synchronous=NORMAL: durable across a kill of the process).

        Raises :class:`StoreUnavailable` when another process keeps the database locked
        past the busy timeout (5 s) or the file cannot be written (disk full, I/O error,
        read-only), and the error of a failed expectation (:class:`Expect`); either way
        nothing of the transaction is kept.
        """
        async with self._write_lock:
            tx = self._open_tx = Tx(self._connection, self._sqlite)
            try:
                yield tx
            except StoreUnavailable as exc:  # from a read in the block that sent the queue
                log.error("store_unavailable", error=str(exc))
                await tx.abandon()
                raise
            except BaseException:
                await tx.abandon()
                raise
            else:
                try:
                    await tx.commit()
                except StoreUnavailable as exc:
                    log.error("store_unavailable", error=str(exc))  # operators must act
                    raise
            finally:
                self._open_tx = None


@dataclass(frozen=True, slots=True)
class Expect:
    """What a queued statement must do (:meth:`Tx.later`), checked in SQLite's thread right
    after it runs: change exactly ``rows`` rows (None: any number) and not fail with the
    driver's ``driver`` error (None: no driver error is mapped). Otherwise ``error`` is raised
    in its place, from the trip that ran it, and the whole transaction is rolled back."""

    error: Exception
    rows: int | None = None
    driver: type[sqlite3.Error] | None = None


@dataclass(frozen=True, slots=True)
class _Step:
    sql: str
    args: Sequence[object] | Iterable[Sequence[object]] = ()
    many: bool = False
    expect: Expect | None = None

    def run(self, raw: sqlite3.Connection) -> None:
        try:
            if self.many:
                cur = raw.executemany(self.sql, self.args)  # type: ignore[arg-type]
            else:
                cur = raw.execute(self.sql, self.args)  # type: ignore[arg-type]
        except sqlite3.Error as exc:
            if self.expect is None or self.expect.driver is None:
                raise
            if not isinstance(exc, self.expect.driver):
                raise
            raise self.expect.error from exc
        expect = self.expect
        if expect is not None and expect.rows is not None and cur.rowcount != expect.rows:
            raise expect.error


_BEGIN = _Step("BEGIN IMMEDIATE")
_COMMIT = _Step("COMMIT")


def _send(
    raw: sqlite3.Connection,
    steps: Sequence[_Step],
    then: Callable[[sqlite3.Connection], _T] | None,
) -> _T | None:
    """Run in SQLite's thread: ``steps`` in order (a failing one rolls the transaction back
    and raises), then ``then`` (whose own failure leaves the transaction open, as a
    statement run alone would)."""
    try:
        for step in steps:
            try:
                step.run(raw)
            except sqlite3.OperationalError as exc:
                mapped = _unavailable(exc)
                if mapped is None:
                    raise
                raise mapped from exc
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise
    return None if then is None else then(raw)


def _rollback(raw: sqlite3.Connection) -> None:
    if raw.in_transaction:
        raw.execute("ROLLBACK")


async def _in_thread(conn: aiosqlite.Connection, fn: Callable[..., _T], *args: object) -> _T:
    """``fn(*args)`` in aiosqlite's thread (the one that owns the sqlite3 connection), after
    everything sent there before: one trip. aiosqlite has no public call for this, so this is
    the one place that uses its internal ``Connection._execute`` (aiosqlite's version range
    is pinned in pyproject.toml; tests/store/test_db.py fails clearly if the method is gone).
    """
    result: _T = await conn._execute(fn, *args)  # type: ignore[no-untyped-call]
    return result


class Tx:
    """A write transaction in progress: write-behind.

    A statement whose result the caller does not need is queued (:meth:`later`,
    :meth:`later_many`) and sent to SQLite's thread with the next statement that needs an
    answer (:meth:`fetch_all`, :meth:`fetch_one`, :meth:`now`, or any call through
    :attr:`conn`), or with COMMIT when the transaction's block ends: one trip for them all,
    BEGIN IMMEDIATE included in the first. Statements run in the order they were given, so
    a read in the transaction sees every write queued before it (read your writes).

    A queued statement whose outcome matters carries an :class:`Expect` (rows changed, a
    driver error mapped): when it is not met, its error is raised from the trip that ran it
    (a read, or the end of the block) and the transaction is rolled back in that same trip;
    the transaction is then over (using it again raises RuntimeError).
    """

    def __init__(self, conn: aiosqlite.Connection, sqlite: sqlite3.Connection) -> None:
        self._conn = conn
        self._sqlite = sqlite
        self.task = asyncio.current_task()  # the one whose reads are the transaction's
        self._queue: list[_Step] = []
        self._begun = False  # BEGIN IMMEDIATE was sent
        self._over = False  # committed, or rolled back by a failed step

    @property
    def conn(self) -> _Now:
        """The connection's ``execute``, ``executemany`` and ``execute_fetchall`` (aiosqlite's
        signatures and results), each run after what is queued, in the same trip."""
        return _Now(self)

    def later(self, sql: str, args: Sequence[object] = (), *, expect: Expect | None = None) -> None:
        """Queue ``sql`` (a statement whose result nobody reads) with ``args``."""
        self._check()
        self._queue.append(_Step(sql, args, expect=expect))

    def later_many(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        """Queue ``sql`` once for each of ``rows`` (``executemany``)."""
        self._check()
        self._queue.append(_Step(sql, list(rows), many=True))

    async def fetch_all(self, sql: str, args: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Every row ``sql`` reads in this transaction (after what is queued): one trip."""
        return await self.now(lambda raw: raw.execute(sql, args).fetchall())

    async def fetch_one(self, sql: str, args: Sequence[object] = ()) -> sqlite3.Row | None:
        """The first row ``sql`` reads in this transaction, or None: one trip."""
        return await self.now(lambda raw: raw.execute(sql, args).fetchone())

    async def now(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """``fn(sqlite3 connection)`` run in SQLite's thread after what is queued, in the
        same trip; its result. Raises what a queued step or ``fn`` raises."""
        self._check()
        steps = self._take()
        try:
            result = await _in_thread(self._conn, _send, self._sqlite, steps, fn)
        except BaseException:
            self._over = self._begun and not self._sqlite.in_transaction
            raise
        return result  # type: ignore[return-value]  # fn given: never None

    async def commit(self) -> None:
        """Send what is queued and COMMIT (nothing at all if nothing was ever queued)."""
        if self._over or not (self._begun or self._queue):
            self._over = True
            return
        steps = [*self._take(), _COMMIT]
        self._over = True
        await _in_thread(self._conn, _send, self._sqlite, steps, None)

    async def abandon(self) -> None:
        """Roll back (the block raised): what is queued is dropped unsent."""
        self._queue.clear()
        if self._begun and not self._over:
            self._over = True
            await _in_thread(self._conn, _rollback, self._sqlite)
        self._over = True

    def _take(self) -> list[_Step]:
        steps = self._queue if self._begun else [_BEGIN, *self._queue]
        self._queue = []
        self._begun = True
        return steps

    def _check(self) -> None:
        if self._over:
            raise RuntimeError("the transaction is over")

    async def executescript_in_tx(self, sql: str) -> None:
        # executescript() would COMMIT first; queue the statements one by one instead.
        for statement in _split_sql(sql):
            self.later(statement)


class _Now:
    """:attr:`Tx.conn`: aiosqlite's statement calls, each sent after what the transaction
    queued (one trip for both)."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def execute(self, sql: str, parameters: Iterable[Any] | None = None, /) -> _Cursor:
        args = () if parameters is None else parameters  # a sequence, or a mapping of names
        return _Cursor(self._tx, lambda raw: raw.execute(sql, args))  # type: ignore[arg-type]

    def executemany(self, sql: str, parameters: Iterable[Iterable[Any]], /) -> _Cursor:
        many = parameters
        return _Cursor(self._tx, lambda raw: raw.executemany(sql, many))  # type: ignore[arg-type]

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None, /
    ) -> Iterable[sqlite3.Row]:
        args = () if parameters is None else parameters
        return await self._tx.fetch_all(sql, args)  # type: ignore[arg-type]


class _Cursor:
    """What aiosqlite's ``execute`` returns: awaited, or entered with ``async with`` (the
    cursor is closed on leaving)."""

    def __init__(self, tx: Tx, run: Callable[[sqlite3.Connection], sqlite3.Cursor]) -> None:
        self._tx = tx
        self._run = run
        self._cursor: aiosqlite.Cursor | None = None

    def __await__(self) -> Generator[Any, None, aiosqlite.Cursor]:
        return self._open().__await__()

    async def _open(self) -> aiosqlite.Cursor:
        raw = await self._tx.now(self._run)
        self._cursor = aiosqlite.Cursor(self._tx._conn, raw)
        return self._cursor

    async def __aenter__(self) -> aiosqlite.Cursor:
        return await self._open()

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._cursor is not None:
            await self._cursor.close()


def _split_sql(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    text = "\n".join(line.split("--", 1)[0] for line in lines)
    return [part.strip() for part in text.split(";") if part.strip()]
