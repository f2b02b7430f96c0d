"""Incident-channel membership as warroom follows it, and the reads that filter on it.

``channel_members`` holds who is in each channel; ``channel_membership`` when each channel
was last listed in full. A channel is *known* when it was listed at or after ``since`` (the
moment the current event stream began: from then on every change reaches warroom as an
event); listed before, or never, it is unknown, and reads leave its incidents out and count
them instead of guessing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.domain.models import Incident, IncidentStatus
from bot.domain.review import StatsRow
from bot.services.ports import IncidentFilter, IncidentSort, SortKey
from bot.store.db import Database

# A private incident is visible to a member of its channel; a public one to its team (the
# caller's team is the one the command came from, so team membership holds already).
# The caller's channels (args: user id) are read once into a set that each row is looked up
# in: several times cheaper than a probe of the members' table per row.
_MEMBER = "i.channel_id IN (SELECT channel_id FROM channel_members WHERE user_id = ?)"
_LISTED = (
    "EXISTS (SELECT 1 FROM channel_membership s WHERE s.channel_id = i.channel_id"
    " AND s.synced_at >= ?)"
)
# Known: a row up to the one checked in full (args: checked, since), or listed since.
_KNOWN = f"(i.rowid <= ? OR {_LISTED})"


class MembershipStore:
    """Reads and writes of followed memberships; every SQL string about them lives here."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- writes --------------------------------------------------------------------------

    async def seed(self, channel_id: str, user_ids: Iterable[str], at: int) -> None:
        """Replace the members of ``channel_id`` with ``user_ids`` (a full listing made at
        ``at``, ms) and mark the channel listed then."""
        async with self._db.transaction() as tx:
            await tx.conn.execute("DELETE FROM channel_members WHERE channel_id = ?", (channel_id,))
            await tx.conn.executemany(
                "INSERT OR IGNORE INTO channel_members (channel_id, user_id) VALUES (?, ?)",
                [(channel_id, u) for u in user_ids],
            )
            await tx.conn.execute(
                "INSERT INTO channel_membership (channel_id, synced_at) VALUES (?, ?)"
                " ON CONFLICT (channel_id) DO UPDATE SET synced_at = excluded.synced_at",
                (channel_id, at),
            )

    async def join_listed(self, channel_id: str, user_ids: Iterable[str], at: int) -> None:
        """Add ``user_ids`` to the members of ``channel_id`` (those recorded meanwhile stay)
        and mark it listed at ``at`` (ms) unless it was listed later: a channel warroom made
        and filled itself, whose every change since ``at`` it has followed."""
        async with self._db.transaction() as tx:
            await tx.conn.executemany(
                "INSERT OR IGNORE INTO channel_members (channel_id, user_id) VALUES (?, ?)",
                [(channel_id, u) for u in user_ids],
            )
            await tx.conn.execute(
                "INSERT INTO channel_membership (channel_id, synced_at) VALUES (?, ?)"
                " ON CONFLICT (channel_id) DO UPDATE"
                " SET synced_at = max(synced_at, excluded.synced_at)",
                (channel_id, at),
            )

    async def seed_many(self, listings: Sequence[tuple[str, Sequence[str]]], at: int) -> None:
        """:meth:`seed` for many channels in one transaction (bulk loads, benchmarks)."""
        async with self._db.transaction() as tx:
            await tx.conn.executemany(
                "DELETE FROM channel_members WHERE channel_id = ?", [(c,) for c, _ in listings]
            )
            await tx.conn.executemany(
                "INSERT OR IGNORE INTO channel_members (channel_id, user_id) VALUES (?, ?)",
                [(c, u) for c, users in listings for u in users],
            )
            await tx.conn.executemany(
                "INSERT INTO channel_membership (channel_id, synced_at) VALUES (?, ?)"
                " ON CONFLICT (channel_id) DO UPDATE SET synced_at = excluded.synced_at",
                [(c, at) for c, _ in listings],
            )

    async def add(self, channel_id: str, user_id: str) -> None:
        """``user_id`` joined ``channel_id`` (an event, or warroom added them)."""
        await self._db.write(
            "INSERT OR IGNORE INTO channel_members (channel_id, user_id) VALUES (?, ?)",
            (channel_id, user_id),
        )

    async def remove(self, channel_id: str, user_id: str) -> None:
        """``user_id`` left or was removed from ``channel_id``."""
        await self._db.write(
            "DELETE FROM channel_members WHERE channel_id = ? AND user_id = ?",
            (channel_id, user_id),
        )

    async def forget(self, channel_id: str) -> None:
        """The channel's members can no longer be followed (the bot left it): unknown."""
        async with self._db.transaction() as tx:
            await tx.conn.execute("DELETE FROM channel_members WHERE channel_id = ?", (channel_id,))
            await tx.conn.execute(
                "DELETE FROM channel_membership WHERE channel_id = ?", (channel_id,)
            )

    # ---- reads ---------------------------------------------------------------------------

    async def is_member(self, channel_id: str, user_id: str, *, since: int) -> bool | None:
        """Whether ``user_id`` is in ``channel_id``; None when the channel is unknown (never
        listed, or listed before ``since``)."""
        rows = await self._db.conn.execute_fetchall(
            "SELECT s.synced_at >= ?, EXISTS (SELECT 1 FROM channel_members m"
            " WHERE m.channel_id = s.channel_id AND m.user_id = ?)"
            " FROM channel_membership s WHERE s.channel_id = ?",
            (since, user_id, channel_id),
        )
        row = next(iter(rows), None)
        if row is None or not row[0]:
            return None
        return bool(row[1])

    async def members(self, channel_id: str, *, since: int) -> list[str] | None:
        """Everyone in ``channel_id`` as followed; None when the channel is unknown."""
        row = await self._db.fetch_one(
            "SELECT synced_at >= ? FROM channel_membership WHERE channel_id = ?",
            (since, channel_id),
        )
        if row is None or not row[0]:
            return None
        rows = await self._db.fetch_all(
            "SELECT user_id FROM channel_members WHERE channel_id = ? ORDER BY user_id",
            (channel_id,),
        )
        return [str(r[0]) for r in rows]

    async def member_of(self, user_id: str, channel_ids: Iterable[str]) -> set[str]:
        """Those of ``channel_ids`` that ``user_id`` is in, as followed (known or not)."""
        wanted = list(dict.fromkeys(channel_ids))
        found: set[str] = set()
        for chunk in _chunks(wanted, 500):
            marks = ",".join("?" * len(chunk))
            async with self._db.conn.execute(
                "SELECT channel_id FROM channel_members WHERE user_id = ?"  # noqa: S608
                f" AND channel_id IN ({marks})",
                (user_id, *chunk),
            ) as cur:
                found.update(str(r[0]) for r in await cur.fetchall())
        return found

    async def unknown_channels(self, channel_ids: Iterable[str], *, since: int) -> list[str]:
        """Those of ``channel_ids`` not listed at or after ``since``."""
        wanted = list(dict.fromkeys(channel_ids))
        if not wanted:
            return []
        known: set[str] = set()
        for chunk in _chunks(wanted, 500):
            marks = ",".join("?" * len(chunk))
            async with self._db.conn.execute(
                f"SELECT channel_id FROM channel_membership WHERE synced_at >= ?"  # noqa: S608
                f" AND channel_id IN ({marks})",
                (since, *chunk),
            ) as cur:
                known.update(str(r[0]) for r in await cur.fetchall())
        return [c for c in wanted if c not in known]

    async def incident_channels(self, *, ongoing_first: bool = True) -> list[str]:
        """Every incident channel: ongoing ones first, newest first within each."""
        order = "status = 'ongoing' DESC, " if ongoing_first else ""
        async with self._db.conn.execute(
            f"SELECT channel_id FROM incidents ORDER BY {order}created_at DESC"  # noqa: S608
        ) as cur:
            return [str(r[0]) for r in await cur.fetchall()]

    async def checked_up_to(self, *, since: int) -> int:
        """The newest incident row (its rowid) if every private incident's channel up to it
        is known at ``since``; 0 when some is not. Reads pass it as ``checked``: rows up to
        it then need no per-row check (a full check is one pass over the incidents)."""
        async with self._db.conn.execute("SELECT coalesce(max(rowid), 0) FROM incidents") as cur:
            row = await cur.fetchone()
        newest = int(row[0]) if row else 0
        async with self._db.conn.execute(
            f"SELECT 1 FROM incidents i WHERE i.private = 1 AND i.rowid <= ? AND NOT {_LISTED}"  # noqa: S608
            " LIMIT 1",
            (newest, since),
        ) as cur:
            return 0 if await cur.fetchone() else newest

    async def visible_incidents(
        self,
        team_id: str,
        user_id: str,
        *,
        admin: bool,
        since: int,
        checked: int = 0,
        public: bool = True,
        status: IncidentStatus | None = None,
        limit: int = 10,
    ) -> tuple[list[Incident], list[str]]:
        """The team's incidents ``user_id`` may view, newest first, at most ``limit``; and the
        channels of the private ones left out because their channel is unknown (see the
        module; ``checked``: see :meth:`checked_up_to`)."""
        where = "i.team_id = ?"
        args: list[object] = [team_id]
        if status is not None:
            where += " AND i.status = ?"
            args.append(status.value)
        sql = f"SELECT i.body FROM incidents i WHERE {where}"  # noqa: S608
        rows_args = list(args)
        if not admin:
            sql += _visible(public)
            rows_args += [user_id, checked, since]
        # The covering index's own order: only the rows returned are read in full.
        sql += " ORDER BY i.created_at DESC LIMIT ?"
        async with self._db.conn.execute(sql, (*rows_args, limit)) as cur:
            rows = await cur.fetchall()
        found = [Incident.model_validate_json(r[0]) for r in rows]
        unknown = [] if admin else await self._unknown(where, args, since, checked, public)
        return found, unknown

    async def visible_page(
        self,
        team_ids: Sequence[str],
        user_id: str,
        *,
        admin: bool,
        since: int,
        checked: int = 0,
        public: bool = True,
        where: IncidentFilter,
        sort: IncidentSort,
        descending: bool,
        after: SortKey | None,
        limit: int,
    ) -> tuple[list[Incident], list[str]]:
        """Of ``team_ids``' incidents matching ``where`` that ``user_id`` may view, at most
        ``limit`` in ``sort`` order (ties by id), from the one after ``after`` on; and the
        channels of the private ones left out because unknown. Filtered, ordered and cut
        here: only the bodies of the page are read."""
        if not team_ids:
            return [], []
        await self._functions()
        cond, args = _filtered(team_ids, where)
        key = _SORT_KEYS[sort]
        sql = f"SELECT i.body FROM incidents i WHERE {cond}"  # noqa: S608
        rows_args = list(args)
        if not admin:
            sql += _visible(public)
            rows_args += [user_id, checked, since]
        if after is not None:
            sql += f" AND ({key}, i.id) {'<' if descending else '>'} (?, ?)"
            rows_args += [after[0], after[1]]
        order = " DESC" if descending else ""
        sql += f" ORDER BY {key}{order}, i.id{order} LIMIT ?"
        rows = await self._db.fetch_all(sql, (*rows_args, limit))
        found = [Incident.model_validate_json(r[0]) for r in rows]
        unknown = [] if admin else await self._unknown(cond, args, since, checked, public)
        return found, unknown

    async def _functions(self) -> None:
        """``py_lower``: Python's ``str.lower`` (SQLite's ``lower`` folds ASCII only), so an
        order and a comparison made here are those of :data:`IncidentSort`."""
        await self._db.create_function("py_lower", 1, str.lower, deterministic=True)

    async def visible_stats_rows(
        self,
        team_id: str,
        user_id: str,
        *,
        admin: bool,
        since: int,
        window_start: int,
        checked: int = 0,
        public: bool = True,
    ) -> tuple[list[StatsRow], list[str]]:
        """What the stats count, of the incidents ``user_id`` may view: every ongoing one
        (counted here, per playbook and severity) and each one ended since ``window_start``
        (ms); and the channels of the private ones left out because they are unknown."""
        visible, vis_args = ("", []) if admin else (_visible(public), [user_id, checked, since])
        ongoing_sql, ongoing_args = ongoing_stats_query(
            team_id, user_id, admin=admin, public=public, checked=checked, since=since
        )
        ended_sql = (
            "SELECT i.playbook_title, i.severity, i.created_at, i.ended_at"  # noqa: S608
            " FROM incidents i WHERE i.team_id = ? AND i.ended_at >= ? AND i.status = 'ended'"
            f"{visible}"
        )
        rows: list[StatsRow] = []
        async with self._db.conn.execute(ongoing_sql, (window_start, *ongoing_args)) as cur:
            for title, severity, count, started in await cur.fetchall():
                rows.append(StatsRow(str(title), str(severity), int(started), int(count)))
        async with self._db.conn.execute(ended_sql, (team_id, window_start, *vis_args)) as cur:
            for title, severity, created, ended in await cur.fetchall():
                rows.append(
                    StatsRow(
                        str(title),
                        str(severity),
                        started=int(created >= window_start),
                        time_to_end=int(ended) - int(created),
                    )
                )
        unknown: list[str] = []
        if not admin:
            for where in (
                "i.team_id = ? AND i.status = 'ongoing'",
                "i.team_id = ? AND i.ended_at >= ?",
            ):
                args: list[object] = (
                    [team_id] if "ended_at" not in where else [team_id, window_start]
                )
                unknown += await self._unknown(where, args, since, checked, public)
        return rows, unknown

    async def _unknown(
        self, where: str, args: list[object], since: int, checked: int, public: bool = True
    ) -> list[str]:
        """Channels of the incidents matching ``where`` (after row ``checked``) that are not
        known and need membership to be seen (private ones; public ones too if not
        ``public``)."""
        private = " AND i.private = 1" if public else ""
        # After a full check only the rows stored since are looked at: the rowid range (NOT
        # INDEXED keeps the planner off the team's index, which would read every row of the
        # team to compare its rowid: 5,000 at 10,000 incidents, on every read).
        hint = " NOT INDEXED" if checked else ""
        async with self._db.conn.execute(
            f"SELECT i.channel_id FROM incidents i{hint} WHERE {where}{private}"  # noqa: S608
            f" AND i.rowid > ? AND NOT {_LISTED}",
            (*args, checked, since),
        ) as cur:
            return [str(r[0]) for r in await cur.fetchall()]


