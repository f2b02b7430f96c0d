"""Status updates of incidents, with the posts that carry them, in SQLite."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.status import StatusUpdate
from bot.store.db import Database, Tx

__all__ = ["StatusStore", "StatusUpdate"]  # StatusUpdate: the domain's


_KEYS = (
    "id",
    "incident_id",
    "author_id",
    "message",
    "post_id",
    "broadcast_post_id",
    "reminder_seconds",
    "created_at",
    "deleted_at",
)
_COLUMNS = ", ".join(_KEYS)


class StatusStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _many(self, where: str, args: Sequence[object]) -> list[StatusUpdate]:
        sql = f"SELECT {_COLUMNS} FROM status_updates {where}"  # noqa: S608 - constant parts only
        rows = await self._db.conn.execute_fetchall(sql, args)
        return [StatusUpdate.model_validate(dict(zip(_KEYS, r, strict=True))) for r in rows]

    async def latest(self, incident_id: str) -> StatusUpdate | None:
        """The newest update whose post has not been deleted."""
        found = await self.live(incident_id, limit=1)
        return found[0] if found else None

    async def live(self, incident_id: str, limit: int = 1000) -> list[StatusUpdate]:
        """Updates whose post has not been deleted, newest first."""
        return await self._many(
            "WHERE incident_id = ? AND deleted_at IS NULL"
            " ORDER BY created_at DESC, id DESC LIMIT ?",
            (incident_id, limit),
        )

    async def all(self, incident_id: str) -> list[StatusUpdate]:
        """Every update, deleted ones included, oldest first."""
        return await self._many(
            "WHERE incident_id = ? ORDER BY created_at, id",
            (incident_id,),
        )

    async def by_post(self, post_id: str) -> StatusUpdate | None:
        found = await self._many("WHERE post_id = ?", (post_id,))
        return found[0] if found else None

    async def add(
        self,
        tx: Tx,
        *,
        incident_id: str,
        author_id: str,
        message: str,
        post_id: str,
        reminder_seconds: int,
        now: int,
    ) -> int:
        cur = await tx.conn.execute(
            "INSERT INTO status_updates (incident_id, author_id, message, post_id,"
            " reminder_seconds, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (incident_id, author_id, message, post_id, reminder_seconds, now),
        )
        return int(cur.lastrowid or 0)

    async def add_once(
        self,
        tx: Tx,
        *,
        incident_id: str,
        author_id: str,
        message: str,
        post_id: str,
        reminder_seconds: int,
        now: int,
    ) -> tuple[int, bool]:
        """Record the update of ``post_id`` unless it is recorded; (its id, whether new)."""
        async with tx.conn.execute(
            "SELECT id FROM status_updates WHERE post_id = ?", (post_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is not None:
            return int(row[0]), False
        update_id = await self.add(
            tx,
            incident_id=incident_id,
            author_id=author_id,
            message=message,
            post_id=post_id,
            reminder_seconds=reminder_seconds,
            now=now,
        )
        return update_id, True

    async def set_broadcast(self, update_id: int, post_id: str) -> None:
        async with self._db.transaction() as tx:
            await tx.conn.execute(
                "UPDATE status_updates SET broadcast_post_id = ? WHERE id = ?", (post_id, update_id)
            )

    async def edited(self, post_id: str, message: str) -> bool:
        """Follow an edit of the post; False if nothing changed."""
        async with self._db.transaction() as tx:
            cur = await tx.conn.execute(
                "UPDATE status_updates SET message = ? WHERE post_id = ? AND message != ?",
                (message, post_id, message),
            )
        return cur.rowcount == 1

    async def deleted(self, post_id: str, now: int) -> bool:
        """Follow a deletion of the post; False if it was already known."""
        async with self._db.transaction() as tx:
            cur = await tx.conn.execute(
                "UPDATE status_updates SET deleted_at = ? WHERE post_id = ? AND deleted_at IS NULL",
                (now, post_id),
            )
        return cur.rowcount == 1
