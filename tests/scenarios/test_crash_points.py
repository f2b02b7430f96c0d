"""kill -9 at each step of a start, a status update and a task change; warroom comes back whole.

A real ``warroom run`` process (against the double, on the test's database) is started with
``WARROOM_TEST_CRASH_AT=<point>`` (:mod:`bot.crashpoints`): it SIGKILLs itself at that point.
Then warroom starts again on the same database and the end state is checked: no orphan
channel and no second one, the reporter in her channel and told, every post exactly once,
the timeline complete, one reminder.

The default run samples a few points (a few seconds); every point runs with
``WARROOM_CRASH_ALL=1`` (``python -m bench.bench_crash_points`` does that).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.crashpoints import ENV, POINTS
from bot.domain.models import Incident
from bot.render.keys import KEY_PROP
from tests.scenarios.harness import World, world
from tests.scenarios.test_status import open_update
from tests.scenarios.test_status_sigkill import child_env

START = (
    "start.recorded",
    "start.channel_created",
    "start.saved",
    "start.posts_recorded",
    "start.members_added",
    "posted.notice",
    "posted.card",
    "posted.checklist",
    "start.told",
    "posted.announcement",
    "start.set_up",
)
STATUS = ("status.recorded", "posted.status", "status.completed", "posted.broadcast")
CHANGE = ("change.saved", "posted.change")
SAMPLE = {
    "start": ("start.channel_created",),
    "status": ("posted.status",),
    "change": ("change.saved",),
}
EVERY = os.environ.get("WARROOM_CRASH_ALL") == "1"


def points(flow: str, every: tuple[str, ...]) -> tuple[str, ...]:
    assert set(every) <= set(POINTS)
    return every if EVERY else SAMPLE[flow]


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path) as built:
        yield built


def test_every_kill_point_is_exercised_by_a_flow() -> None:
    """The rule behind this module: every kill point warroom defines is tested by a flow."""
    assert set(START) | set(STATUS) | set(CHANGE) == set(POINTS)


async def killed_at(w: World, point: str, act: Callable[[], Awaitable[Any]]) -> None:
    """Run ``warroom run`` with the kill point armed, do ``act``, wait for the SIGKILL; then
    start warroom again (in process) and let its start-up re-sync finish what was cut short."""
    await w.stop_app()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env={**child_env(w), ENV: point},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await ready(w, child)
        with contextlib.suppress(Exception):  # it died under the request, as a user sees it
            await act()
        code = await asyncio.wait_for(child.wait(), timeout=30)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    assert child.stderr is not None
    assert code == -signal.SIGKILL, (await child.stderr.read()).decode()[-3000:]
    runs = 0
    await w.start_app()
    await w.mm.wait_until(lambda: w.app.resync.runs > runs, within=10)
    await w.settle()


async def ready(w: World, child: asyncio.subprocess.Process) -> None:
    url = f"http://127.0.0.1:{w.settings.listen_port}/readyz"
    async with aiohttp.ClientSession() as session:
        for _ in range(400):
            assert child.returncode is None, "warroom exited before it was ready"
            try:
                async with session.get(url) as resp:
                    if resp.status == 200 and w.mm.connections(w.bot.id) > 0:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.025)
    raise AssertionError("warroom never became ready")


def keyed_posts(w: World, channel_id: str) -> list[str]:
    """The keys of warroom's own marked posts in the channel (live ones), one per post."""
    return [
        str(p["props"][KEY_PROP])
        for p in w.mm.posts(channel_id)
        if KEY_PROP in p.get("props", {}) and not p.get("delete_at")
    ]


def rows(w: World, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(w.settings.db_path) as conn:
        return list(conn.execute(sql, args))


async def timeline(w: World, incident: Incident) -> list[str]:
    return [e.kind.value for e in await w.app.services.incidents.store.timeline(incident.id)]


# ---- a start ------------------------------------------------------------------------------


@pytest.mark.parametrize("point", points("start", START))
async def test_a_start_killed_at_any_step_is_finished_once(w: World, point: str) -> None:
    async def start() -> None:
        await w.mm.run_command(w.alice, w.town.id, "start", trigger="incident")
        dialog = w.dialog(w.alice)
        playbook = w.playbook_id("Outage")
        await w.mm.submit_dialog(
            w.alice, dialog, {"playbook": playbook, "name": "Disk full"},
            channel_id=w.town.id, team_id=w.team.id,
        )  # fmt: skip

    await killed_at(w, point, start)

    channels = [c for c in w.mm.state.channels.values() if c.display_name == "Disk full"]
    assert len(channels) == 1, "an orphan or a second channel"
    incident = await w.incident_named("Disk full")
    assert incident.channel_id == channels[0].id
    assert {w.alice.id, w.bob.id} <= w.mm.channel_members(incident.channel_id)
    keys = keyed_posts(w, incident.channel_id)
    assert sorted(keys) == sorted(
        [f"started:{incident.id}", f"card:{incident.id}", f"checklist:{incident.id}"]
    )
    card = w.mm.get_post(incident.card_post_id)
    assert card is not None and card["is_pinned"]
    assert incident.checklist_post_id in w.mm.state.posts
    assert keyed_posts(w, w.ops.id) == [f"announce:{incident.id}"]
    assert w.told(w.alice).count("is open in") == 1  # by direct message: looked up first
    assert await timeline(w, incident) == ["created"]
    assert rows(w, "SELECT state FROM starts") == [("done",)]


# ---- a status update ----------------------------------------------------------------------


@pytest.mark.parametrize("point", points("status", STATUS))
async def test_a_status_update_killed_at_any_step_is_posted_and_recorded_once(
    w: World, point: str
) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    dialog = await open_update(w, w.alice, incident)

    async def submit() -> None:
        await w.mm.submit_dialog(
            w.alice, dialog, {"message": "Checkout down", "reminder": "900"},
            channel_id=incident.channel_id, team_id=w.team.id,
        )  # fmt: skip

    await killed_at(w, point, submit)

    [key] = [k for k in keyed_posts(w, incident.channel_id) if k.startswith("status:")]
    [update] = await w.app.services.status.store.all(incident.id)
    assert update.message == "Checkout down"
    assert w.mm.get_post(update.post_id) is not None
    assert (await timeline(w, incident)).count("status_updated") == 1
    assert keyed_posts(w, w.ops.id).count(f"{key}:broadcast") == 1
    assert update.broadcast_post_id
    reminders = rows(w, "SELECT state FROM reminders WHERE incident_id = ?", incident.id)
    assert reminders == [("pending",)]
    # The same dialog again is refused: its nonce was spent with the update.
    again = await w.submit(w.alice, {"message": "Checkout down", "reminder": "900"}, dialog)
    assert "already submitted" in again.get("error", "")
    assert len(await w.app.services.status.store.all(incident.id)) == 1


# ---- a task change ------------------------------------------------------------------------


@pytest.mark.parametrize("point", points("change", CHANGE))
async def test_a_task_change_killed_at_any_step_is_said_once(w: World, point: str) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    before = keyed_posts(w, incident.channel_id)

    async def check() -> None:
        await w.mm.run_command(w.alice, incident.channel_id, "check 1 1", trigger="incident")

    await killed_at(w, point, check)

    saved = await w.reload(incident)
    assert saved.stages[0].tasks[0].state.value == "done"
    notices = [k for k in keyed_posts(w, incident.channel_id) if k not in before]
    assert len(notices) == 1 and notices[0].startswith("notice:")
    assert (await timeline(w, incident)).count("task_checked") == 1
    checklist = w.mm.get_post(saved.checklist_post_id)
    assert checklist is not None and "☑" in str(checklist["props"])
