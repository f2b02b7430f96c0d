"""What the review reads and the timeline capture writes: members ever involved, pinned posts,
incidents of a time window."""

from __future__ import annotations

import json
from collections.abc import Iterable

from bot.domain.models import EventKind, Incident, TimelineEvent
from bot.store.db import Database, Tx


class ReviewStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- members ever involved ---------------------------------------------------------

    async def join(
        self, incident_id: str, user_ids: Iterable[str], at: int, *, events: bool = True
    ) -> list[str]:
        """Record ``user_ids`` as present; returns those who were not present before.

        ``events=False`` records them without timeline events (the members at the start).
        """
        joined: list[str] = []
        async with self._db.transaction() as tx:
            for user_id in user_ids:
                if await self._join_one(tx, incident_id, user_id, at):
                    joined.append(user_id)
            if events:
                await self._events(tx, incident_id, EventKind.MEMBER_JOINED, joined, at)
        return joined

    async def leave(self, incident_id: str, user_ids: Iterable[str], at: int) -> list[str]:
        """Record ``user_ids`` as gone; returns those who were present before."""
        left: list[str] = []
        async with self._db.transaction() as tx:
            for user_id in user_ids:
                cur = await tx.conn.execute(
                    "UPDATE incident_members SET present = 0, last_seen = ?"
                    " WHERE incident_id = ? AND user_id = ? AND present = 1",
                    (at, incident_id, user_id),
                )
                if cur.rowcount == 1:
                    left.append(user_id)
            await self._events(tx, incident_id, EventKind.MEMBER_LEFT, left, at)
        return left

    async def _join_one(self, tx: Tx, incident_id: str, user_id: str, at: int) -> bool:
        row = await tx.fetch_one(
            "SELECT present FROM incident_members WHERE incident_id = ? AND user_id = ?",
            (incident_id, user_id),
        )
        if row is None:
            await tx.conn.execute(
                "INSERT INTO incident_members (incident_id, user_id, first_seen, last_seen)"
                " VALUES (?, ?, ?, ?)",
                (incident_id, user_id, at, at),
            )
            return True
        await tx.conn.execute(
            "UPDATE incident_members SET present = 1, last_seen = ?"
            " WHERE incident_id = ? AND user_id = ?",
            (at, incident_id, user_id),
        )
        return not row[0]

    @staticmethod
    async def _events(
        tx: Tx, incident_id: str, kind: EventKind, user_ids: list[str], at: int
    ) -> None:
        for user_id in user_ids:
            await tx.conn.execute(
                "INSERT INTO timeline_events (incident_id, kind, at, actor_id, data)"
                " VALUES (?, ?, ?, ?, ?)",
                (incident_id, kind.value, at, user_id, json.dumps({"user_id": user_id})),
            )

    async def present(self, incident_id: str) -> set[str]:
        async with self._db.conn.execute(
            "SELECT user_id FROM incident_members WHERE incident_id = ? AND present = 1",
            (incident_id,),
        ) as cur:
            return {row[0] for row in await cur.fetchall()}

    async def tracked(self, incident_id: str) -> bool:
        """Whether the members at the start have been recorded."""
        return (
            await self._db.fetch_one(
                "SELECT 1 FROM incident_members WHERE incident_id = ? LIMIT 1", (incident_id,)
            )
            is not None
        )

    async def ever_involved(self, incident_id: str) -> int:
        async with self._db.conn.execute(
            "SELECT count(*) FROM incident_members WHERE incident_id = ?", (incident_id,)
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    # ---- posts pinned to the timeline ------------------------------------------------------

    async def pin(self, incident_id: str, event: TimelineEvent, post_id: str) -> bool:
        """Add the event unless this post is already on the timeline; True if added."""
        async with self._db.transaction() as tx:
            cur = await tx.conn.execute(
                "INSERT OR IGNORE INTO timeline_events"
                " (incident_id, kind, at, actor_id, data, dedupe_key) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    incident_id,
                    event.kind.value,
                    event.at,
                    event.actor_id,
                    json.dumps(event.data),
                    pin_key(post_id),
                ),
            )
            return cur.rowcount == 1

    async def pinned_post_ids(self, incident_id: str) -> set[str]:
        async with self._db.conn.execute(
            "SELECT dedupe_key FROM timeline_events WHERE incident_id = ? AND dedupe_key LIKE 'pin:%'",
            (incident_id,),
        ) as cur:
            return {row[0].removeprefix("pin:") for row in await cur.fetchall()}

    async def pinned_quotes(self, incident_id: str) -> dict[str, tuple[str, bool]]:
        """Post id -> (quoted message, deleted) of every post pinned to the timeline."""
        async with self._db.conn.execute(
            "SELECT dedupe_key, data FROM timeline_events"
            " WHERE incident_id = ? AND dedupe_key LIKE 'pin:%'",
            (incident_id,),
        ) as cur:
            rows = await cur.fetchall()
        out: dict[str, tuple[str, bool]] = {}
        for key, raw in rows:
            data = json.loads(raw)
            out[str(key).removeprefix("pin:")] = (
                str(data.get("message", "")),
                bool(data.get("deleted")),
            )
        return out

    async def requote(
        self, incident_id: str, post_id: str, *, message: str, deleted: bool = False
    ) -> bool:
        """Follow an edit (new ``message``) or a deletion of a pinned post; True if changed."""
        pinned = await self._db.conn.execute_fetchall(
            "SELECT 1 FROM timeline_events WHERE incident_id = ? AND dedupe_key = ?",
            (incident_id, pin_key(post_id)),
        )
        if not pinned:  # most edits (the card, the checklist): no write transaction for them
            return False
        async with self._db.transaction() as tx:
            cur = await tx.conn.execute(
                "SELECT id, data FROM timeline_events WHERE incident_id = ? AND dedupe_key = ?",
                (incident_id, pin_key(post_id)),
            )
            row = await cur.fetchone()
            if row is None:
                return False
            data = json.loads(row[1])
            if data.get("message") == message and bool(data.get("deleted")) == deleted:
                return False
            data["message"] = message
            if deleted:
                data["deleted"] = True
            else:
                data.pop("deleted", None)
            await tx.conn.execute(
                "UPDATE timeline_events SET data = ? WHERE id = ?", (json.dumps(data), row[0])
            )
            return True

    async def unpin(self, incident_id: str, post_id: str) -> bool:
        async with self._db.transaction() as tx:
            cur = await tx.conn.execute(
                "DELETE FROM timeline_events WHERE incident_id = ? AND dedupe_key = ?",
                (incident_id, pin_key(post_id)),
            )
            return cur.rowcount == 1

    # ---- status update texts ----------------------------------------------------------------

    async def update_texts(self, incident_id: str) -> dict[str, str | None]:
        """Post id -> the status update's text as it reads now (edits followed), or None if
        its post was deleted; every update of the incident."""
        async with self._db.conn.execute(
            "SELECT post_id, message, deleted_at FROM status_updates WHERE incident_id = ?",
            (incident_id,),
        ) as cur:
            rows = await cur.fetchall()
        return {str(r[0]): (None if r[2] is not None else str(r[1])) for r in rows}

    # ---- incidents of a window -------------------------------------------------------------

    async def team_window(self, team_id: str, since: int) -> list[Incident]:
        """Incidents started or ended since ``since``, and every ongoing one."""
        async with self._db.conn.execute(
            "SELECT body FROM incidents WHERE team_id = ?"
            " AND (created_at >= ? OR ended_at >= ? OR status = 'ongoing')"
            " ORDER BY created_at, id",
            (team_id, since, since),
        ) as cur:
            rows = await cur.fetchall()
        return [Incident.model_validate_json(row[0]) for row in rows]

    async def by_channel_name(self, team_id: str, channel_name: str) -> Incident | None:
        async with self._db.conn.execute(
            "SELECT body FROM incidents WHERE team_id = ? AND channel_name = ?"
            " ORDER BY created_at DESC LIMIT 1",
            (team_id, channel_name),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else Incident.model_validate_json(row[0])


def pin_key(post_id: str) -> str:
    return f"pin:{post_id}"
