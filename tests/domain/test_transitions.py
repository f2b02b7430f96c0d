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
