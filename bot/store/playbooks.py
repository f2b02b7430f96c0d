"""Playbooks in SQLite: the file's set is replaced as a whole on (re)load."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence

from bot.domain.models import Playbook
from bot.errors import InputError
from bot.store.db import Database, Tx

InTx = Callable[[Tx], Awaitable[None]]
"""A step run first in a change's own transaction (e.g. spending the dialog's nonce); it
raises to roll the change back."""


class PlaybookStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def replace_file_playbooks(self, playbooks: Sequence[Playbook], now: int) -> None:
        async with self._db.transaction() as tx:
            await tx.conn.execute("DELETE FROM playbooks WHERE source = 'file'")
            for pb in playbooks:
                await tx.conn.execute(
                    "INSERT INTO playbooks (id, team_id, title, source, body, updated_at)"
                    " VALUES (?, ?, ?, 'file', ?, ?)",
                    (pb.id, pb.team_id, pb.title, pb.model_dump_json(), now),
                )

    async def upsert(self, playbook: Playbook, now: int, *, also: InTx | None = None) -> None:
        """Insert or replace ``playbook``; ``also`` runs first in the same transaction.
        Raises :class:`InputError` ("duplicate_title", field "title") when another playbook
        of the team has that title (any case)."""
        try:
            await self._upsert(playbook, now, also)
        except sqlite3.IntegrityError:
            raise InputError("duplicate_title", field="title") from None

    async def _upsert(self, playbook: Playbook, now: int, also: InTx | None) -> None:
        async with self._db.transaction() as tx:
            if also is not None:
                await also(tx)
            await tx.conn.execute(
                "INSERT INTO playbooks (id, team_id, title, source, body, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                " team_id = excluded.team_id, title = excluded.title, body = excluded.body,"
                " updated_at = excluded.updated_at",
                (
                    playbook.id,
                    playbook.team_id,
                    playbook.title,
                    playbook.source,
                    playbook.model_dump_json(),
                    now,
                ),
            )

    async def delete(self, playbook_id: str, *, also: InTx | None = None) -> None:
        """Delete the playbook; ``also`` runs first in the same transaction."""
        async with self._db.transaction() as tx:
            if also is not None:
                await also(tx)
            await tx.conn.execute("DELETE FROM playbooks WHERE id = ?", (playbook_id,))

    async def get(self, playbook_id: str) -> Playbook | None:
        row = await self._db.fetch_one("SELECT body FROM playbooks WHERE id = ?", (playbook_id,))
        return None if row is None else Playbook.model_validate_json(row[0])

    async def for_team(self, team_id: str) -> list[Playbook]:
        rows = await self._db.fetch_all(
            "SELECT body FROM playbooks WHERE team_id = ? ORDER BY lower(title)", (team_id,)
        )
        return [Playbook.model_validate_json(r[0]) for r in rows]

    async def file_playbooks(self) -> list[Playbook]:
        """Every playbook from ``playbooks.yaml`` (the last good set), all teams."""
        async with self._db.conn.execute(
            "SELECT body FROM playbooks WHERE source = 'file' ORDER BY id"
        ) as cur:
            rows = await cur.fetchall()
        return [Playbook.model_validate_json(r[0]) for r in rows]
