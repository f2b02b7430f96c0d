"""What each kept post (card, checklist page) was last set to: one row per post id."""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.db import Database


class RenderStore:
    """Implements :class:`bot.services.ports.RenderRecords` (table ``post_renders``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self) -> dict[str, tuple[str, str, int]]:
        """Every row: post id -> (incident id, digest, sent at in ms)."""
        async with self._db.conn.execute(
            "SELECT post_id, incident_id, digest, sent_at FROM post_renders"
        ) as cur:
            return {str(r[0]): (str(r[1]), str(r[2]), int(r[3])) for r in await cur.fetchall()}

    async def record(self, post_id: str, *, incident_id: str, digest: str, sent_at: int) -> None:
        """``post_id`` now shows the render of ``digest`` (replaces what was recorded)."""
        await self._db.write(
            "INSERT OR REPLACE INTO post_renders (post_id, incident_id, digest, sent_at)"
            " VALUES (?, ?, ?, ?)",
            (post_id, incident_id, digest, sent_at),
        )

    async def forget(self, post_ids: Sequence[str]) -> None:
        """What these posts show is no longer known (failed update, deleted, removed)."""
        if not post_ids:
            return
        async with self._db.transaction() as tx:
            await tx.conn.executemany(
                "DELETE FROM post_renders WHERE post_id = ?", [(p,) for p in post_ids]
            )