# The ongoing incidents stats counts (args: see ongoing_stats_query), found from the caller's own
# channels instead of checking each ongoing incident of the team against them: the cost
# follows what the caller may view, not the team's history. EXPLAIN QUERY PLAN at 10,000
# incidents (tests/store/test_memberships.py holds the index names to it):
#   CO-ROUTINE (subquery-1)
#     COMPOUND QUERY
#       LEFT-MOST SUBQUERY
#         SEARCH i USING COVERING INDEX incidents_team_private_stats
#             (team_id=? AND status=? AND private=?)
#       UNION ALL
#         SEARCH m USING COVERING INDEX channel_members_user (user_id=?)
#         SEARCH i USING COVERING INDEX incidents_channel_cover
#             (channel_id=? AND team_id=? AND status=? AND private=?)
#         CORRELATED SCALAR SUBQUERY 3
#           SEARCH s USING PRIMARY KEY (channel_id=?)
#   SCAN (subquery-1)
#   USE TEMP B-TREE FOR GROUP BY
_STATS_COLUMNS = "i.playbook_title, i.severity, i.created_at"
_ONGOING_OF_TEAM = (
    f"SELECT {_STATS_COLUMNS} FROM incidents i WHERE i.team_id = ? AND i.status = 'ongoing'"  # noqa: S608
)
# CROSS JOIN keeps the caller's channels as the outer loop (SQLite never reorders it).
_ONGOING_OF_MINE = (
    f"SELECT {_STATS_COLUMNS} FROM channel_members m CROSS JOIN incidents i"  # noqa: S608
    " ON i.channel_id = m.channel_id"
    f" WHERE m.user_id = ? AND i.team_id = ? AND i.status = 'ongoing' AND {_KNOWN}"
)


