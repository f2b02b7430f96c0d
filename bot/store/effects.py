"""The outbox: posts warroom makes exactly once, recorded before they are made."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.domain.outbox import Effect, EffectState
from bot.store.db import Database, Tx

__all__ = ["Effect", "EffectState", "EffectStore"]  # Effect, EffectState: the domain's


_KEYS = (
    "key",
    "kind",
    "incident_id",
    "channel_id",
    "message",
    "props",
    "data",
    "state",
    "post_id",
    "attempts",
    "created_at",
)
_COLUMNS = ", ".join(_KEYS)


_ADD = (
    "INSERT OR IGNORE INTO effects (key, kind, incident_id, channel_id, message, props,"
    " data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def _add_row(effect: Effect) -> tuple[object, ...]:
    return (
        effect.key,
        effect.kind,
        effect.incident_id,
        effect.channel_id,
        effect.message,
        json.dumps(effect.props),
        json.dumps(effect.data),
        effect.created_at,
    )


def _row(row: Sequence[Any]) -> Effect:
    values = dict(zip(_KEYS, row, strict=True))
    values["props"] = json.loads(values["props"])
    values["data"] = json.loads(values["data"])
    return Effect.model_validate(values)


class EffectStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _many(self, where: str, args: Sequence[object] = ()) -> list[Effect]:
        sql = f"SELECT {_COLUMNS} FROM effects {where}"  # noqa: S608 - constant parts only
        return [_row(r) for r in await self._db.conn.execute_fetchall(sql, args)]

    async def get(self, key: str) -> Effect | None:
        found = await self._many("WHERE key = ?", (key,))
        return found[0] if found else None

    async def unfinished(self) -> list[Effect]:
        """Pending and posted effects, oldest first."""
        return await self._many(
            "WHERE state IN ('pending', 'posted') ORDER BY created_at, rowid", ()
        )

    async def count_unfinished(self) -> int:
        """How many effects are pending or posted (the outbox depth)."""
        async with self._db.conn.execute(
            "SELECT count(*) FROM effects WHERE state IN ('pending', 'posted')"
        ) as cur:
            row = await cur.fetchone()
        return 0 if row is None else int(row[0])

    async def add(self, tx: Tx, effect: Effect) -> bool:
        """Record ``effect`` (pending); False if its key was recorded before (kept as it is)."""
        cur = await tx.conn.execute(_ADD, _add_row(effect))
        return cur.rowcount == 1

    async def record(self, tx: Tx, effect: Effect) -> None:
        """:meth:`add`, queued with ``tx`` (write-behind): for a key new by construction."""
        tx.later(_ADD, _add_row(effect))

    async def move(
        self, tx: Tx, key: str, old: EffectState, new: EffectState, *, post_id: str | None = None
    ) -> bool:
        """``old`` -> ``new`` if the effect is still in ``old``; False if it had moved on."""
        cur = await tx.conn.execute(*_move(key, old, new, post_id))
        return cur.rowcount == 1

    async def settle(self, tx: Tx, keys: Sequence[str], post_id: str) -> None:
        """The effects of ``keys`` (pending or posted) are done, said by the post ``post_id``
        (one post may say several)."""
        marks = ", ".join("?" * len(keys))
        tx.later(
            "UPDATE effects SET state = 'done', post_id = ?"  # noqa: S608 - placeholders only
            f" WHERE state IN ('pending', 'posted') AND key IN ({marks})",
            (post_id, *keys),
        )

    async def fail(self, tx: Tx, keys: Sequence[str]) -> None:
        """The pending effects of ``keys`` were refused for good."""
        marks = ", ".join("?" * len(keys))
        tx.later(
            f"UPDATE effects SET state = 'failed' WHERE state = 'pending' AND key IN ({marks})",  # noqa: S608
            tuple(keys),
        )

    async def attempted_all(self, keys: Sequence[str]) -> None:
        """:meth:`attempted` for each of ``keys``, in one transaction."""
        marks = ", ".join("?" * len(keys))
        async with self._db.transaction() as tx:
            tx.later(
                f"UPDATE effects SET attempts = attempts + 1 WHERE key IN ({marks})",  # noqa: S608
                tuple(keys),
            )

    async def move_now(
        self, key: str, old: EffectState, new: EffectState, *, post_id: str | None = None
    ) -> bool:
        """:meth:`move` as a transaction of its own (one statement, one trip)."""
        return await self._db.write(*_move(key, old, new, post_id)) == 1

    async def attempted(self, key: str) -> None:
        """Count an attempt whose outcome is unknown: the next one looks for the post first."""
        async with self._db.transaction() as tx:
            await tx.conn.execute(
                "UPDATE effects SET attempts = attempts + 1 WHERE key = ?", (key,)
            )

    async def forget(self, tx: Tx, key: str) -> None:
        """Forget the effect of ``key`` once its post is gone for good (a checklist page that
        was removed), so the key may post again; a pending one is kept (its outcome is open)."""
        await tx.conn.execute(
            "DELETE FROM effects WHERE key = ? AND state IN ('posted', 'done', 'failed')", (key,)
        )

    async def prune(self, before: int) -> int:
        """Forget settled effects recorded before ``before`` (epoch ms); how many."""
        async with self._db.transaction() as tx:
            cur = await tx.conn.execute(
                "DELETE FROM effects WHERE state IN ('done', 'failed') AND created_at < ?",
                (before,),
            )
        return cur.rowcount


def _move(
    key: str, old: EffectState, new: EffectState, post_id: str | None
) -> tuple[str, tuple[object, ...]]:
    sets, args = "state = ?", [new.value]
    if post_id is not None:
        sets += ", post_id = ?"
        args.append(post_id)
    sql = f"UPDATE effects SET {sets} WHERE key = ? AND state = ?"  # noqa: S608 - constant parts
    return sql, (*args, key, old.value)
