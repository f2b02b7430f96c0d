from pathlib import Path

import pytest

from bot.services.playbook_file import PlaybookFileError, parse

F = Path("playbooks.yaml")

GOOD = """
playbooks:
  - title: Outage
    team: acme
    broadcast_channel: ~ops-alerts
    invite: ["@alice"]
    members: ["@Bob"]
    reminder_minutes: 60
    stages:
      - title: Triage
        tasks:
          - title: Ack
            command: /echo hi
"""


def test_good_file_parses_and_normalises_names() -> None:
    parsed = parse(GOOD, F)
    pb = parsed.playbooks[0]
    assert pb.broadcast_channel == "ops-alerts"
    assert pb.invite == ["alice"] and pb.members == ["bob"]
    assert pb.stages[0].tasks[0].command == "/echo hi"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            GOOD.replace("/echo hi", "echo hi"),
            "playbooks[0]: stages[0].tasks[0].command: A command starts with /",
        ),
        (
            GOOD.replace("reminder_minutes: 60", "reminder_minutes: 7"),
            "playbooks[0].reminder_minutes",
        ),
        (GOOD.replace("title: Outage", "titel: Outage"), "playbooks[0].titel"),
        (GOOD.replace('["@alice"]', '["not a user"]'), "playbooks[0].invite"),
        ("playbooks: [\n", "line"),
        ("- just a list", "top level"),
        (GOOD + GOOD.replace("playbooks:\n", ""), "duplicate"),
        (
            GOOD.replace("          - title: Ack\n            command: /echo hi\n", "").replace(
                "tasks:", "tasks: []"
            ),
            "playbooks[0]: stages[0].tasks: A stage needs at least one task.",
        ),
        (
            GOOD.replace("      - title: Triage\n", "      - title: Triage\n      - title: Fix\n"),
            "playbooks[0]: stages[0].tasks: A stage needs at least one task.",
        ),
        (
            GOOD.split("    stages:")[0],
            "playbooks[0]: stages: A playbook needs at least one stage.",
        ),
        (GOOD.split("    stages:")[0] + "    stages: []\n", "playbooks[0]: stages: A playbook"),
    ],
)
def test_bad_files_name_the_path_and_reason(text: str, problem: str) -> None:
    with pytest.raises(PlaybookFileError) as info:
        parse(text, F)
    assert any(problem in p for p in info.value.problems), info.value.problems


@pytest.mark.parametrize(
    "text", ["", "\n# only a comment\n", "playbooks:\n", "severity_levels: [P1, P2]\n"]
)
def test_an_empty_file_or_one_without_the_playbooks_list_is_refused(text: str) -> None:
    """An empty file is a mistake, not "no playbooks": it says what the file needs."""
    with pytest.raises(PlaybookFileError) as info:
        parse(text, F)
    assert len(info.value.problems) == 1
    assert "needs a `playbooks:` list" in info.value.problems[0]


def test_without_the_playbooks_list_the_rest_of_the_file_is_checked_too() -> None:
    with pytest.raises(PlaybookFileError) as info:
        parse("severity_levels: [P1, P1]\n", F)
    assert info.value.problems[0].startswith("playbooks: missing")
    assert "distinct" in info.value.problems[1]


def test_an_explicit_empty_list_says_all_playbooks_are_made_in_chat() -> None:
    assert parse("playbooks: []\nseverity_levels: [P1, P2]\n", F).playbooks == []


def test_the_readme_example_is_a_valid_file_and_line_format() -> None:
    import re

    from bot.services import playbook_text

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## playbooks.yaml") :]
    example = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert example is not None
    pb = parse(example.group(1), F).playbooks[0]
    assert pb.members == ["alice", "bob"] and pb.stages[0].tasks[1].command.startswith("/")
    lines = re.search(r"\*\*Stages and tasks as text\*\*.*?```\n(.*?)```", section, re.S)
    assert lines is not None
    stages = playbook_text.parse(lines.group(1))
    assert [s.title for s in stages] == ["Triage", "Resolution"]


def test_the_shipped_playbooks_yaml_is_valid_and_offered_in_every_team() -> None:
    shipped = Path(__file__).resolve().parents[2] / "playbooks.yaml"
    parsed = parse(shipped.read_text(), shipped)
    assert parsed.playbooks and all(pb.team == "*" for pb in parsed.playbooks)


def test_signals_are_validated_like_the_rest() -> None:
    with_signals = GOOD.replace(
        "    reminder_minutes: 60\n",
        "    reminder_minutes: 60\n"
        '    signal_keywords: ["DB  Down", "outage"]\n'
        "    signal_channels: [~Town-Square]\n",
    )
    pb = parse(with_signals, F).playbooks[0]
    assert (pb.signal_keywords, pb.signal_channels) == (["db down", "outage"], ["town-square"])
    problems = {
        "signal_channels: [~town-square]\n": "playbooks[0]: signal_keywords and"
        " signal_channels go together",
        'signal_keywords: ["x", "y"]\n': "playbooks[0].signal_keywords[0]: at least 2 characters",
        'signal_keywords: ["Outage", "outage"]\n    signal_channels: [town]\n': (
            "playbooks[0].signal_keywords: keywords must be distinct"
        ),
        'signal_keywords: ["outage"]\n    signal_channels: ["#town"]\n': (
            "playbooks[0].signal_channels: '#town' is not a channel name"
        ),
    }
    for lines, problem in problems.items():
        text = GOOD.replace("    reminder_minutes: 60\n", "    reminder_minutes: 60\n    " + lines)
        with pytest.raises(PlaybookFileError) as caught:
            parse(text, F)
        assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("  - team: acme\n", "playbooks[0].title: missing (required)"),
        (
            "  - title: A\n    team: acme\n    stages: [{title: S, taks: [{title: T}]}]\n",
            "playbooks[0].stages[0].taks: unknown key `taks`; did you mean `tasks`?",
        ),
        (
            "  - titel: A\n    team: acme\n    stages: [{title: S, tasks: [{title: T}]}]\n",
            "playbooks[0].titel: unknown key `titel`; did you mean `title`?",
        ),
        (
            "  - title: A\n    team: acme\n    private: maybe\n"
            "    stages: [{title: S, tasks: [{title: T}]}]\n",
            "playbooks[0].private: must be true or false",
        ),
    ],
)
def test_problems_are_said_in_plain_words_with_the_closest_key_for_a_typo(
    body: str, problem: str
) -> None:
    """Rule: every schema problem is `path: reason` in plain words (no library jargon such
    as "Extra inputs are not permitted"); an unknown key names the closest known key."""
    with pytest.raises(PlaybookFileError) as caught:
        parse("playbooks:\n" + body, F)
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems
    jargon = ("Extra inputs", "Field required", "should have at least", "Input should")
    assert not any(j in p for p in caught.value.problems for j in jargon)
