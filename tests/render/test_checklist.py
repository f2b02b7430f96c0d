from typing import Any

from bot.domain.models import EventKind, Incident, IncidentStatus, Stage, Task, TaskState
from bot.domain.models import TimelineEvent as Event
from bot.render import checklist, post_size
from bot.render.views import Names

A, B = "a" * 26, "b" * 26
NAMES = Names({A: "alice", B: "bob"})


class FakeButtons:
    """Records what each button means instead of signing it."""

    def button(
        self,
        *,
        action_id: str,
        label: str,
        action: str,
        incident_id: str,
        style: str = "default",
        params: dict[str, Any] | None = None,
        user_id: str = "",
        ttl_ms: int | None = None,
    ) -> dict[str, Any]:
        return {"id": action_id, "name": label, "action": action, "params": params or {}}

    def user_select(
        self,
        *,
        action_id: str,
        label: str,
        action: str,
        incident_id: str,
        params: dict[str, Any] | None = None,
        user_id: str = "",
    ) -> dict[str, Any]:
        return {"id": action_id, "name": label, "action": action, "params": params or {}}


def one_post(incident: Incident, names: Names, buttons: FakeButtons) -> tuple[str, dict[str, Any]]:
    """The checklist of a small stage: a single post."""
    posts = checklist.checklist_posts(incident, names, buttons)
    assert len(posts) == 1
    return posts[0]


def make(**update: Any) -> Incident:
    incident = Incident(
        id="i" * 26,
        team_id="t" * 26,
        channel_id="c" * 26,
        channel_name="disk-full",
        name="Disk full",
        reporter_id=A,
        commander_id=A,
        created_at=0,
        stages=(
            Stage(
                title="Triage",
                tasks=(
                    Task(id="t1", title="Ack", state=TaskState.DONE, assignee_id=B),
                    Task(id="t2", title="Owner", description="x", state=TaskState.IN_PROGRESS),
                    Task(id="t3", title="Run *it*", command="/echo hi", state=TaskState.SKIPPED),
                ),
            ),
            Stage(title="Resolution"),
            Stage(title="Review"),
        ),
    )
    return incident.model_copy(update=update)


def test_the_checklist_post_of_the_first_stage() -> None:
    _, props = one_post(make(), NAMES, FakeButtons())
    rows = props["attachments"]
    assert rows[0]["title"] == "Stage 1/3: Triage" and rows[0]["text"] == "2/3 done"
    assert rows[1]["text"] == "**1.** ☑ Ack · @bob"
    assert (
        rows[2]["text"]
        == "**2.** ◐ Owner · _in progress_ · _no assignee_ · :information_source: has notes"
    )
    assert rows[3]["text"].startswith("**3.** ⊘ Run *it* · _skipped_")
    assert [(a["id"], a["name"], a["params"]) for a in rows[1]["actions"]] == [
        ("uncheckt1", "Uncheck", {"t": "t1", "to": "open"}),
        ("assignt1", "@bob", {"t": "t1"}),
    ]
    assert [a["id"] for a in rows[2]["actions"]] == ["checkt2", "assignt2", "infot2"]
    assert [a["id"] for a in rows[3]["actions"]] == ["uncheckt3", "assignt3", "runt3"]
    stage = rows[-1]["actions"]
    assert [(a["id"], a["action"], a["params"]) for a in stage] == [
        ("next1", "stagenext", {"from": 0}),
        ("end", "end", {}),
    ]


def test_a_middle_stage_and_an_ended_incident() -> None:
    _, props = one_post(make(active_stage=1, status=IncidentStatus.ENDED), NAMES, FakeButtons())
    rows = props["attachments"]
    assert rows[0]["text"] == "_No tasks in this stage._"
    assert [a["id"] for a in rows[-1]["actions"]] == ["prev2", "next2", "restart"]
    assert rows[-1]["text"] == "Next: Review"
    _, last = one_post(make(active_stage=2), NAMES, FakeButtons())
    assert [a["id"] for a in last["attachments"][-1]["actions"]] == ["prev3", "end"]
    assert last["attachments"][-1]["text"] == "This is the last stage."


