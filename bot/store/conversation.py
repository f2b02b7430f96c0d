"""What the conversational side remembers: messages answered and signal offers made."""

from __future__ import annotations

from bot.store.db import Database

SEEN_KEEP_MS = 7 * 24 * 3600 * 1000  # a redelivery comes within seconds; a week is plenty
PRUNE_EVERY = 500


class ConversationStore:
    """Durable claims, so that a restart or a reconnect re-sync never runs a message twice."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._claims = 0

    async def claim_message(self, post_id: str, *, now: int) -> bool:
        """Record ``post_id`` as handled; False if it was already (a second delivery)."""
        self._claims += 1
        async with self._db.transaction() as tx:
            if self._claims % PRUNE_EVERY == 0:
                await tx.conn.execute(
                    "DELETE FROM chat_seen WHERE seen_at < ?", (now - SEEN_KEEP_MS,)
                )
            cur = await tx.conn.execute(
                "INSERT OR IGNORE INTO chat_seen (post_id, seen_at) VALUES (?, ?)", (post_id, now)
            )
            return cur.rowcount == 1

    async def remember_dm(self, channel_id: str, *, now: int) -> None:
        """Note a direct channel someone talks to warroom in (for the catch-up)."""
        async with self._db.transaction() as tx:
            await tx.conn.execute(
                "INSERT INTO chat_dms (channel_id, last_at) VALUES (?, ?) ON CONFLICT"
                " (channel_id) DO UPDATE SET last_at = excluded.last_at",
                (channel_id, now),
            )

    async def recent_dms(self, *, since: int) -> list[str]:
        """Direct channels used since ``since`` (ms), most recent first."""
        async with self._db.conn.execute(
            "SELECT channel_id FROM chat_dms WHERE last_at >= ? ORDER BY last_at DESC",
            (since,),
        ) as cur:
            return [str(r[0]) for r in await cur.fetchall()]

    async def claim_offer(self, *, root_id: str, playbook_id: str, post_id: str, now: int) -> bool:
        """Record a signal offer in thread ``root_id``; False if one was made there before."""
        async with self._db.transaction() as tx:
            cur = await tx.conn.execute(
                "INSERT OR IGNORE INTO signal_offers (root_id, playbook_id, post_id, offered_at)"
                " VALUES (?, ?, ?, ?)",
                (root_id, playbook_id, post_id, now),
            )
            return cur.rowcount == 1

    async def forget_offer(self, *, root_id: str, playbook_id: str) -> None:
        """Undo a claim whose offer could not be posted, so a later message may offer again."""
        async with self._db.transaction() as tx:
            await tx.conn.execute(
                "DELETE FROM signal_offers WHERE root_id = ? AND playbook_id = ?",
                (root_id, playbook_id),
            )
