import pytest

from bot.domain import checklist
from bot.domain.checklist import TaskFields
from bot.domain.models import EventKind, Incident, Stage, Task, TaskState
from bot.errors import InvalidTransition

A, B = "a" * 26, "b" * 26


def make(active: int = 0) -> Incident:
    return Incident(
        id="i" * 26,
        team_id="t" * 26,
        channel_id="c" * 26,
        channel_name="disk-full",
        name="Disk full",
        reporter_id=A,
        commander_id=A,
        created_at=0,
        active_stage=active,
        stages=(
            Stage(
                title="Triage",
                tasks=(
                    Task(id="t1", title="Ack"),
                    Task(id="t2", title="Owner", description="catalogue"),
                    Task(id="t3", title="Announce", command="/echo hi"),
                ),
            ),
            Stage(title="Resolution", tasks=(Task(id="t4", title="Confirm"),)),
        ),
    )


def titles(incident: Incident, stage: int = 0) -> list[str]:
    return [t.title for t in incident.stages[stage].tasks]


def test_task_ids_are_unique_and_survive_copies() -> None:
    one, two = Task(title="x"), Task(title="x")
    assert one.id != two.id and one.id.isalnum()
    assert one.model_copy(update={"title": "y"}).id == one.id


def test_check_then_uncheck_records_who_and_when() -> None:
    done, events = checklist.set_done(make(), task_id="t2", done=True, actor_id=B, now=50)
    task = done.stages[0].tasks[1]
    assert (task.state, task.done_at, task.done_by) == (TaskState.DONE, 50, B)
    assert done.stages[0].done_count == 1
    assert [e.kind for e in events] == [EventKind.TASK_CHECKED]
    assert events[0].data == {
        "task_id": "t2",
        "title": "Owner",
        "stage": 0,
        "stage_title": "Triage",
        "position": 1,
    }
    assert events[0].actor_id == B and events[0].at == 50
    undone, events = checklist.set_done(done, task_id="t2", done=False, actor_id=A, now=60)
    assert undone.stages[0].tasks[1].state is TaskState.OPEN
    assert undone.stages[0].tasks[1].done_at is None
    assert [e.kind for e in events] == [EventKind.TASK_UNCHECKED]


def test_applying_an_intent_that_already_holds_changes_nothing() -> None:
    done, _ = checklist.set_done(make(), task_id="t1", done=True, actor_id=B, now=50)
    again, events = checklist.set_done(done, task_id="t1", done=True, actor_id=A, now=70)
    assert again is done and events == []
    assert checklist.set_done(make(), task_id="t1", done=False, actor_id=A, now=1)[1] == []


def test_toggle_flips_and_a_skipped_task_counts_as_done() -> None:
    on, _ = checklist.toggle(make(), task_id="t1", actor_id=A, now=1)
    assert on.stages[0].tasks[0].state is TaskState.DONE
    off, _ = checklist.toggle(on, task_id="t1", actor_id=A, now=2)
    assert off.stages[0].tasks[0].state is TaskState.OPEN
    skipped = checklist._replace(
        make(), checklist.locate(make(), "t1"), Task(id="t1", title="Ack", state=TaskState.SKIPPED)
    )
    reopened, events = checklist.toggle(skipped, task_id="t1", actor_id=A, now=3)
    assert reopened.stages[0].tasks[0].state is TaskState.OPEN
    assert events[0].kind is EventKind.TASK_UNCHECKED


def test_a_vanished_task_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="task_gone"):
        checklist.set_done(make(), task_id="nope", done=True, actor_id=A, now=1)


def test_assign_records_from_and_to_and_ignores_the_same_assignee() -> None:
    assigned, events = checklist.assign(make(), task_id="t3", assignee_id=B, actor_id=A, now=5)
    assert assigned.stages[0].tasks[2].assignee_id == B
    assert events[0].kind is EventKind.TASK_ASSIGNED
    assert (events[0].data["from"], events[0].data["to"]) == ("", B)
    assert checklist.assign(assigned, task_id="t3", assignee_id=B, actor_id=A, now=6)[1] == []


def test_record_run_sets_last_run() -> None:
    ran, events = checklist.record_run(make(), task_id="t3", actor_id=A, now=9)
    assert ran.stages[0].tasks[2].last_run_at == 9
    assert events[0].kind is EventKind.COMMAND_RUN and events[0].data["command"] == "/echo hi"


