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


def stats(incidents: Iterable[Incident], *, days: int, now: int) -> Stats:
    """Started and ended within the last ``days``; ongoing now; time to end of those ended."""
    since = now - days * DAY_MS
    total = Group()
    by_playbook: dict[str, Group] = {}
    by_severity: dict[str, Group] = {}
    for inc in incidents:
        groups = (
            total,
            by_playbook.setdefault(inc.playbook_title or "—", Group()),
            by_severity.setdefault(inc.severity or "", Group()),
        )
        for group in groups:
            _count(group, inc, since)
    return Stats(
        days=days,
        total=total,
        by_playbook=dict(sorted(by_playbook.items())),
        by_severity=by_severity,
    )


def _count(group: Group, inc: Incident, since: int) -> None:
    if inc.created_at >= since:
        group.started += 1
    if inc.is_ongoing:
        group.ongoing += 1
    elif inc.ended_at is not None and inc.ended_at >= since:
        group.ended += 1
        group.times_to_end.append(inc.ended_at - inc.created_at)


def severity_order(groups: dict[str, Group], levels: Sequence[str]) -> dict[str, Group]:
    """Configured levels first (most severe first), unknown ones after, none last."""
    rank = {level: n for n, level in enumerate(levels)}
    keys = sorted(groups, key=lambda k: (k == "", rank.get(k, len(rank)), k))
    return {k: groups[k] for k in keys}
