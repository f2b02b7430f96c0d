"""Starts in progress: the intent of a start, recorded before its channel is created."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from bot.domain.starts import StartRecord, StartState
from bot.services.ports import NameTaken
from bot.store.db import Database, Tx

# StartRecord, StartState: the domain's; NameTaken: the ports'
__all__ = ["NameTaken", "StartRecord", "StartState", "StartStore"]


_KEYS = ("id", "team_id", "channel_name", "state", "request", "steps", "created_at")


def _row(row: Sequence[object]) -> StartRecord:
    values = dict(zip(_KEYS, row, strict=True))
    values["steps"] = json.loads(str(values["steps"]))
    return StartRecord.model_validate(values)


class StartStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, start_id: str) -> StartRecord | None:
        found = await self._many("WHERE id = ?", (start_id,))
        return found[0] if found else None

    async def unfinished(self) -> list[StartRecord]:
        """Starts a kill, an outage or a lost answer left creating or created, oldest first."""
        return await self._many("WHERE state IN ('creating', 'created') ORDER BY created_at, id")

    async def _many(self, where: str, args: Sequence[object] = ()) -> list[StartRecord]:
        sql = f"SELECT {', '.join(_KEYS)} FROM starts {where}"  # noqa: S608 - constant parts
        return [_row(r) for r in await self._db.fetch_all(sql, args)]

    async def add(
        self, tx: Tx, *, start_id: str, team_id: str, channel_name: str, request: str, now: int
    ) -> None:
        """Record the intent and reserve ``channel_name``; :class:`NameTaken` if reserved."""
        try:
            await tx.conn.execute(
                "INSERT INTO starts (id, team_id, channel_name, request, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (start_id, team_id, channel_name, request, now),
            )
        except sqlite3.IntegrityError as exc:
            raise NameTaken(channel_name) from exc

    async def rename(self, start_id: str, channel_name: str) -> None:
        """Reserve another name (the recorded one is taken in Mattermost by someone else)."""
        try:
            async with self._db.transaction() as tx:
                await tx.conn.execute(
                    "UPDATE starts SET channel_name = ? WHERE id = ? AND state = 'creating'",
                    (channel_name, start_id),
                )
        except sqlite3.IntegrityError as exc:
            raise NameTaken(channel_name) from exc

    async def move(self, tx: Tx, start_id: str, old: StartState, new: StartState) -> bool:
        cur = await tx.conn.execute(
            "UPDATE starts SET state = ? WHERE id = ? AND state = ?",
            (new.value, start_id, old.value),
        )
        return cur.rowcount == 1

    async def finish(self, start_id: str, state: StartState) -> None:
        async with self._db.transaction() as tx:
            await tx.conn.execute(
                "UPDATE starts SET state = ? WHERE id = ?", (state.value, start_id)
            )

    async def steps_done(self, start_id: str, steps: list[str], *, tx: Tx | None = None) -> None:
        """Note set-up steps as done (appended to the recorded list), in ``tx`` if given."""
        if not steps:
            return
        if tx is not None:
            await _append_steps(tx, start_id, steps)
            return
        async with self._db.transaction() as own:
            await _append_steps(own, start_id, steps)

    async def prune(self, before: int) -> int:
        """Forget settled starts recorded before ``before`` (epoch ms); how many."""
        async with self._db.transaction() as tx:
            cur = await tx.conn.execute(
                "DELETE FROM starts WHERE state IN ('done', 'failed') AND created_at < ?",
                (before,),
            )
        return cur.rowcount


async def _append_steps(tx: Tx, start_id: str, steps: list[str]) -> None:
    await tx.conn.executemany(
        "UPDATE starts SET steps = json_insert(steps, '$[#]', ?) WHERE id = ?",
        [(step, start_id) for step in steps],
    )
