"""One-shot tokens: each nonce may be used once until it expires."""

from __future__ import annotations

from bot.domain.oneshot import OneShot
from bot.errors import InputError
from bot.store.db import Database, Expect, Tx

__all__ = ["NonceStore", "OneShot"]  # OneShot is the domain's; re-exported for old imports


class NonceStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def consume(self, nonce: str, *, expires_at: int, now: int) -> bool:
        """Mark ``nonce`` used; False if it was used before (a replay)."""
        async with self._db.transaction() as tx:
            return await self.spend(tx, OneShot(nonce, expires_at), now=now)

    async def spend(self, tx: Tx, once: OneShot, *, now: int) -> bool:
        """Mark the nonce used inside ``tx``; False if it was used before (a replay).

        Spent together with the change it authorises: a kill between the two is impossible,
        so the same dialog can never apply twice, nor be refused after applying nothing.
        """
        await tx.conn.execute("DELETE FROM used_nonces WHERE expires_at < ?", (now,))
        cur = await tx.conn.execute(
            "INSERT OR IGNORE INTO used_nonces (nonce, expires_at) VALUES (?, ?)",
            (once.nonce, once.expires_at),
        )
        return cur.rowcount == 1

    async def spend_or_refuse(self, tx: Tx, once: OneShot, *, now: int) -> None:
        """:meth:`spend`, queued with ``tx`` (write-behind): a replay raises
        :class:`InputError` ``stale_dialog`` when ``tx`` next reaches SQLite (its end, or a
        read in it), and nothing of ``tx`` is kept."""
        tx.later("DELETE FROM used_nonces WHERE expires_at < ?", (now,))
        tx.later(
            "INSERT OR IGNORE INTO used_nonces (nonce, expires_at) VALUES (?, ?)",
            (once.nonce, once.expires_at),
            expect=Expect(InputError("stale_dialog"), rows=1),
        )

    async def refund(self, nonce: str) -> None:
        """Make a spent nonce usable again: what it authorised was refused, nothing changed."""
        async with self._db.transaction() as tx:
            await tx.conn.execute("DELETE FROM used_nonces WHERE nonce = ?", (nonce,))

    async def is_used(self, nonce: str) -> bool:
        return (
            await self._db.fetch_one("SELECT 1 FROM used_nonces WHERE nonce = ?", (nonce,))
            is not None
        )
