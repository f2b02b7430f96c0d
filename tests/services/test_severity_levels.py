"""Severity levels from ``playbooks.yaml`` (optional) and their validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.services.playbook_file import PlaybookFileError, parse

F = Path("playbooks.yaml")


def test_levels_are_optional_and_kept_in_order() -> None:
    assert parse("playbooks: []\n", F).severity_levels == []
    parsed = parse("severity_levels: [P1, P2, P3]\nplaybooks: []\n", F)
    assert parsed.severity_levels == ["P1", "P2", "P3"]


@pytest.mark.parametrize(
    ("levels", "problem"),
    [
        ("[P1, p1]", "severity_levels: levels must be distinct"),
        ("[P 1]", "severity_levels: a level is one word"),
        ('[""]', "severity_levels[0]: must not be empty"),
    ],
)
def test_bad_levels_name_the_path(levels: str, problem: str) -> None:
    with pytest.raises(PlaybookFileError) as caught:
        parse(f"severity_levels: {levels}\nplaybooks: []\n", F)
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems
