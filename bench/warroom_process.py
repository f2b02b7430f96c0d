"""warroom in its own process, for benchmarks: the real ``warroom run`` beside the double.

The benchmark's process serves the Mattermost double (``tests/double``) over HTTP and the
websocket on loopback; warroom runs as a user runs it (``python -m bot run``, configured by
``WARROOM_*`` environment variables, README "Configuration"), so what is measured of it (its
answers, its memory, its start-up) is warroom's alone, not shared with the double.

    async with double_site(tmp) as site:           # the double, a team, people, /incident
        ...                                        # seed site.db_path, the double's channels
        async with warroom_process(site.environment()) as proc:
            await proc.wait_logged("resync_done")  # seconds from spawn to that log event
            reply = await site.mm.run_command(site.alice, site.town.id, "list")
            proc.memory()                          # VmRSS / VmHWM of warroom's process

Readiness is warroom's ``/readyz`` answering ``{"ready": true}`` (the event stream is up);
log events (structlog JSON on warroom's standard error, e.g. ``channel_members_resynced``,
``resync_done``) are timed as they are read, the first occurrence of each.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.double import MattermostDouble
from tests.scenarios.harness import free_port

SIGNING_KEY = "s" * 32
# One playbook the double can resolve (its team, people and channels exist in the site).
PLAYBOOKS = """
playbooks:
  - title: Outage
    team: acme
    members: ["@alice"]
    stages:
      - title: Triage
        tasks:
          - title: Acknowledge the alert
          - title: Find the owner
      - title: Resolution
        tasks:
          - title: Confirm recovery
"""


class WarroomFailed(RuntimeError):
    """warroom exited, or did not get ready (or log an awaited event) in time; the message
    carries the last lines it logged."""


@dataclass(frozen=True)
class Memory:
    """A process's memory from ``/proc/<pid>/status``, in MB (10^6 bytes): ``rss`` resident
    now (VmRSS), ``peak`` the most ever resident (VmHWM)."""

    rss: float
    peak: float

    def __str__(self) -> str:
        return f"RSS {self.rss:.0f} MB (peak {self.peak:.0f} MB)"


def memory_of(pid: int) -> Memory:
    """VmRSS and VmHWM of process ``pid`` (Linux). Raises OSError when it is gone."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024 / 1e6  # kB
    return Memory(rss=fields["VmRSS"], peak=fields["VmHWM"])


