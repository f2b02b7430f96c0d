"""Reading exports: Mattermost Incident Management 1.x, Playbooks, and warroom's own YAML."""

import json
from pathlib import Path

import pytest

from bot.domain.models import Playbook, StageTemplate, TaskTemplate
from bot.services.playbook_export import to_yaml
from bot.services.playbook_file import parse
from bot.services.playbook_import import NotImportable, read

U1, U2, CH = "a" * 26, "b" * 26, "c" * 26

# The shape Incident Management 1.x returned from GET /playbooks/{id}.
INCIDENT_MANAGEMENT = {
    "id": "p" * 26,
    "title": "Outage",
    "description": "Old plugin",
    "team_id": "t" * 26,
    "create_public_incident": True,
    "create_at": 1600000000000,
    "delete_at": 0,
    "num_stages": 1,
    "num_steps": 1,
    "checklists": [
        {
            "id": "k" * 26,
            "title": "Triage",
            "items": [
                {
                    "id": "i" * 26,
                    "title": "Ack",
                    "state": "closed",
                    "state_modified": 1600000000001,
                    "assignee_id": U1,
                    "command": "/echo hi",
                    "command_last_run": 0,
                    "description": "",
                }
            ],
        }
    ],
    "member_ids": [U1, U2],
    "broadcast_channel_id": CH,
    "reminder_message_template": "Impact:",
    "reminder_timer_default_seconds": 900,
    "invited_user_ids": [U2],
    "invite_users_enabled": False,
    "default_commander_id": U1,
    "default_commander_enabled": True,
    "webhook_on_creation_url": "https://hooks.example.com/x",
    "webhook_on_creation_enabled": True,
}


def test_incident_management_playbook_maps_to_stages_and_reports_the_rest() -> None:
    draft = read(json.dumps(INCIDENT_MANAGEMENT))
    assert draft.kind == "mattermost" and draft.title == "Outage"
    assert draft.private is False and draft.reminder_minutes == 15
    assert draft.status_template == "Impact:"
    assert draft.stages == (
        StageTemplate(title="Triage", tasks=(TaskTemplate(title="Ack", command="/echo hi"),)),
    )
    assert draft.member_ids == [U1, U2] and draft.broadcast_ids == [CH]
    assert draft.invite_ids == []  # invite_users_enabled: false
    assert draft.unmapped == [
        "default_commander_id",
        "default_commander_enabled",
        "webhook_on_creation_url",
        "webhook_on_creation_enabled",
    ]


def test_playbooks_export_v1_with_members_and_rounded_reminder() -> None:
    export = {
        "title": "Escalation",
        "reminder_timer_default_seconds": 7200,
        "public": True,
        "members": [{"user_id": U1, "roles": ["playbook_admin"]}],
        "invited_user_ids": [U2],
        "checklists": [
            {"title": "A", "items": [{"title": "x", "due_date": 5}]},
            {"title": "B", "items": [{"title": "y"}]},
        ],
        "metrics": [{"title": "Time to ack", "type": "metric_duration"}],
        "version": 1,
    }
    draft = read(json.dumps(export))
    assert draft.team_wide is True and draft.private is True
    assert draft.member_ids == [U1] and draft.invite_ids == [U2]
    assert draft.reminder_minutes == 60 and draft.notes == [("reminder_rounded", "120|60")]
    assert draft.unmapped == ["checklists.items.due_date", "metrics"]
    assert [s.title for s in draft.stages] == ["A", "B"]
    assert draft.stages[1].tasks == (TaskTemplate(title="y"),)


@pytest.mark.parametrize(
    ("text", "reason", "problem"),
    [
        ("", "import_empty", ""),
        ('{"title": ', "import_bad_json", "line 1"),
        ("just words", "import_bad_json", ""),
        ("[1, 2]", "import_not_playbook", ""),
        ('{"title": "x"}', "import_not_playbook", ""),
        (
            '{"title": "", "checklists": []}',
            "import_invalid",
            "title: The playbook title must be 1 to",
        ),
        ('{"title": "x", "checklists": [3]}', "import_invalid", "checklists[0]: must be an object"),
        (
            '{"title": 5, "checklists": [{"title": "s", "items": [{"title": "t"}]}]}',
            "import_invalid",
            "title: must be text",
        ),
        ('{"title": "x", "checklists": []}', "import_invalid", "checklists: A playbook needs"),
        (
            '{"title": "x", "checklists": [{"title": "s", "items": [{"title": "t"}]},'
            ' {"title": "Later", "items": []}]}',
            "import_invalid",
            "checklists[1].items: A stage needs at least one task.",
        ),
        (
            "playbooks:\n  - title: x\n    team: t\n    stages: [{title: s}]\n",
            "import_invalid",
            "playbooks[0]: stages[0].tasks: A stage needs at least one task.",
        ),
        ("playbooks: []", "import_one_playbook", ""),
        ("playbooks:\n  - title: x\n", "import_invalid", "playbooks[0].team"),
        ("x" * (512 * 1024 + 1), "import_too_big", ""),
        ("[" * 5000 + "]" * 5000, "import_bad_json", "nested too deeply"),
    ],
)
def test_what_cannot_be_imported_says_why(text: str, reason: str, problem: str) -> None:
    with pytest.raises(NotImportable) as info:
        read(text)
    assert info.value.reason == reason
    if problem:
        assert any(problem in p for p in info.value.problems), info.value.problems


def test_export_is_accepted_by_playbooks_yaml_and_read_back_by_import() -> None:
    pb = Playbook(
        id="x",
        title="Outage",
        team_id="t",
        description="Two\nlines",
        stages=(
            StageTemplate(
                title="Triage",
                tasks=(TaskTemplate(title="Ack", description="See *this*.", command="/echo x"),),
            ),
        ),
        private_channel=False,
        reminder_minutes=60,
        invite_user_ids=(U2,),
        member_ids=(U1, "gone" + "g" * 22),
    )
    text = to_yaml(
        pb, team_name="acme", usernames={U1: "alice", U2: "bob"}, broadcast_channel="ops"
    )
    assert "description: |-\n      Two\n      lines\n" in text
    spec = parse(text, Path("playbooks.yaml")).playbooks[0]
    assert (spec.team, spec.members, spec.invite) == ("acme", ["alice"], ["bob"])
    assert spec.private is False and spec.broadcast_channel == "ops"
    draft = read(text)
    assert (
        draft.kind == "warroom" and draft.stages == pb.stages and draft.description == "Two\nlines"
    )
