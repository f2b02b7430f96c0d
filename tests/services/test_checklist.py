"""ChecklistService.run refuses repeats: a run in flight, or a button older than the last run."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.run_policy import RunMode
from bot.errors import InvalidTransition
from bot.services.checklist import ChecklistService
from tests.double.faults import Gate
from tests.scenarios.harness import World, world


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path) as built:
        yield built


async def test_run_refuses_a_stale_button_and_a_run_in_flight(w: World) -> None:
    await w.restart(run_commands=["echo"])
    incident = await w.start_incident(w.alice, "Disk full")
    service = ChecklistService.of(w.app.services)
    task = incident.stages[0].tasks[2]
    with pytest.raises(InvalidTransition, match="just_ran"):
        await service.run(incident, actor_id=w.bob.id, task_id=task.id, seen_run=123)
    ChecklistService._running.add(f"{incident.id}:{task.id}")
    try:
        with pytest.raises(InvalidTransition, match="already_running"):
            await service.run(incident, actor_id=w.bob.id, task_id=task.id, seen_run=None)
    finally:
        ChecklistService._running.clear()
    no_command = incident.stages[0].tasks[0]
    with pytest.raises(InvalidTransition, match="no_command"):
        await service.run(incident, actor_id=w.bob.id, task_id=no_command.id, seen_run=None)
    await service.run(incident, actor_id=w.bob.id, task_id=task.id, seen_run=None)
    await w.settle()
    assert (await w.reload(incident)).stages[0].tasks[2].last_run_at is not None
    assert not ChecklistService._running


async def test_run_hands_over_whatever_the_administrator_did_not_allow(w: World) -> None:
    """Default: nothing runs as the bot; the click is recorded as a hand-over, not a run."""
    incident = await w.start_incident(w.alice, "Disk full")
    service = ChecklistService.of(w.app.services)
    task = incident.stages[0].tasks[2]
    decision = await service.run(incident, actor_id=w.bob.id, task_id=task.id, seen_run=None)
    await w.settle()
    assert decision.mode is RunMode.HAND_OVER and decision.trigger == "echo"
    assert (await w.reload(incident)).stages[0].tasks[2].last_run_at is None
    assert not [p for p in w.mm.posts(incident.channel_id) if p["message"] == "incident under way"]


async def test_changes_made_while_the_card_is_refreshed_are_shown_by_one_more_update(
    w: World,
) -> None:
    """IncidentService.refresh_later: changes made while a refresh is in flight share the
    refresh after it, which reads the newest state (the card is sent twice, not per change)."""
    incident = await w.start_incident(w.alice, "Disk full")
    gate = Gate()
    w.mm.faults.inject("PUT", rf"^/api/v4/posts/{incident.card_post_id}/patch$", gate)
    w.mm.requests.clear()
    for task in (1, 2, 3, 1):  # the first one's card refresh is held in flight
        reply = await w.mm.run_command(w.alice, incident.channel_id, f"check 1 {task}")
        assert not reply.get("text"), reply
        await gate.reached.wait()
    gate.opened.set()
    await w.settle()
    card = f"/api/v4/posts/{incident.card_post_id}/patch"
    assert [r.path for r in w.mm.requests if r.method == "PUT"].count(card) == 2
    assert w.card_field(incident, "Stage") == "1/2 Triage (2/3 done)"
