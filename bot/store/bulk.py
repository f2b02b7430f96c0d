"""Bulk loading for benchmarks and imports: many rows per statement, one transaction each.

Not used on any request path; the same tables and row shapes as the stores' own writes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.domain.models import Incident, TimelineEvent
from bot.store.db import Database
from bot.store.incidents import INSERT_SQL, insert_row


async def load_incidents(
    db: Database,
    incidents: Sequence[Incident],
    events: Sequence[Sequence[TimelineEvent]],
    *,
    reminder_due: Sequence[int | None] = (),
) -> None:
    """Insert ``incidents`` with their timeline ``events`` (same order) and, where
    ``reminder_due[i]`` is a time (ms), a pending status reminder for incident ``i``."""
    async with db.transaction() as tx:
        await tx.conn.executemany(INSERT_SQL, [insert_row(i) for i in incidents])
        await tx.conn.executemany(
            "INSERT INTO commander_history (incident_id, user_id, since, set_by)"
            " VALUES (?, ?, ?, ?)",
            [(i.id, i.commander_id, i.created_at, i.reporter_id) for i in incidents],
        )
        await tx.conn.executemany(
            "INSERT INTO timeline_events (incident_id, kind, at, actor_id, data)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (inc.id, e.kind.value, e.at, e.actor_id, json.dumps(e.data))
                for inc, evs in zip(incidents, events, strict=True)
                for e in evs
            ],
        )
        await tx.conn.executemany(
            "INSERT INTO reminders (incident_id, channel_id, due_at, created_at)"
            " VALUES (?, ?, ?, ?)",
            [
                (inc.id, inc.channel_id, due, inc.created_at)
                for inc, due in zip(incidents, reminder_due, strict=False)
                if due is not None
            ],
        )


async def load_renders(db: Database, renders: Sequence[tuple[str, str, str, int]]) -> None:
    """Record what kept posts show, as warroom records it once it has set them: rows of
    (post id, incident id, digest, set at in ms); see :class:`bot.store.renders.RenderStore`."""
    async with db.transaction() as tx:
        await tx.conn.executemany(
            "INSERT OR REPLACE INTO post_renders (post_id, incident_id, digest, sent_at)"
            " VALUES (?, ?, ?, ?)",
            renders,
        )


async def load_members(db: Database, members: Sequence[tuple[str, str, int]]) -> None:
    """Record people as present in incident channels since a time, as the start records the
    members it finds: rows of (incident id, user id, seen at in ms); see
    :class:`bot.store.review.ReviewStore`."""
    async with db.transaction() as tx:
        await tx.conn.executemany(
            "INSERT OR IGNORE INTO incident_members (incident_id, user_id, first_seen, last_seen)"
            " VALUES (?, ?, ?, ?)",
            [(i, u, at, at) for i, u, at in members],
        )