@dataclass
class Site:
    """The double with what ``warroom setup`` would have left: a team ``acme``, a bot
    account, ``/incident`` registered at ``http://127.0.0.1:<port>/mattermost/command``,
    people (``admin``, ``alice``, ``bob``) and the town square; a database path and a
    playbooks file in ``tmp``."""

    mm: MattermostDouble
    team: Any
    admin: Any
    alice: Any
    bob: Any
    bot: Any
    town: Any
    command: Any
    port: int
    db_path: Path
    playbooks_file: Path

    def environment(self, **more: str) -> dict[str, str]:
        """warroom's environment for this site: this process's, without its ``WARROOM_*``
        variables, plus the site's configuration (``more``: further ``WARROOM_*`` names to
        values, e.g. ``WARROOM_LOG_LEVEL="warning"``)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
        env.update(
            WARROOM_MATTERMOST_URL=self.mm.url,
            WARROOM_BOT_TOKEN=self.bot.token,
            WARROOM_COMMAND_TOKENS=f"{self.team.id}:{self.command.token}",
            WARROOM_SIGNING_KEY=SIGNING_KEY,
            WARROOM_LISTEN_HOST="127.0.0.1",
            WARROOM_LISTEN_PORT=str(self.port),
            WARROOM_DB_PATH=str(self.db_path),
            WARROOM_PLAYBOOKS_FILE=str(self.playbooks_file),
            WARROOM_LOG_FORMAT="json",
            WARROOM_LOG_LEVEL="info",
        )
        env.update(more)
        return env


@asynccontextmanager
async def double_site(tmp: Path, playbooks: str = PLAYBOOKS) -> AsyncIterator[Site]:
    """The double started on a loopback port and provisioned (see :class:`Site`); closed
    on exit."""
    mm = MattermostDouble()
    await mm.start()
    try:
        team = mm.add_team("acme")
        admin = mm.add_user("admin", teams=[team.id], admin=True)
        alice = mm.add_user("alice", teams=[team.id])
        bob = mm.add_user("bob", teams=[team.id])
        bot = mm.add_user("warroom", teams=[team.id], bot=True)
        town = mm.add_channel(team.id, "town-square", members=[admin.id, alice.id, bob.id, bot.id])
        port = free_port()
        command = mm.register_command(
            team.id, "incident", url=f"http://127.0.0.1:{port}/mattermost/command"
        )
        playbooks_file = tmp / "playbooks.yaml"
        playbooks_file.write_text(playbooks)
        yield Site(
            mm=mm,
            team=team,
            admin=admin,
            alice=alice,
            bob=bob,
            bot=bot,
            town=town,
            command=command,
            port=port,
            db_path=tmp / "warroom.db",
            playbooks_file=playbooks_file,
        )
    finally:
        await mm.close()


@dataclass
class WarroomProcess:
    """A running ``warroom run``: its pid and URL, when it got ready, what it logged."""

    process: asyncio.subprocess.Process
    url: str
    spawned: float  # time.perf_counter() at spawn
    ready_s: float = 0.0  # spawn -> /readyz answered ready
    logged: dict[str, float] = field(default_factory=dict)  # event -> s after spawn, first
    # event -> every line of it logged since :meth:`collect` was called, as decoded JSON
    collected: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=40))
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def pid(self) -> int:
        return self.process.pid

    def memory(self) -> Memory:
        """warroom's memory now (see :class:`Memory`)."""
        return memory_of(self.pid)

    def failed(self, what: str) -> WarroomFailed:
        lines = "\n".join(self.tail)
        return WarroomFailed(f"{what} (exit status {self.process.returncode}); it logged:\n{lines}")

    async def read_log(self) -> None:
        """Read warroom's standard error to its end, noting each JSON event's first time."""
        stream = self.process.stderr
        assert stream is not None
        while line := await stream.readline():
            at = time.perf_counter() - self.spawned
            text = line.decode(errors="replace").rstrip()
            self.tail.append(text)
            with contextlib.suppress(ValueError, AttributeError):
                fields = json.loads(text)
                event = fields.get("event")
                if isinstance(event, str) and event not in self.logged:
                    self.logged[event] = at
                    self._changed.set()
                if event in self.collected:
                    self.collected[event].append(fields)
                    self._changed.set()
        self._changed.set()

    def collect(self, event: str) -> list[dict[str, Any]]:
        """From now on, every line of ``event`` warroom logs is appended to the returned list
        (decoded JSON), e.g. ``command_answered`` with its ``ms``."""
        return self.collected.setdefault(event, [])

    async def wait_collected(self, event: str, count: int, within: float = 5.0) -> bool:
        """Wait up to ``within`` seconds until :meth:`collect` of ``event`` holds ``count``
        lines; whether it does."""
        deadline = time.perf_counter() + within
        lines = self.collect(event)
        while len(lines) < count and self.process.returncode is None:
            self._changed.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))
        return len(lines) >= count

    async def wait_logged(self, event: str, within: float = 60.0) -> float:
        """Seconds from spawn until warroom first logged ``event``; waits up to ``within``
        seconds for it. Raises :class:`WarroomFailed` if it exits or the time runs out."""
        deadline = time.perf_counter() + within
        while event not in self.logged:
            if self.process.returncode is not None:
                raise self.failed(f"warroom exited before logging {event}")
            self._changed.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                raise self.failed(f"warroom did not log {event} within {within:g} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))
        return self.logged[event]

    async def wait_ready(self, within: float = 30.0, interval: float = 0.005) -> float:
        """Poll ``/readyz`` until it answers ready; seconds from spawn (also in
        :attr:`ready_s`). Raises :class:`WarroomFailed` if warroom exits or times out."""
        deadline = self.spawned + within
        async with aiohttp.ClientSession() as http:
            while True:
                if self.process.returncode is not None:
                    raise self.failed("warroom exited before it was ready")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http.get(f"{self.url}/readyz") as resp:
                        if resp.status == 200 and (await resp.json()).get("ready"):
                            self.ready_s = time.perf_counter() - self.spawned
                            return self.ready_s
                if time.perf_counter() > deadline:
                    raise self.failed(f"warroom was not ready within {within:g} s")
                await asyncio.sleep(interval)

    async def stop(self, within: float = 10.0) -> int:
        """SIGTERM (warroom's orderly shutdown), then SIGKILL after ``within`` seconds; the
        exit status."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), within)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return self.process.returncode or 0


@asynccontextmanager
async def warroom_process(
    env: Mapping[str, str],
    *,
    ready_within: float = 30.0,
    argv: Sequence[str] = (sys.executable, "-m", "bot", "run"),
) -> AsyncIterator[WarroomProcess]:
    """Spawn ``argv`` (by default ``python -m bot run`` with this interpreter) with ``env`` and
    wait until it is ready (:meth:`WarroomProcess.wait_ready`); stopped on exit. Its standard
    output is discarded; its standard error (the log) is read as it comes
    (:meth:`WarroomProcess.read_log`).

    Raises :class:`WarroomFailed` when it exits or is not ready within ``ready_within`` s.
    """
    spawned = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        limit=1 << 22,  # a log line with a traceback may be long
    )
    host = env.get("WARROOM_LISTEN_HOST", "127.0.0.1")
    proc = WarroomProcess(
        process=process,
        url=f"http://{host}:{env.get('WARROOM_LISTEN_PORT', '8080')}",
        spawned=spawned,
    )
    reader = asyncio.create_task(proc.read_log(), name="warroom-log")
    try:
        await proc.wait_ready(ready_within)
        yield proc
    finally:
        await proc.stop()
        await reader