def ongoing_stats_query(
    team_id: str, user_id: str, *, admin: bool, public: bool, checked: int, since: int
) -> tuple[str, list[object]]:
    """The ongoing part of stats: per playbook and severity (a pair may come in two rows, to
    be summed), how many and how many started since the window's start (the statement's
    first argument, then the returned ones)."""
    if admin:  # every one: in the index's order (no sort), a row per privacy summed later
        sql = (
            "SELECT i.playbook_title, i.severity, count(*), sum(i.created_at >= ?)"
            " FROM incidents i WHERE i.team_id = ? AND i.status = 'ongoing'"
            " GROUP BY i.private, i.playbook_title, i.severity"
        )
        return sql, [team_id]
    if public:
        inner = (
            f"{_ONGOING_OF_TEAM} AND i.private = 0 UNION ALL {_ONGOING_OF_MINE} AND i.private = 1"
        )
        args = [team_id, user_id, team_id, checked, since]
    else:
        inner, args = _ONGOING_OF_MINE, [user_id, team_id, checked, since]
    sql = (
        "SELECT playbook_title, severity, count(*), sum(created_at >= ?)"  # noqa: S608
        f" FROM ({inner}) GROUP BY playbook_title, severity"
    )
    return sql, args


_SORT_KEYS: dict[str, str] = {
    "created_at": "i.created_at",
    "ended_at": "coalesce(i.ended_at, -1)",
    "name": "py_lower(i.name)",
}


def _filtered(team_ids: Sequence[str], where: IncidentFilter) -> tuple[str, list[object]]:
    """The condition of a listing's filter (on the incident's columns) and its arguments."""
    cond = f"i.team_id IN ({','.join('?' * len(team_ids))})"
    args: list[object] = list(team_ids)
    for column, value in (
        ("i.status = ?", None if where.status is None else where.status.value),
        ("i.commander_id = ?", where.commander_id),
        ("i.playbook_id = ?", where.playbook_id),
        ("py_lower(i.severity) = ?", None if where.severity is None else where.severity.lower()),
        ("i.created_at >= ?", where.started_after),
        ("i.created_at <= ?", where.started_before),
        ("i.ended_at >= ?", where.ended_after),
        ("i.ended_at <= ?", where.ended_before),
    ):
        if value is not None:
            cond += f" AND {column}"
            args.append(value)
    return cond, args


def _visible(public: bool) -> str:
    """The visibility condition (args: user id, checked, since): public incidents for those
    who read the team's public channels, else membership of a known channel."""
    if public:
        return f" AND (i.private = 0 OR ({_MEMBER} AND {_KNOWN}))"
    return f" AND {_MEMBER} AND {_KNOWN}"


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
