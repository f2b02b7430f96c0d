"""Incidents, their commander history and timeline, in SQLite."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence

from bot.domain.models import EventKind, Incident, IncidentStatus, TimelineEvent
from bot.services.ports import StaleIncident
from bot.store.db import Database, Expect, Tx

__all__ = ["INSERT_SQL", "IncidentStore", "StaleIncident", "insert_row"]  # StaleIncident: ports'

INSERT_SQL = (
    "INSERT INTO incidents (id, team_id, channel_id, name, status, commander_id, playbook_id,"
    " created_at, ended_at, version, body, private, channel_name, severity, playbook_title)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def insert_row(incident: Incident) -> tuple[object, ...]:
    """The ``incidents`` row of ``incident``, in the order of :data:`INSERT_SQL`."""
    return (
        incident.id,
        incident.team_id,
        incident.channel_id,
        incident.name,
        incident.status.value,
        incident.commander_id,
        incident.playbook_id,
        incident.created_at,
        incident.ended_at,
        incident.version,
        incident.model_dump_json(),
        int(incident.private_channel),
        incident.channel_name,
        incident.severity,
        incident.playbook_title,
    )


PAGE = 100  # incidents per page of a walk (:meth:`IncidentStore.pages`)


class IncidentStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def count_ongoing(self) -> int:
        """How many incidents are ongoing (all teams)."""
        async with self._db.conn.execute(
            "SELECT count(*) FROM incidents WHERE status = 'ongoing'"
        ) as cur:
            row = await cur.fetchone()
        return 0 if row is None else int(row[0])

    async def get(self, incident_id: str) -> Incident | None:
        return await self._one("SELECT body FROM incidents WHERE id = ?", (incident_id,))

    async def by_channel(self, channel_id: str) -> Incident | None:
        return await self._one("SELECT body FROM incidents WHERE channel_id = ?", (channel_id,))

    async def list_team(
        self, team_id: str, *, status: IncidentStatus | None = None, limit: int | None = 1000
    ) -> list[Incident]:
        """Newest first; ``limit=None`` for all of them."""
        sql = "SELECT body FROM incidents WHERE team_id = ?"
        args: list[object] = [team_id]
        if status is not None:
            sql += " AND status = ?"
            args.append(status.value)
        sql += " ORDER BY created_at DESC, id LIMIT ?"
        args.append(-1 if limit is None else limit)
        async with self._db.conn.execute(sql, args) as cur:
            rows = await cur.fetchall()
        return [Incident.model_validate_json(row[0]) for row in rows]

    async def team_ids(self) -> list[str]:
        """Every team that has incidents."""
        async with self._db.conn.execute("SELECT DISTINCT team_id FROM incidents") as cur:
            rows = await cur.fetchall()
        return [str(row[0]) for row in rows]

    async def list_ongoing(self) -> list[Incident]:
        """Every ongoing incident, oldest first, all in memory at once (about 23 kB each as
        models): walks over many use :meth:`pages` or :meth:`each_ongoing`."""
        async with self._db.conn.execute(
            "SELECT body FROM incidents WHERE status = 'ongoing' ORDER BY created_at"
        ) as cur:
            rows = await cur.fetchall()
        return [Incident.model_validate_json(row[0]) for row in rows]

    async def pages(
        self, *, team_id: str | None = None, ongoing: bool = False, size: int = PAGE
    ) -> AsyncIterator[list[Incident]]:
        """Every incident (of ``team_id``; only ongoing ones if ``ongoing``), in the order they
        were stored, ``size`` at a time: a walk over all of them holds one page in memory,
        not 10,000 incidents. Each page is its own query (keyed on the row id, so the pages
        together read the table once and no cursor stays open while the caller awaits); an
        incident stored during the walk may be in it or not, none is given twice."""
        where = "rowid > ?"
        args: list[object] = []
        if team_id is not None:
            where += " AND team_id = ?"
            args.append(team_id)
        if ongoing:
            where += " AND status = 'ongoing'"
        # NOT INDEXED: the rowid range, read in order; an index on team_id would read every
        # row of the team for each page and sort them (10,000 rows a page, 100 pages).
        sql = (
            f"SELECT rowid, body FROM incidents NOT INDEXED WHERE {where}"  # noqa: S608
            " ORDER BY rowid LIMIT ?"
        )
        after = 0
        while True:
            rows = list(await self._db.conn.execute_fetchall(sql, (after, *args, size)))
            if not rows:
                return
            after = int(rows[-1][0])
            yield [Incident.model_validate_json(row[1]) for row in rows]
            if len(rows) < size:
                return

    async def each_ongoing(self) -> AsyncIterator[Incident]:
        """Every ongoing incident, one at a time, read a page at a time (:meth:`pages`)."""
        async for page in self.pages(ongoing=True):
            for incident in page:
                yield incident

    async def _one(self, sql: str, args: Sequence[object]) -> Incident | None:
        rows = await self._db.conn.execute_fetchall(sql, args)  # one trip to SQLite's thread
        return next((Incident.model_validate_json(row[0]) for row in rows), None)

    async def insert(self, tx: Tx, incident: Incident) -> None:
        tx.later(INSERT_SQL, insert_row(incident))
        tx.later(
            "INSERT INTO commander_history (incident_id, user_id, since, set_by)"
            " VALUES (?, ?, ?, ?)",
            (incident.id, incident.commander_id, incident.created_at, incident.reporter_id),
        )

    async def update(self, tx: Tx, incident: Incident) -> Incident:
        """Save ``incident`` if nobody saved it since it was read; returns it with version + 1.

        Queued with ``tx`` (write-behind): :class:`StaleIncident` is raised when the
        transaction next reaches SQLite (its end, or a read in it) if another version was
        saved meanwhile, and nothing of the transaction is kept."""
        saved = incident.model_copy(update={"version": incident.version + 1})
        tx.later(
            "UPDATE incidents SET name = ?, status = ?, commander_id = ?, ended_at = ?,"
            " version = ?, body = ?, private = ?, channel_name = ?, severity = ?,"
            " playbook_title = ? WHERE id = ? AND version = ?",
            (
                saved.name,
                saved.status.value,
                saved.commander_id,
                saved.ended_at,
                saved.version,
                saved.model_dump_json(),
                int(saved.private_channel),
                saved.channel_name,
                saved.severity,
                saved.playbook_title,
                saved.id,
                incident.version,
            ),
            expect=Expect(StaleIncident(incident.id), rows=1),
        )
        return saved

    async def add_events(self, tx: Tx, incident_id: str, events: Sequence[TimelineEvent]) -> None:
        for event in events:
            tx.later(
                "INSERT INTO timeline_events (incident_id, kind, at, actor_id, data)"
                " VALUES (?, ?, ?, ?, ?)",
                (incident_id, event.kind.value, event.at, event.actor_id, json.dumps(event.data)),
            )
            if event.kind is EventKind.COMMANDER_CHANGED:
                tx.later(
                    "INSERT INTO commander_history (incident_id, user_id, since, set_by)"
                    " VALUES (?, ?, ?, ?)",
                    (incident_id, event.data["to"], event.at, event.actor_id),
                )

    async def timeline(self, incident_id: str) -> list[TimelineEvent]:
        async with self._db.conn.execute(
            "SELECT kind, at, actor_id, data FROM timeline_events"
            " WHERE incident_id = ? ORDER BY at, id",
            (incident_id,),
        ) as cur:
            rows = await cur.fetchall()
        return [
            TimelineEvent(kind=EventKind(r[0]), at=r[1], actor_id=r[2], data=json.loads(r[3]))
            for r in rows
        ]

    async def commanders(self, incident_id: str) -> list[tuple[str, int]]:
        async with self._db.conn.execute(
            "SELECT user_id, since FROM commander_history WHERE incident_id = ? ORDER BY since, id",
            (incident_id,),
        ) as cur:
            rows = await cur.fetchall()
        return [(r[0], r[1]) for r in rows]
