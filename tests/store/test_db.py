"""bot/store/db.py: opening the database."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

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
