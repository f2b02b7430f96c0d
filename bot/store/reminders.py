"""Reminder rows in SQLite: due times and the states that make firing exactly-once."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.reminders import Reminder, ReminderState
from bot.store.db import Database, Tx

__all__ = ["Reminder", "ReminderState", "ReminderStore"]  # the domain's, re-exported


_COLUMNS = "id, incident_id, channel_id, due_at, state, post_id, attempts"


def _row(row: Sequence[object]) -> Reminder:
    keys = ("id", "incident_id", "channel_id", "due_at", "state", "post_id", "attempts")
    return Reminder.model_validate(dict(zip(keys, row, strict=True)))


class ReminderStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _many(self, where: str, args: Sequence[object] = ()) -> list[Reminder]:
        sql = f"SELECT {_COLUMNS} FROM reminders {where}"  # noqa: S608 - constant parts only
        async with self._db.conn.execute(sql, args) as cur:
            return [_row(r) for r in await cur.fetchall()]

    async def get(self, reminder_id: int) -> Reminder | None:
        found = await self._many("WHERE id = ?", (reminder_id,))
        return found[0] if found else None

    async def next_due(self) -> int | None:
        async with self._db.conn.execute(
            "SELECT min(due_at) FROM reminders WHERE state = 'pending'"
        ) as cur:
            row = await cur.fetchone()
        return None if row is None or row[0] is None else int(row[0])

    async def due(self, now: int, limit: int) -> list[Reminder]:
        return await self._many(
            "WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?",
            (now, limit),
        )

    async def open_for(self, incident_id: str) -> list[Reminder]:
        return await self._many(
            "WHERE incident_id = ? AND state != 'closed' ORDER BY id",
            (incident_id,),
        )

    async def unsettled(self) -> list[Reminder]:
        """Rows a stop (or a kill) interrupted between two states."""
        return await self._many("WHERE state IN ('firing', 'closing') ORDER BY id")

    async def count(self, state: ReminderState) -> int:
        async with self._db.conn.execute(
            "SELECT count(*) FROM reminders WHERE state = ?", (state.value,)
        ) as cur:
            row = await cur.fetchone()
        return 0 if row is None else int(row[0])

    # ---- writes: each one a transition guarded by the state it expects -------------------

    async def add(self, tx: Tx, *, incident_id: str, channel_id: str, due_at: int, now: int) -> int:
        cur = await tx.conn.execute(
            "INSERT INTO reminders (incident_id, channel_id, due_at, created_at)"
            " VALUES (?, ?, ?, ?)",
            (incident_id, channel_id, due_at, now),
        )
        return int(cur.lastrowid or 0)

    async def claim(self, tx: Tx, ids: Sequence[int]) -> list[int]:
        """pending -> firing for those of ``ids`` still pending; returns the claimed ids."""
        if not ids:
            return []
        marks = ", ".join("?" for _ in ids)
        sql = (
            "UPDATE reminders SET state = 'firing'"  # noqa: S608 - placeholders only
            f" WHERE state = 'pending' AND id IN ({marks}) RETURNING id"
        )
        async with tx.conn.execute(sql, tuple(ids)) as cur:
            return [int(row[0]) for row in await cur.fetchall()]

    async def move(
        self,
        tx: Tx,
        reminder_id: int,
        old: ReminderState,
        new: ReminderState,
        *,
        post_id: str | None = None,
        due_at: int | None = None,
        attempt: bool = False,
    ) -> bool:
        """``old`` -> ``new`` if the row is still in ``old``; False if it had moved on."""
        sets = ["state = ?"]
        args: list[object] = [new.value]
        if post_id is not None:
            sets.append("post_id = ?")
            args.append(post_id)
        if due_at is not None:
            sets.append("due_at = ?")
            args.append(due_at)
        if attempt:
            sets.append("attempts = attempts + 1")
        cur = await tx.conn.execute(
            f"UPDATE reminders SET {', '.join(sets)} WHERE id = ? AND state = ?",  # noqa: S608
            (*args, reminder_id, old.value),
        )
        return cur.rowcount == 1
