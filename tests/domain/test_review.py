"""Severity changes, task completion times and team stats, without I/O."""

from __future__ import annotations

from bot.domain import transitions
from bot.domain.models import (
    EventKind,
    Incident,
    IncidentStatus,
    Playbook,
    StageTemplate,
    TaskState,
    TaskTemplate,
)
from bot.domain.review import DAY_MS, change_severity, severity_order, stats, tasks_done

PB = Playbook(
    id="pb",
    title="Outage",
    team_id="t" * 26,
    stages=(
        StageTemplate(title="Triage", tasks=(TaskTemplate(title="A"), TaskTemplate(title="B"))),
    ),
)


def make(
    n: int, *, created: int, ended: int | None = None, severity: str = "", title: str = "Outage"
) -> Incident:
    inc, _ = transitions.new_incident(
        incident_id=f"{n:026d}", playbook=PB.model_copy(update={"title": title}), team_id="t" * 26,
        channel_id=f"c{n:025d}", channel_name=f"i{n}", name=f"I{n}", description="",
        reporter_id="u" * 26, now=created, severity=severity,
    )  # fmt: skip
    if ended is not None:
        inc = inc.model_copy(update={"status": IncidentStatus.ENDED, "ended_at": ended})
    return inc


def test_change_severity_records_from_and_to_and_ignores_the_same_level() -> None:
    inc = make(1, created=0)
    changed, events = change_severity(inc, actor_id="a" * 26, level="SEV2", now=5)
    assert changed.severity == "SEV2"
    assert [(e.kind, e.at, e.data) for e in events] == [
        (EventKind.SEVERITY_CHANGED, 5, {"from": "", "to": "SEV2"})
    ]
    assert change_severity(changed, actor_id="a" * 26, level="SEV2", now=6) == (changed, [])


def test_tasks_done_in_completion_order_relative_to_the_start() -> None:
    inc = make(1, created=1_000)
    stage = inc.stages[0]
    a, b = stage.tasks
    tasks = (
        a.model_copy(update={"state": TaskState.DONE, "done_at": 61_000, "done_by": "x"}),
        b.model_copy(update={"state": TaskState.DONE, "done_at": 31_000}),
    )
    inc = inc.model_copy(update={"stages": (stage.model_copy(update={"tasks": tasks}),)})
    assert [(t.title, t.after_ms) for t in tasks_done(inc)] == [("B", 30_000), ("A", 60_000)]
    reopened = tasks[0].model_copy(update={"state": TaskState.OPEN})
    inc = inc.model_copy(
        update={"stages": (stage.model_copy(update={"tasks": (reopened, tasks[1])}),)}
    )
    assert [t.title for t in tasks_done(inc)] == ["B"]


def test_stats_counts_the_window_and_groups() -> None:
    now = 100 * DAY_MS
    incidents = [
        make(1, created=now - 2 * DAY_MS, ended=now - DAY_MS, severity="SEV1"),  # 1 day
        make(2, created=now - 3 * DAY_MS, ended=now - 2 * DAY_MS + 3_600_000, severity="SEV1"),
        make(3, created=now - 40 * DAY_MS, ended=now - 35 * DAY_MS),  # outside the window
        make(4, created=now - 50 * DAY_MS, title="Security"),  # old but ongoing
        make(5, created=now - DAY_MS, severity="SEV3", title="Security"),
    ]
    result = stats(incidents, days=30, now=now)
    assert (result.total.started, result.total.ended, result.total.ongoing) == (3, 2, 2)
    assert result.total.mean_ms == DAY_MS + 1_800_000
    assert result.total.median_ms == DAY_MS + 1_800_000
    assert list(result.by_playbook) == ["Outage", "Security"]
    assert result.by_playbook["Security"].ongoing == 2
    assert result.by_playbook["Security"].mean_ms is None
    ordered = severity_order(result.by_severity, ["SEV1", "SEV2", "SEV3"])
    assert list(ordered) == ["SEV1", "SEV3", ""]
    assert ordered["SEV1"].ended == 2
