"""Issue 9, kind 6: what warroom does in the background for a person never fails silently.

Each background effect is made to fail the way the real server fails it (a refusal because
the bot lost its place in a channel, or an error answer), and the test asserts that a person
who can act on it is told, in words that say what to do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.domain.models import Incident
from tests.fake_clock import FakeClock
from tests.scenarios.harness import PLAYBOOKS, World, world

SECRET = """
  - title: Quiet
    team: acme
    broadcast_channel: ~secret-alerts
    members: ["@alice", "@bob"]
    run_commands: [echo]
    stages:
      - title: Triage
        tasks:
          - title: Look
            command: /echo hi
"""


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path, clock=FakeClock()) as built:
        # A private broadcast channel @warroom belongs to (at first), and a playbook using it.
        built.mm.add_channel(built.team.id, "secret-alerts", private=True, members=[built.bot.id])
        built.settings.playbooks_file.write_text(PLAYBOOKS + SECRET)
        assert "Reloaded" in (await built.command(built.admin, "playbook reload"))["text"]
        yield built


def secret(w: World) -> Any:
    channel = w.mm.channel_by_name(w.team.id, "secret-alerts")
    assert channel is not None
    return channel


async def bot_leaves(w: World, channel_id: str) -> None:
    """An admin removes @warroom from a channel (its posts there are refused from now on)."""
    await w.mm.remove_from_channel(w.admin, channel_id, w.bot.id)
    await w.settle()


async def update(w: World, incident: Incident, reminder: str = "0") -> None:
    await w.command(w.alice, "update", incident.channel_id)
    assert await w.submit(w.alice, {"message": "Still down", "reminder": reminder}) == {}


# ---- the effects: (how to make it fail and run it, who is told, what they are told) ---------


async def announcement(w: World) -> str:
    await bot_leaves(w, secret(w).id)
    await w.start_incident(w.alice, "Quiet one", playbook="Quiet")
    return w.told(w.alice)


async def broadcast_copy(w: World) -> str:
    incident = await w.start_incident(w.alice, "Quiet one", playbook="Quiet")
    await bot_leaves(w, secret(w).id)
    await update(w, incident)
    return w.told(w.alice)


async def channel_line(w: World) -> str:
    incident = await w.start_incident(w.alice, "Disk full")
    w.mm.fail_next("POST", r"/api/v4/posts$", status=403, times=1)  # the "checked" line
    await w.command(w.alice, "check 1 1", incident.channel_id)
    assert (await w.reload(incident)).stages[0].tasks[0].state.value == "done"  # saved
    return w.told(w.alice)


async def card_refresh(w: World) -> str:
    incident = await w.start_incident(w.alice, "Disk full")
    w.mm.fail_next("PUT", r"/api/v4/posts/[a-z0-9]+/patch$", status=403, times=2)
    await w.command(w.alice, "check 1 1", incident.channel_id)
    return w.told(w.alice)


async def reminder_post(w: World) -> str:
    incident = await w.start_incident(w.alice, "Disk full")
    await update(w, incident, reminder="900")
    await bot_leaves(w, incident.channel_id)
    assert w.clock is not None
    w.clock.advance(minutes=16)
    await w.app.reminders.caught_up()
    await w.settle()
    return "\n".join(w.dms(w.alice))  # the commander, by direct message


async def task_run(w: World) -> str:
    incident = await w.start_incident(w.alice, "Quiet one", playbook="Quiet")
    w.mm.fail_next("POST", r"/api/v4/commands/execute$", status=403, times=1)
    await w.click(w.alice, incident.checklist_post_id, "Run")
    return w.told(w.alice)


async def invite(w: World) -> str:
    w.mm.fail_next("POST", r"/api/v4/channels/[a-z0-9]+/members$", status=403, times=2)
    await w.start_incident(w.alice, "Disk full")
    return w.told(w.alice)


async def timeline_pin(w: World) -> str:
    incident = await w.start_incident(w.alice, "Disk full")
    post = await w.mm.user_post(w.alice, incident.channel_id, "db01 is at 100%")
    w.mm.fail_next("GET", rf"/api/v4/posts/{post['id']}$", status=403, times=1)
    await w.mm.react(w.alice, post["id"], "pushpin")
    await w.mm.wait_until(lambda: "timeline" in w.told(w.alice))
    return w.told(w.alice)


EFFECTS: dict[str, tuple[Callable[[World], Awaitable[str]], str]] = {
    "start announcement": (announcement, "Announce it yourself with `/incident announce"),
    "status broadcast copy": (broadcast_copy, "could not copy it to the broadcast channel"),
    "channel line of a change": (channel_line, "tell the others yourself"),
    "summary card and checklist refresh": (card_refresh, "`/incident info` shows the current"),
    "reminder post": (reminder_post, "the update with `/incident update`"),
    "task Run": (task_run, "did not run"),
    "invite at start": (invite, "I could not add these members"),
    "timeline pin by reaction": (timeline_pin, "Remove your reaction and add it again"),
}


@pytest.mark.parametrize("effect", list(EFFECTS))
async def test_a_background_effect_that_fails_is_told_to_someone_who_can_act(
    w: World, effect: str
) -> None:
    """Rule: when a background effect fails, a person who can act on it (the actor, the
    commander or the reporter) is told what to do; a log line alone is not enough."""
    run, words = EFFECTS[effect]
    told = await run(w)
    assert words in told, told
