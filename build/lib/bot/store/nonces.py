"""One-shot tokens: each nonce may be used once until it expires."""

from __future__ import annotations

from bot.store.db import Database


class NonceStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def consume(self, nonce: str, *, expires_at: int, now: int) -> bool:
        """Mark ``nonce`` used; False if it was used before (a replay)."""
        async with self._db.transaction() as tx:
            await tx.conn.execute("DELETE FROM used_nonces WHERE expires_at < ?", (now,))
            cur = await tx.conn.execute(
                "INSERT OR IGNORE INTO used_nonces (nonce, expires_at) VALUES (?, ?)",
                (nonce, expires_at),
            )
            return cur.rowcount == 1

    async def is_used(self, nonce: str) -> bool:
        async with self._db.conn.execute(
            "SELECT 1 FROM used_nonces WHERE nonce = ?", (nonce,)
        ) as cur:
            return await cur.fetchone() is not None
