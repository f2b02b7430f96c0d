import pytest

from bot.domain import transitions
from bot.domain.models import EventKind, IncidentStatus, Playbook, StageTemplate, TaskTemplate
from bot.errors import InvalidTransition

PLAYBOOK = Playbook(
    id="pb",
    title="Outage",
    team_id="t" * 26,
    stages=(StageTemplate(title="Triage", tasks=(TaskTemplate(title="Ack"),)),),
    reminder_minutes=60,
    status_template="Impact:",
)


def make() -> transitions.Transition:
    return transitions.new_incident(
        incident_id="i" * 26,
        playbook=PLAYBOOK,
        team_id="t" * 26,
        channel_id="c" * 26,
        channel_name="disk-full",
        name="Disk full",
        description="db down",
        reporter_id="u" * 26,
        now=1000,
    )


def test_new_incident_copies_the_playbook_and_makes_the_reporter_commander() -> None:
    incident, events = make()
    assert incident.commander_id == "u" * 26
    assert incident.stages[0].tasks[0].title == "Ack"
    assert incident.reminder_minutes == 60
    assert incident.status_template == "Impact:"
    assert [e.kind for e in events] == [EventKind.CREATED]


def test_end_then_restart() -> None:
    incident, _ = make()
    ended, events = transitions.end(incident, actor_id="a", now=5000)
    assert ended.status is IncidentStatus.ENDED
    assert ended.ended_at == 5000
    assert ended.duration_ms(99999) == 4000
    assert events[0].kind is EventKind.ENDED
    with pytest.raises(InvalidTransition, match="already_ended"):
        transitions.end(ended, actor_id="a", now=6000)
    restarted, _ = transitions.restart(ended, actor_id="a", now=7000)
    assert restarted.is_ongoing and restarted.ended_at is None
    with pytest.raises(InvalidTransition, match="not_ended"):
        transitions.restart(restarted, actor_id="a", now=8000)


def test_change_commander_records_from_and_to() -> None:
    incident, _ = make()
    changed, events = transitions.change_commander(
        incident, actor_id="a", new_commander_id="b" * 26, now=2000
    )
    assert changed.commander_id == "b" * 26
    assert events[0].data == {"from": "u" * 26, "to": "b" * 26}
    with pytest.raises(InvalidTransition, match="already_commander"):
        transitions.change_commander(changed, actor_id="a", new_commander_id="b" * 26, now=1)


def test_archiving_the_channel_ends_an_ongoing_incident_once_with_the_reason() -> None:
    incident, _ = make()
    ended, events = transitions.channel_archived(incident, now=5000)
    assert ended.status is IncidentStatus.ENDED and ended.ended_at == 5000
    assert ended.channel_archived
    assert [(e.kind, e.data, e.actor_id) for e in events] == [
        (EventKind.ENDED, {"reason": "channel_archived"}, "")
    ]
    assert transitions.channel_archived(ended, now=6000) == (ended, [])  # twice: no change
    with pytest.raises(InvalidTransition, match="channel_archived"):
        transitions.restart(ended, actor_id="u" * 26, now=7000)


def test_archiving_an_ended_incident_only_marks_it_and_restoring_does_not_restart() -> None:
    incident, _ = make()
    ended, _ = transitions.end(incident, actor_id="u" * 26, now=2000)
    archived, events = transitions.channel_archived(ended, now=3000)
    assert archived.ended_at == 2000 and [e.kind for e in events] == [EventKind.CHANNEL_ARCHIVED]
    restored, events = transitions.channel_restored(archived, now=4000)
    assert restored.status is IncidentStatus.ENDED and not restored.channel_archived
    assert [e.kind for e in events] == [EventKind.CHANNEL_RESTORED]
    assert transitions.channel_restored(restored, now=5000) == (restored, [])
    again, _ = transitions.restart(restored, actor_id="u" * 26, now=6000)
    assert again.status is IncidentStatus.ONGOING


def test_a_rename_changes_only_the_channel_name() -> None:
    incident, _ = make()
    renamed, events = transitions.channel_renamed(incident, name="db-disk-full")
    assert renamed.channel_name == "db-disk-full" and events == []
    assert renamed.model_copy(update={"channel_name": "disk-full"}) == incident
    assert transitions.channel_renamed(incident, name="disk-full") == (incident, [])


def test_a_new_display_name_renames_the_incident_and_an_empty_one_does_not() -> None:
    incident, _ = make()
    renamed, events = transitions.channel_renamed(
        incident, name=incident.channel_name, display_name="Payments down"
    )
    assert renamed.name == "Payments down" and events == []
    assert transitions.channel_renamed(incident, name="", display_name="") == (incident, [])