def test_no_stages() -> None:
    _, props = one_post(make(stages=()), NAMES, FakeButtons())
    assert props["attachments"][0]["text"] == "This playbook has no stages."
    assert [a["id"] for a in props["attachments"][-1]["actions"]] == ["end"]


def about(**extra: Any) -> dict[str, Any]:
    return {
        "task_id": "t1",
        "title": "Ack",
        "stage": 0,
        "stage_title": "Triage",
        "position": 0,
    } | extra


def line(kind: EventKind, **data: Any) -> str:
    return checklist.change_line(Event(kind=kind, at=1, actor_id=A, data=data), NAMES)


def test_change_lines() -> None:
    assert line(EventKind.TASK_CHECKED, **about()) == "@alice checked off task 1 **Ack** (Triage)."
    assert line(EventKind.TASK_UNCHECKED, **about()) == "@alice unchecked task 1 **Ack** (Triage)."
    assert (
        line(EventKind.TASK_ASSIGNED, **about(**{"from": "", "to": B}))
        == "@alice changed the assignee of task 1 **Ack** from nobody to @bob."
    )
    assert (
        line(EventKind.STAGE_CHANGED, **{"from": 0, "to": 1, "from_title": "A", "to_title": "B"})
        == "@alice moved the incident from stage 1 **A** to stage 2 **B**."
    )
    assert line(EventKind.COMMAND_RUN, **about(command="/x")).startswith(
        "@alice ran `/x` for task 1 **Ack** (as the warroom bot)."
    )
    assert line(EventKind.TASK_EDITED, **about(op="added")) == (
        "@alice added task 1 **Ack** to stage 1 **Triage**."
    )
    assert line(EventKind.TASK_EDITED, **about(op="moved", to=2)).endswith("to position 3.")
    assert line(EventKind.TASK_EDITED, **about(op="edited", changed=["title"])).endswith("(title).")


def test_ranges_and_failures() -> None:
    assert checklist.stage_range(1) == "This incident has 1 stage."
    assert checklist.task_range(2, Stage(title="x")) == "Stage 2 has no tasks."
    assert checklist.not_a_number("a_`b") == "``a_`b``."
    assert "doesn't know" in checklist.run_failed("/x", "unknown")


def test_a_long_stage_is_split_over_posts_in_order_each_within_the_budget() -> None:
    tasks = tuple(Task(id=f"t{i}", title=f"Task {i} " + "x" * 190) for i in range(40))
    incident = make(stages=(Stage(title="Big", tasks=tasks), Stage(title="Next")))
    posts = checklist.checklist_posts(incident, NAMES, FakeButtons())
    assert len(posts) > 1
    blocks = [a for _, props in posts for a in props["attachments"]]
    assert blocks == checklist.checklist_blocks(incident, NAMES, FakeButtons())
    assert all(post_size.props_runes(props) <= post_size.PROPS_BUDGET_RUNES for _, props in posts)
    assert posts[0][0] == ""
    assert posts[1][0] == f"_Checklist of stage 1, Big, continued (2/{len(posts)})_"
    assert posts[-1][1]["attachments"][-1]["fallback"] == "Stage actions"


def test_a_long_command_is_cut_in_its_row_and_shown_whole_by_info() -> None:
    command = "/run " + "a" * 200
    incident = make(stages=(Stage(title="S", tasks=(Task(id="t1", title="T", command=command),)),))
    _, props = one_post(incident, NAMES, FakeButtons())
    row = props["attachments"][1]
    assert command not in row["text"] and "`/run aaa" in row["text"] and "…`" in row["text"]
    assert [a["id"] for a in row["actions"]] == ["checkt1", "assignt1", "runt1", "infot1"]
    assert command in checklist.task_info(1, incident.stages[0].tasks[0], runs_as_bot=False)
