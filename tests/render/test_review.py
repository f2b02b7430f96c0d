"""Timeline sentences for every event kind, including data written by other modules."""

from __future__ import annotations

from bot.domain.models import EventKind, TimelineEvent
from bot.domain.review import TaskDone
from bot.render.review import event_text, event_user_ids, review, timeline
from bot.render.views import Names
from tests.domain.test_review import make

A, B = "a" * 26, "b" * 26
NAMES = Names({A: "alice", B: "bob"})


def text(kind: EventKind, **data: object) -> str:
    return event_text(TimelineEvent(kind=kind, at=0, actor_id=A, data=data), NAMES)


def test_every_kind_has_a_sentence() -> None:
    for kind in EventKind:
        assert text(kind).startswith("@alice "), kind


def test_known_kinds_read_as_sentences() -> None:
    assert text(EventKind.COMMANDER_CHANGED, **{"from": A, "to": B}).endswith(
        "changed the commander from @alice to @bob"
    )
    task = {"task_id": "t1", "title": "Ack *now*", "stage": 0, "stage_title": "Triage"}
    assigned = text(EventKind.TASK_ASSIGNED, **task, **{"from": "", "to": B})
    assert assigned == "@alice changed the assignee of **Ack *now*** (Triage) from nobody to @bob"
    assert text(EventKind.TASK_CHECKED, **task) == "@alice checked off **Ack *now*** (Triage)"
    moved = text(
        EventKind.STAGE_CHANGED, **{"from": 0, "to": 1, "from_title": "A", "to_title": "B"}
    )
    assert moved == "@alice moved the stage from **A** to **B**"
    ran = text(EventKind.COMMAND_RUN, **task, command="/echo hi")
    assert ran == "@alice ran `/echo hi` for **Ack *now*** (Triage)"
    reminder = text(EventKind.STATUS_UPDATED, post_id="p", reminder_seconds=3600)
    assert reminder == "@alice posted a status update (next update due in 1h)"


def test_other_data_is_rendered_generically() -> None:
    announced = text(EventKind.ANNOUNCED, channels=["ops", "town"], count=2)
    assert announced == "@alice announced the incident (channels: ops, town; count: 2)"
    update = text(EventKind.STATUS_UPDATED, message="All good\nreally")
    assert update.endswith(":\n> All good\n> really")
    pinned = text(EventKind.POST_PINNED, message="hi", link="http://x/pl/1", author_id=B)
    assert "[post by @bob](http://x/pl/1)" in pinned and pinned.endswith("> hi")


def test_user_ids_in_data_are_collected() -> None:
    event = TimelineEvent(kind=EventKind.TASK_ASSIGNED, at=0, actor_id=A, data={"to": B, "x": 1})
    assert event_user_ids([event]) == {A, B}


def test_long_timelines_keep_the_newest_events() -> None:
    inc = make(1, created=0)
    events = [
        TimelineEvent(
            kind=EventKind.STATUS_UPDATED, at=n * 60_000, actor_id=A, data={"message": f"u{n}"}
        )
        for n in range(200)
    ]
    shown = timeline(inc, events, NAMES)
    assert "earlier events left out" in shown and "> u199" in shown and "> u0\n" not in shown
    assert len(shown) < 16_000


def test_a_review_with_many_tasks_and_events_fits_in_one_post() -> None:
    inc = make(1, created=0)
    tasks = [TaskDone("S", "A long task title " * 5, n * 1000, A) for n in range(300)]
    events = [
        TimelineEvent(kind=EventKind.STATUS_UPDATED, at=n, actor_id=A, data={"message": "x" * 300})
        for n in range(500)
    ]
    text = review(inc, events=events, names=NAMES, now=10**9, members=3, messages=9, tasks=tasks)
    assert len(text) < 16_000 and "and 270 more" in text
