"""The webhook outbox and delivery log in SQLite (implements services.ports.WebhookStore)."""

from __future__ import annotations

from bot.domain.webhooks import Delivery, DeliveryState
from bot.store.db import Database, Tx

_KEYS = (
    "id",
    "incident_id",
    "playbook_id",
    "url",
    "secret_env",
    "event_type",
    "body",
    "created_at",
    "state",
    "attempts",
    "next_at",
    "last_status",
    "last_error",
    "settled_at",
)
_COLUMNS = ", ".join(_KEYS)
_SELECT = f"SELECT {_COLUMNS} FROM webhook_deliveries"  # noqa: S608 - constant parts only


class WebhookDeliveryStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _many(self, where: str, args: tuple[object, ...]) -> list[Delivery]:
        async with self._db.conn.execute(f"{_SELECT} {where}", args) as cur:
            rows = await cur.fetchall()
        return [Delivery.model_validate(dict(zip(_KEYS, row, strict=True))) for row in rows]

    async def add(self, tx: Tx, delivery: Delivery) -> None:
        row = delivery.model_dump()
        marks = ", ".join("?" for _ in _KEYS)
        tx.later(
            f"INSERT INTO webhook_deliveries ({_COLUMNS}) VALUES ({marks})",  # noqa: S608
            tuple(row[k] for k in _KEYS),
        )

    async def due(self, now: int, limit: int) -> list[Delivery]:
        """Read in a transaction of its own: warroom shares one connection, and a delivery
        recorded by a change still in progress must not be seen (and sent) before it commits."""
        async with self._db.transaction():
            return await self._many(
                "WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, created_at LIMIT ?",
                (now, limit),
            )

    async def next_due(self) -> int | None:
        async with (
            self._db.transaction(),
            self._db.conn.execute(
                "SELECT MIN(next_at) FROM webhook_deliveries WHERE state = 'pending'"
            ) as cur,
        ):
            row = await cur.fetchone()
        return None if row is None or row[0] is None else int(row[0])

    async def settle(
        self, delivery_id: str, *, state: DeliveryState, status: int | None, error: str, at: int
    ) -> None:
        async with self._db.transaction() as tx:
            await tx.conn.execute(
                "UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1,"
                " last_status = ?, last_error = ?, settled_at = ? WHERE id = ?",
                (state.value, status, error[:500], at, delivery_id),
            )

    async def retry(
        self, delivery_id: str, *, status: int | None, error: str, next_at: int
    ) -> None:
        async with self._db.transaction() as tx:
            await tx.conn.execute(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = ?,"
                " last_error = ?, next_at = ? WHERE id = ? AND state = 'pending'",
                (status, error[:500], next_at, delivery_id),
            )

    async def disable(self, playbook_id: str, url: str, at: int) -> None:
        async with self._db.transaction() as tx:
            await tx.conn.execute(
                "INSERT OR IGNORE INTO webhook_disabled (playbook_id, url, at) VALUES (?, ?, ?)",
                (playbook_id, url, at),
            )
            await tx.conn.execute(
                "UPDATE webhook_deliveries SET state = 'disabled', settled_at = ?"
                " WHERE playbook_id = ? AND url = ? AND state = 'pending'",
                (at, playbook_id, url),
            )

    async def is_disabled(self, playbook_id: str, url: str) -> bool:
        async with self._db.conn.execute(
            "SELECT 1 FROM webhook_disabled WHERE playbook_id = ? AND url = ?",
            (playbook_id, url),
        ) as cur:
            return await cur.fetchone() is not None

    async def enable(self, url: str) -> int:
        async with self._db.transaction() as tx:
            cur = await tx.conn.execute("DELETE FROM webhook_disabled WHERE url = ?", (url,))
            return max(cur.rowcount, 0)

    async def for_incident(self, incident_id: str, limit: int) -> list[Delivery]:
        return await self._many(
            "WHERE incident_id = ? ORDER BY created_at DESC, id LIMIT ?", (incident_id, limit)
        )
