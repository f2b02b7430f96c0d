"""A real ``warroom run`` process, SIGKILLed the moment Mattermost stores its reminder post."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.render.status import REMINDER_MARK
from tests.fake_clock import FakeClock
from tests.scenarios.harness import World, world
from tests.scenarios.test_status import post_update, reminder_posts, tick


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path, clock=FakeClock()) as built:
        yield built


def child_env(w: World) -> dict[str, str]:
    s = w.settings
    assert s.bot_token is not None and s.signing_key is not None
    return {
        **os.environ,
        "WARROOM_MATTERMOST_URL": s.mattermost_url,
        "WARROOM_BOT_TOKEN": s.bot_token.get_secret_value(),
        # JSON: pydantic-settings decodes a list from the environment as JSON before the
        # comma-splitting validator runs, so "a,b" is refused (left alone here).
        "WARROOM_COMMAND_TOKENS": ",".join(t.get_secret_value() for t in s.command_tokens),
        "WARROOM_SIGNING_KEY": s.signing_key.get_secret_value(),
        "WARROOM_LISTEN_HOST": "127.0.0.1",
        "WARROOM_LISTEN_PORT": str(s.listen_port),
        "WARROOM_DB_PATH": str(s.db_path),
        "WARROOM_PLAYBOOKS_FILE": str(s.playbooks_file),
        "WARROOM_LOG_LEVEL": "warning",
    }


def reminder_rows(db_path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db_path) as conn:
        return [(r[0], r[1]) for r in conn.execute("SELECT state, post_id FROM reminders")]


async def test_killed_right_after_posting_a_reminder_it_is_not_posted_again(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await post_update(w, w.alice, incident, "Checkout down", reminder="900")
    await w.stop_app()
    with sqlite3.connect(w.settings.db_path) as conn:
        conn.execute("UPDATE reminders SET due_at = 0")  # due: the child fires it at once

    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=child_env(w),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    core = w.mm._core
    store_post = core.create_post

    def store_then_kill(*args: Any, **kwargs: Any) -> Any:
        post = store_post(*args, **kwargs)  # the server has the post; the answer never leaves
        props = kwargs.get("props")
        if isinstance(props, dict) and REMINDER_MARK in props and child.returncode is None:
            os.kill(child.pid, signal.SIGKILL)
        return post

    monkeypatch.setattr(core, "create_post", store_then_kill)
    code = await asyncio.wait_for(child.wait(), timeout=60)
    assert child.stderr is not None
    assert code == -signal.SIGKILL, (await child.stderr.read()).decode()[-3000:]
    monkeypatch.undo()
    assert len(reminder_posts(w, incident)) == 1
    assert reminder_rows(w.settings.db_path) == [("firing", "")]  # killed inside the window

    assert w.clock is not None
    w.clock.advance(hours=1)
    await w.start_app()
    await tick(w)
    [post] = reminder_posts(w, incident)
    assert reminder_rows(w.settings.db_path) == [("posted", post["id"])]
    await tick(w, hours=2)
    assert len(reminder_posts(w, incident)) == 1
