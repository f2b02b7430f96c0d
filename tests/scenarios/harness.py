"""A whole warroom wired to the Mattermost test double, driven the way people drive Mattermost."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app import Warroom, running
from bot.domain.models import Incident
from bot.settings import Settings
from tests.double import MattermostDouble
from tests.fake_clock import FakeClock

PLAYBOOKS = """
playbooks:
  - title: Outage
    team: acme
    broadcast_channel: ~ops-alerts
    reminder_minutes: 60
    status_template: "Impact: unknown"
    invite: ["@bob"]
    members: ["@alice", "@bob"]
    stages:
      - title: Triage
        tasks:
          - title: Acknowledge the alert
          - title: Find the owner
            description: Check the service catalogue.
          - title: Announce
            command: /echo incident under way
      - title: Resolution
        tasks:
          - title: Confirm recovery
  - title: Security
    team: acme
    private: true
    members: ["@alice"]
    stages:
      - title: Contain
        tasks:
          - title: Rotate credentials
  - title: Public drill
    team: acme
    private: false
    team_wide: true
    stages:
      - title: Drill
        tasks:
          - title: Run the drill
"""


def as_read(text: str) -> str:
    """``text`` as a person reads it: without the invisible word joiners that keep a copied
    ``@name`` from notifying anyone (bot/render/format.py, defuse_mentions)."""
    return text.replace("\u2060", "")


_PORTS = random.Random()


def free_port() -> int:
    """A loopback port free now, for a server the test starts a moment later.

    Picked below the kernel's ephemeral range (32768-60999 by default), where the outgoing
    connections of every process on the machine take their ports: a port from inside that
    range, freed here, may be taken by someone's client connection before the server binds.
    """
    while True:
        port = _PORTS.randrange(20_000, 32_000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


@dataclass
class World:
    mm: MattermostDouble
    app: Warroom
    settings: Settings
    team: Any
    admin: Any
    alice: Any
    bob: Any
    carol: Any  # in the team, in no incident channel
    dave: Any  # not in the team
    bot: Any
    town: Any
    ops: Any

    async def restart(self, **changes: Any) -> None:
        """Stop warroom and start it again on the same database (settings may change)."""
        await self.stop_app()
        self.settings = self.settings.model_copy(update=changes)
        await self.start_app()

    async def listening(self) -> None:
        """Wait until warroom's event stream is up (events before that are lost, as on 5.36)."""
        await self.mm.wait_until(
            lambda: self.app.listener.connected and self.mm.connections(self.bot.id) > 0
        )

    async def settle(self, seconds: float = 5.0) -> None:
        """Wait until warroom's background work (posts, members, cards) is done."""
        deadline = asyncio.get_running_loop().time() + seconds
        tasks = self.app.services.tasks
        while len(tasks) and asyncio.get_running_loop().time() < deadline:
            await tasks.drain(0.05)
        await asyncio.sleep(0)

    async def command(self, user: Any, text: str, channel_id: str | None = None) -> dict[str, Any]:
        response: dict[str, Any] = await self.mm.run_command(
            user, channel_id or self.town.id, text, trigger="incident"
        )
        await self.settle()
        return response

    def ephemeral(self, user: Any) -> str:
        """The newest ephemeral text the user saw (command replies, action replies)."""
        posts = self.mm.ephemerals(user.id)
        return str(posts[-1]["message"]) if posts else ""

    def dms(self, user: Any) -> list[str]:
        """What the bot said to the user in their direct channel, oldest first."""
        name = "__".join(sorted((user.id, self.bot.id)))
        channel = self.mm.channel_by_name("", name)
        return [] if channel is None else self.messages(channel.id)

    def told(self, user: Any) -> str:
        """Everything said privately to the user (ephemerals and direct messages)."""
        private = [str(p["message"]) for p in self.mm.ephemerals(user.id)] + self.dms(user)
        return "\n".join(private)

    def dialog(self, user: Any) -> dict[str, Any]:
        dialogs = self.mm.dialogs(user.id)
        assert dialogs, "no dialog was opened"
        last: dict[str, Any] = dialogs[-1]
        return last

    def playbook_id(self, title: str, user: Any | None = None) -> str:
        for option in self.start_options(user):
            if option["text"] == title:
                return str(option["value"])
        raise AssertionError(f"no playbook {title}")

    def start_options(self, user: Any | None = None) -> list[dict[str, Any]]:
        dialog = self.dialog(user or self.alice)["dialog"]
        element = next(e for e in dialog["elements"] if e["name"] == "playbook")
        options: list[dict[str, Any]] = element["options"]
        return options

    async def submit(
        self, user: Any, submission: dict[str, Any], dialog: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        payload = dialog or self.dialog(user)
        result: dict[str, Any] = await self.mm.submit_dialog(
            user, payload, submission, channel_id=self.town.id, team_id=self.team.id
        )
        await self.settle()
        return result

    async def start_incident(
        self, user: Any, name: str, playbook: str = "Outage", description: str = ""
    ) -> Incident:
        await self.command(user, "start")
        result = await self.submit(
            user,
            {
                "playbook": self.playbook_id(playbook, user),
                "name": name,
                "description": description,
            },
        )
        assert result == {}, result
        incident = await self.incident_named(name)
        return incident

    async def incident_named(self, name: str) -> Incident:
        for incident in await self.app.services.incidents.store.list_team(self.team.id):
            if incident.name == name:
                return incident
        raise AssertionError(f"no incident {name}")

    async def reload(self, incident: Incident) -> Incident:
        return await self.app.services.incidents.get(incident.id)

    def messages(self, channel_id: str) -> list[str]:
        return [str(p["message"]) for p in self.mm.posts(channel_id)]

    def card(self, incident: Incident) -> dict[str, Any]:
        post = self.mm.get_post(incident.card_post_id)
        assert post is not None
        attachment: dict[str, Any] = post["props"]["attachments"][0]
        return attachment

    def card_field(self, incident: Incident, title: str) -> str:
        for f in self.card(incident)["fields"]:
            if f["title"] == title:
                return str(f["value"])
        raise AssertionError(f"no card field {title}")

    async def click(self, user: Any, post_id: str, label: str, option: str | None = None) -> Any:
        post = self.mm.get_post(post_id)
        assert post is not None
        for attachment in post["props"].get("attachments", []):
            for action in attachment.get("actions", []):
                if action["name"] == label:
                    result = await self.mm.click(
                        user, post_id, action["id"], selected_option=option
                    )
                    await self.settle()
                    return result
        raise AssertionError(f"no button {label!r} on post {post_id}")

    # ---- stopping and starting warroom on the same database (issue 5) ----
    apps: AsyncExitStack = field(default_factory=AsyncExitStack)
    clock: FakeClock | None = None

    async def stop_app(self) -> None:
        """Stop warroom as a shutdown does; the double and the database stay."""
        await self.apps.aclose()

    async def start_app(self) -> None:
        self.apps = AsyncExitStack()
        self.app = await self.apps.enter_async_context(
            running(self.settings, clock=self.clock, timer=self.clock)
        )
        await self.listening()


@asynccontextmanager
async def world(
    tmp_path: Path, playbooks: str = PLAYBOOKS, clock: FakeClock | None = None, **overrides: Any
) -> AsyncIterator[World]:
    mm = MattermostDouble()
    await mm.start()
    try:
        team = mm.add_team("acme")
        admin = mm.add_user("admin", teams=[team.id], admin=True)
        alice = mm.add_user("alice", teams=[team.id])
        bob = mm.add_user("bob", teams=[team.id])
        carol = mm.add_user("carol", teams=[team.id])
        dave = mm.add_user("dave", teams=[])
        bot = mm.add_user("warroom", teams=[team.id], bot=True)
        everyone = [admin.id, alice.id, bob.id, carol.id, bot.id]
        town = mm.add_channel(team.id, "town-square", private=False, members=everyone)
        ops = mm.add_channel(team.id, "ops-alerts", private=False, members=[bot.id, carol.id])
        port = free_port()
        command = mm.register_command(
            team.id, "incident", url=f"http://127.0.0.1:{port}/mattermost/command"
        )
        pb_file = tmp_path / "playbooks.yaml"
        pb_file.write_text(playbooks)
        settings = Settings(
            mattermost_url=mm.url,
            bot_token=bot.token,
            command_tokens=[command.token],
            listen_host="127.0.0.1",
            listen_port=port,
            db_path=tmp_path / "warroom.db",
            playbooks_file=pb_file,
            signing_key="s" * 32,
            **overrides,
        )
        apps = AsyncExitStack()
        app = await apps.enter_async_context(running(settings, clock=clock, timer=clock))
        built = World(
            mm=mm,
            app=app,
            settings=settings,
            team=team,
            admin=admin,
            alice=alice,
            bob=bob,
            carol=carol,
            dave=dave,
            bot=bot,
            town=town,
            ops=ops,
            apps=apps,
            clock=clock,
        )
        try:
            await built.listening()
            yield built
            # Every dialog warroom opened must pass a current server's validation.
            assert mm.state.dialog_problems == [], mm.state.dialog_problems
        finally:
            await built.apps.aclose()
    finally:
        await mm.close()
