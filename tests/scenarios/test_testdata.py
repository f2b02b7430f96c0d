"""`/incident test create-incident|bulk-data`: real backdated incidents, checked input."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.models import IncidentStatus
from bot.render.format import timestamp
from tests.scenarios.harness import World, world


@pytest.fixture
async def t(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path, testing_enabled=True) as built:
        yield built


def table(text: str) -> list[tuple[str, str, str]]:
    rows = re.findall(
        r"^\| (.+?) \| (\d{4}-\d\d-\d\d \d\d:\d\d UTC) \| (ongoing|ended) \|$", text, re.M
    )
    return [(name, at, status) for name, at, status in rows]


async def test_refused_when_testing_is_disabled_or_not_an_admin(w: World, t: World) -> None:
    off = await w.command(w.admin, "test bulk-data 1 0 2020-01-01 2020-02-01")
    assert "turned off" in off["text"]
    assert (
        "Only system admins"
        in (await t.command(t.alice, "test bulk-data 1 0 2020-01-01 2020-02-01"))["text"]
    )
    assert await t.app.services.incidents._store.list_team(t.team.id) == []


async def test_create_incident_backdates_a_real_incident(t: World) -> None:
    reply = await t.command(
        t.admin, 'test create-incident "public drill" 2020-03-04 Old PR testing'
    )
    assert table(reply["text"]) == [("Old PR testing", "2020-03-04 00:00 UTC", "ongoing")]
    incident = await t.incident_named("Old PR testing")
    assert incident.created_at == 1583280000000 and incident.playbook_title == "Public drill"
    assert t.card_field(incident, "Status") == "Ongoing"  # channel, card and all
    assert t.admin.id in t.mm.channel_members(incident.channel_id)
    by_id = await t.command(
        t.admin, f"test create-incident {incident.playbook_id} 2020-03-05 By id"
    )
    assert "By id" in by_id["text"]
    for text, expected in (
        ("test create-incident Nope 2020-03-04 Name", "no playbook `Nope`"),
        ("test create-incident Outage 2020-13-40 Name", "not a date"),
        ("test create-incident Outage 04.03.2026 Name", "not a date"),
        ("test create-incident Outage 2999-01-01 Name", "in the future"),
        ("test create-incident Outage 2020-03-04", "needs a name"),
        ("test create-incident", "needs a name"),
        ("test frobnicate", "Usage: `/incident test create-incident"),
    ):
        assert expected in (await t.command(t.admin, text))["text"], text


async def test_bulk_data_checks_in_the_spec_order(t: World, tmp_path: Path) -> None:
    for text, expected in (
        ("0 0 2020-02-01 2020-01-01", "Nothing to do"),
        ("1 0 2020-02-01 2020-01-01", "end date must be after the begin"),
        ("1 0 2020-02-01 2020-02-01", "end date must be after the begin"),
        ("x 0 2020-01-01 2020-02-01", "`x` is not a count"),
        ("1 -1 2020-01-01 2020-02-01", "`-1` is not a count"),
        ("101 0 2020-01-01 2020-02-01", "from 0 to 100"),
        ("60 41 2020-01-01 2020-02-01", "at most 100"),
        ("1 0 2020-01-01 yesterday", "not a date"),
        ("1 0 2020-01-01 2020-02-01 s33d", "not a seed"),
        ("1 0 2020-01-01", "4 or 5 arguments"),
        ("1 0 2020-01-01 2999-01-01", "in the future"),
    ):
        reply = (await t.command(t.admin, f"test bulk-data {text}"))["text"]
        assert expected in reply, text
    assert await t.app.services.incidents._store.list_team(t.team.id) == []


async def test_bulk_data_without_a_usable_playbook(tmp_path: Path) -> None:
    async with world(tmp_path, playbooks="playbooks: []\n", testing_enabled=True) as t:
        reply = await t.command(t.admin, "test bulk-data 1 1 2020-01-01 2020-02-01 3")
        assert "no playbook you may use" in reply["text"]


async def test_bulk_data_same_seed_same_incidents(t: World) -> None:
    first = await t.command(t.admin, "test bulk-data 4 3 2020-01-01 2020-03-01 42")
    rows = table(first["text"])
    assert "seed 42" in first["text"] and len(rows) == 7
    assert [s for _, _, s in rows] == ["ended"] * 3 + ["ongoing"] * 4
    assert all("2020-01-01" <= at < "2020-03-01" for _, at, _ in rows)
    again = await t.command(t.admin, "test bulk-data 4 3 2020-01-01 2020-03-01 42")
    assert table(again["text"]) == rows
    other = await t.command(t.admin, "test bulk-data 4 3 2020-01-01 2020-03-01 43")
    assert table(other["text"]) != rows
    incidents = await t.app.services.incidents._store.list_team(t.team.id)
    assert len(incidents) == 21
    key = {(name, at) for name, at, _ in rows}
    seeded = Counter(
        (i.name, i.created_at, i.ended_at, i.status.value, i.playbook_id)
        for i in incidents
        if (i.name, timestamp(i.created_at)) in key
    )
    assert len(seeded) == 7 and set(seeded.values()) == {2}  # each twice, identical
    for inc in incidents:
        if inc.status is IncidentStatus.ENDED:
            assert inc.ended_at is not None and inc.created_at < inc.ended_at
            assert t.card_field(inc, "Status") == "Ended"
    assert len({i.channel_id for i in incidents}) == 21
    stats = (await t.command(t.admin, "stats 3650"))["text"]
    assert "| **All** | 21 | 9 | 12 |" in stats
