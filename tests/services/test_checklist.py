"""ChecklistService.run refuses repeats: a run in flight, or a button older than the last run."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.run_policy import RunMode
from bot.errors import InvalidTransition
from bot.services.checklist import ChecklistService
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
