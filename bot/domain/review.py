"""Pure review arithmetic: severity changes, task completion times, team stats."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.domain.models import EventKind, Incident, TaskState, TimelineEvent
from bot.domain.transitions import Transition

DAY_MS = 24 * 60 * 60 * 1000


def change_severity(incident: Incident, *, actor_id: str, level: str, now: int) -> Transition:
    """Set the severity; the same level again changes nothing and records nothing."""
    if incident.severity == level:
        return incident, []
    changed = incident.model_copy(update={"severity": level})
    event = TimelineEvent(
        kind=EventKind.SEVERITY_CHANGED,
        at=now,
        actor_id=actor_id,
        data={"from": incident.severity, "to": level},
    )
    return changed, [event]


@dataclass(frozen=True)
class TaskDone:
    stage: str
    title: str
    after_ms: int  # since the incident's start
    by: str


def tasks_done(incident: Incident) -> list[TaskDone]:
    """Completed tasks in the order they were completed."""
    done = [
        TaskDone(stage.title, task.title, max(0, task.done_at - incident.created_at), task.done_by)
        for stage in incident.stages
        for task in stage.tasks
        if task.state is TaskState.DONE and task.done_at is not None
    ]
    return sorted(done, key=lambda t: t.after_ms)


@dataclass
class Group:
    """Counts of one slice of the incidents (all, one playbook, one severity)."""

    started: int = 0
    ended: int = 0
    ongoing: int = 0
    times_to_end: list[int] = field(default_factory=list)

    @property
    def mean_ms(self) -> int | None:
        return round(statistics.fmean(self.times_to_end)) if self.times_to_end else None

    @property
    def median_ms(self) -> int | None:
        return round(statistics.median(self.times_to_end)) if self.times_to_end else None


@dataclass
class Stats:
    days: int
    total: Group
    by_playbook: dict[str, Group]
    by_severity: dict[str, Group]
    unknown: int = 0  # private incidents left out: their channel's members are not yet known


@dataclass(frozen=True)
class StatsRow:
    """What the stats count of one incident, or of several ongoing ones that share playbook
    and severity (the store counts those): ``started`` of them began within the window,
    ``ongoing`` are still ongoing; ``time_to_end`` (ms) of one that ended within it."""

    playbook_title: str
    severity: str
    started: int = 0
    ongoing: int = 0
    time_to_end: int | None = None


def stats_rows(incidents: Iterable[Incident], *, since: int) -> list[StatsRow]:
    """One :class:`StatsRow` per incident, for a window beginning at ``since`` (ms)."""
    rows = []
    for inc in incidents:
        ended = (
            inc.ended_at - inc.created_at
            if not inc.is_ongoing and inc.ended_at is not None and inc.ended_at >= since
            else None
        )
        rows.append(
            StatsRow(
                playbook_title=inc.playbook_title,
                severity=inc.severity,
                started=int(inc.created_at >= since),
                ongoing=int(inc.is_ongoing),
                time_to_end=ended,
            )
        )
    return rows


def stats(incidents: Iterable[Incident], *, days: int, now: int) -> Stats:
    """Started and ended within the last ``days``; ongoing now; time to end of those ended."""
    return stats_of(stats_rows(incidents, since=now - days * DAY_MS), days=days)


def stats_of(rows: Iterable[StatsRow], *, days: int, unknown: int = 0) -> Stats:
    """:func:`stats` from rows already cut to the window (see :class:`StatsRow`)."""
    total = Group()
    by_playbook: dict[str, Group] = {}
    by_severity: dict[str, Group] = {}
    for row in rows:
        groups = (
            total,
            by_playbook.setdefault(row.playbook_title or "—", Group()),
            by_severity.setdefault(row.severity or "", Group()),
        )
        for group in groups:
            _count(group, row)
    return Stats(
        days=days,
        total=total,
        by_playbook=dict(sorted(by_playbook.items())),
        by_severity=by_severity,
        unknown=unknown,
    )


def _count(group: Group, row: StatsRow) -> None:
    group.started += row.started
    group.ongoing += row.ongoing
    if row.time_to_end is not None:
        group.ended += 1
        group.times_to_end.append(row.time_to_end)


def severity_order(groups: dict[str, Group], levels: Sequence[str]) -> dict[str, Group]:
    """Configured levels first (most severe first), unknown ones after, none last."""
    rank = {level: n for n, level in enumerate(levels)}
    keys = sorted(groups, key=lambda k: (k == "", rank.get(k, len(rank)), k))
    return {k: groups[k] for k in keys}