def test_stage_moves_and_their_limits() -> None:
    moved, events = checklist.move_stage(make(), from_stage=0, step=1, actor_id=A, now=3)
    assert moved.active_stage == 1
    assert events[0].kind is EventKind.STAGE_CHANGED
    assert events[0].data == {"from": 0, "to": 1, "from_title": "Triage", "to_title": "Resolution"}
    # a second click meant for stage 1 -> 2 finds the incident already moved: nothing happens
    same, none = checklist.move_stage(moved, from_stage=0, step=1, actor_id=A, now=4)
    assert same is moved and none == []
    with pytest.raises(InvalidTransition, match="last_stage"):
        checklist.move_stage(moved, from_stage=1, step=1, actor_id=A, now=5)
    with pytest.raises(InvalidTransition, match="first_stage"):
        checklist.move_stage(make(), from_stage=0, step=-1, actor_id=A, now=5)
    back, _ = checklist.move_stage(moved, from_stage=1, step=-1, actor_id=A, now=6)
    assert back.active_stage == 0
    empty = make().model_copy(update={"stages": ()})
    with pytest.raises(InvalidTransition, match="no_stages"):
        checklist.stage_target(empty, 1)


def test_open_tasks_of_the_active_stage() -> None:
    assert [t.id for t in checklist.open_tasks(make())] == ["t1", "t2", "t3"]
    assert [t.id for t in checklist.open_tasks(make(active=1))] == ["t4"]
    assert checklist.open_tasks(make().model_copy(update={"stages": ()})) == []


def test_add_edit_remove_move() -> None:
    added, events = checklist.add_task(
        make(), stage=1, task_id="t9", fields=TaskFields("Post-mortem"), actor_id=A, now=1
    )
    assert titles(added, 1) == ["Confirm", "Post-mortem"]
    assert events[0].kind is EventKind.TASK_EDITED
    assert events[0].data["op"] == "added" and events[0].data["position"] == 1
    with pytest.raises(InvalidTransition, match="stage_gone"):
        checklist.add_task(make(), stage=5, task_id="x", fields=TaskFields("x"), actor_id=A, now=1)

    fields = TaskFields("Acknowledge", "in the pager", "/echo ack")
    edited, events = checklist.edit_task(make(), task_id="t1", fields=fields, actor_id=A, now=2)
    task = edited.stages[0].tasks[0]
    assert (task.title, task.description, task.command, task.id) == (
        "Acknowledge",
        "in the pager",
        "/echo ack",
        "t1",
    )
    assert events[0].data["changed"] == ["command", "description", "title"]
    assert events[0].data["old_title"] == "Ack"
    same = TaskFields("Ack")
    assert checklist.edit_task(make(), task_id="t1", fields=same, actor_id=A, now=3)[1] == []

    removed, events = checklist.remove_task(make(), task_id="t2", actor_id=A, now=4)
    assert titles(removed) == ["Ack", "Announce"]
    assert events[0].data["op"] == "removed" and events[0].data["title"] == "Owner"
    with pytest.raises(InvalidTransition, match="last_task"):  # a stage keeps one task
        checklist.remove_task(make(), task_id="t4", actor_id=A, now=4)

    moved, events = checklist.move_task(make(), task_id="t3", position=0, actor_id=A, now=5)
    assert titles(moved) == ["Announce", "Ack", "Owner"]
    assert events[0].data["to"] == 0 and events[0].data["position"] == 2
    assert checklist.move_task(make(), task_id="t3", position=2, actor_id=A, now=5)[1] == []
    with pytest.raises(InvalidTransition, match="position_gone"):
        checklist.move_task(make(), task_id="t3", position=3, actor_id=A, now=5)


def test_set_state_records_from_and_to() -> None:
    started, events = checklist.set_state(
        make(), task_id="t1", state=TaskState.IN_PROGRESS, actor_id=A, now=1
    )
    assert started.stages[0].tasks[0].state is TaskState.IN_PROGRESS
    assert started.stages[0].done_count == 0
    assert events[0].kind is EventKind.TASK_STATE_CHANGED
    assert (events[0].data["from"], events[0].data["to"]) == ("open", "in_progress")
    skipped, _ = checklist.set_state(
        started, task_id="t1", state=TaskState.SKIPPED, actor_id=B, now=2
    )
    task = skipped.stages[0].tasks[0]
    assert (task.done_at, task.done_by, skipped.stages[0].done_count) == (2, B, 1)
    same = checklist.set_state(skipped, task_id="t1", state=TaskState.SKIPPED, actor_id=B, now=3)
    assert same == (skipped, [])


def test_tasks_saved_without_ids_get_the_same_ids_on_every_load() -> None:
    legacy = make().model_dump(mode="json")
    for stage in legacy["stages"]:
        for t in stage["tasks"]:
            del t["id"]
    one, two = Incident.model_validate(legacy), Incident.model_validate(legacy)
    assert [t.id for t in one.stages[0].tasks] == ["s0t0", "s0t1", "s0t2"]
    assert one == two and one.stages[1].tasks[0].id == "s1t0"
    assert Incident.model_validate_json(make().model_dump_json()).stages[0].tasks[0].id == "t1"
