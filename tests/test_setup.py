"""``warroom setup`` against the Mattermost double."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from mattermostautodriver.client import BaseClient

from bot.setup import SetupError, SetupReport, run_setup
from bot.store.db import Database
from bot.store.installation import Installation, InstallationStore
from tests.double import Command, MattermostDouble, Team, User
from tests.scenarios.harness import free_port

PUBLIC_URL = "http://127.0.0.1:8080"


class World:
    def __init__(self, mm: MattermostDouble, tmp: Path) -> None:
        self.mm = mm
        self.db_path = tmp / "warroom.db"
        self.acme: Team = mm.add_team("acme")
        self.beta: Team = mm.add_team("beta")
        self.admin: User = mm.add_user("root", admin=True)
        self.lines: list[str] = []

    async def setup(self, **overrides: Any) -> SetupReport:
        self.lines.clear()
        kwargs: dict[str, Any] = {
            "mattermost_url": self.mm.url,
            "admin_token": self.admin.token,
            "teams": ["acme", "beta"],
            "public_url": PUBLIC_URL,
            "db_path": self.db_path,
            "grant_ephemeral": None,
            "out": self.lines.append,
            "probe": False,
        }
        kwargs.update(overrides)
        return await run_setup(**kwargs)

    async def installation(self) -> Installation:
        db = Database(self.db_path)
        await db.open()
        try:
            return await InstallationStore(db).load()
        finally:
            await db.close()

    def incident_commands(self, team: Team) -> list[Command]:
        return [
            c
            for c in self.mm.state.commands.values()
            if c.team_id == team.id and c.trigger == "incident"
        ]

    def bots(self) -> list[User]:
        return [u for u in self.mm.state.users.values() if u.is_bot]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    mm = MattermostDouble()
    await mm.start()
    try:
        yield World(mm, tmp_path)
    finally:
        await mm.close()


async def test_fresh_server(world: World) -> None:
    report = await world.setup()

    [bot] = world.bots()
    assert bot.username == "warroom"
    assert report.bot_user_id == bot.id
    assert report.bot_created
    assert report.token_created
    for team in (world.acme, world.beta):
        assert bot.id in world.mm.state.team_members[team.id]
        [cmd] = world.incident_commands(team)
        assert cmd.url == PUBLIC_URL + "/mattermost/command"
        assert cmd.method == "P"
        assert cmd.auto_complete is True
        assert cmd.auto_complete_hint.startswith("[start|end|update|info|list|help")
        assert cmd.display_name == "warroom"
    assert report.commands == {"acme": "created", "beta": "created"}
    assert report.team_ids == {"acme": world.acme.id, "beta": world.beta.id}

    saved = await world.installation()
    assert saved.bot_user_id == bot.id
    assert world.mm.state.user_by_token(saved.bot_token) is bot
    assert saved.command_tokens == {
        world.acme.id: world.incident_commands(world.acme)[0].token,
        world.beta.id: world.incident_commands(world.beta)[0].token,
    }
    assert len(saved.signing_key) >= 32

    assert "created bot @warroom" in world.lines
    assert "created /incident on team acme" in world.lines
    assert "created /incident on team beta" in world.lines
    assert "added @warroom to team acme" in world.lines
    assert not any(saved.bot_token in line for line in world.lines)  # never print secrets
    # 127.0.0.1 is loopback, and the double's configuration already allows it
    assert not any("AllowedUntrustedInternalConnections" in t for t in report.todo)
    assert not report.ephemeral
    assert "system_admin" not in bot.roles.split()


async def test_second_run_is_idempotent(world: World) -> None:
    await world.setup()
    first = await world.installation()
    [bot] = world.bots()
    [cmd_before] = world.incident_commands(world.acme)
    world.mm.requests.clear()

    report = await world.setup()

    assert world.bots() == [bot]
    assert not report.bot_created
    assert not report.token_created
    assert report.commands == {"acme": "updated", "beta": "updated"}
    [cmd_after] = world.incident_commands(world.acme)
    assert cmd_after.id == cmd_before.id
    assert len(world.incident_commands(world.beta)) == 1
    assert await world.installation() == first  # same token, command tokens and key
    assert "updated /incident on team acme" in world.lines
    assert "created bot @warroom" not in world.lines
    posts = [(r.method, r.path) for r in world.mm.requests if r.method == "POST"]
    assert posts == []  # nothing created: no bot, no token, no command, no membership
    puts = [r.path for r in world.mm.requests if r.method == "PUT"]
    assert sorted(puts) == sorted(
        f"/api/v4/commands/{c.id}" for c in world.mm.state.commands.values()
    )
    # the stored token was checked with the bot's own identity
    assert any(r.path == "/api/v4/users/me" and r.user_id == bot.id for r in world.mm.requests)


async def test_existing_command_is_updated_not_duplicated(world: World) -> None:
    old = world.mm.register_command(
        world.acme.id, "incident", "http://127.0.0.1:9998/old", creator_id=world.admin.id
    )
    report = await world.setup()
    [cmd] = world.incident_commands(world.acme)
    assert cmd.id == old.id
    assert cmd.url == PUBLIC_URL + "/mattermost/command"
    assert cmd.auto_complete is True
    assert report.commands == {"acme": "updated", "beta": "created"}
    saved = await world.installation()
    assert saved.command_tokens[world.acme.id] == old.token


async def test_a_revoked_token_is_replaced(world: World) -> None:
    await world.setup()
    old = (await world.installation()).bot_token
    del world.mm.state.tokens[old]

    report = await world.setup()

    new = (await world.installation()).bot_token
    assert report.token_created
    assert new != old
    assert world.mm.state.user_by_token(new) is world.bots()[0]
    assert any("no longer works" in line for line in world.lines)


async def test_an_existing_bot_is_reused(world: World) -> None:
    bot = world.mm.add_user("warroom", bot=True, owner_id=world.admin.id)
    report = await world.setup()
    assert world.bots() == [bot]
    assert not report.bot_created
    assert report.bot_user_id == bot.id
    assert "found bot @warroom" in world.lines


async def test_grant_ephemeral_gives_the_admin_role(world: World) -> None:
    report = await world.setup(grant_ephemeral=True)
    [bot] = world.bots()
    assert "system_admin" in bot.roles.split()
    assert report.ephemeral
    assert "gave @warroom the system_admin role (you asked, with --grant-system-admin)" in (
        world.lines
    )
    assert any(
        line.startswith("  - system_admin role on @warroom: only so") for line in world.lines
    )

    report = await world.setup(grant_ephemeral=None)  # None leaves it alone
    assert "system_admin" in bot.roles.split()

    report = await world.setup(grant_ephemeral=False)
    assert bot.roles.split() == ["system_user"]
    assert not report.ephemeral


async def test_non_admin_token(world: World) -> None:
    alice = world.mm.add_user("alice", teams=[world.acme.id])
    with pytest.raises(SetupError, match="alice, who is not a system admin"):
        await world.setup(admin_token=alice.token)
    assert world.bots() == []


async def test_bad_admin_token(world: World) -> None:
    """Rule: a refused admin token names every cause Mattermost answers the same 401 for: a
    wrong or revoked token, and personal access tokens switched off on the server
    (app/session.go createSessionForUserAccessToken refuses a person's token then)."""
    with pytest.raises(SetupError, match="admin token was rejected") as refused:
        await world.setup(admin_token="nope")
    assert "Enable Personal Access Tokens" in str(refused.value)


async def test_unknown_team(world: World) -> None:
    with pytest.raises(SetupError, match="unknown team 'gamma'"):
        await world.setup(teams=["acme", "gamma"])
    assert world.bots() == []  # checked before anything is created
    assert world.incident_commands(world.acme) == []


async def test_bot_creation_disabled(world: World) -> None:
    world.mm.config.set("ServiceSettings", "EnableBotAccountCreation", False)
    with pytest.raises(SetupError, match="EnableBotAccountCreation"):
        await world.setup()
    assert world.bots() == []


async def test_username_taken_by_a_person(world: World) -> None:
    world.mm.add_user("warroom")
    with pytest.raises(SetupError, match="--bot-username"):
        await world.setup()


async def test_custom_bot_username(world: World) -> None:
    report = await world.setup(bot_username="pager")
    [bot] = world.bots()
    assert bot.username == "pager"
    assert report.bot_username == "pager"
    assert world.incident_commands(world.acme)[0].username == "pager"


async def test_public_address_needs_no_allow_list(world: World) -> None:
    report = await world.setup(public_url="http://8.8.8.8:8080")
    assert not any("AllowedUntrustedInternalConnections" in t for t in report.todo)
    assert world.incident_commands(world.acme)[0].url == "http://8.8.8.8:8080/mattermost/command"


async def test_server_unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BaseClient, "_retry_delay", lambda *args, **kwargs: None)
    with pytest.raises(SetupError, match=r"cannot reach Mattermost at http://127\.0\.0\.1:9"):
        await run_setup(
            mattermost_url="http://127.0.0.1:9",
            admin_token="t",
            teams=["acme"],
            public_url=PUBLIC_URL,
            db_path=tmp_path / "w.db",
            grant_ephemeral=None,
            out=lambda line: None,
        )


async def test_mattermost_url_with_a_path(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match="path"):
        await run_setup(
            mattermost_url="http://127.0.0.1:9/chat",
            admin_token="t",
            teams=["acme"],
            public_url=PUBLIC_URL,
            db_path=tmp_path / "w.db",
            grant_ephemeral=None,
            out=lambda line: None,
        )


async def test_setup_grants_no_admin_role_by_default_and_explains_every_right(
    world: World,
) -> None:
    """Rule: setup grants only what warroom needs, and says in its output why each right."""
    report = await world.setup()
    [bot] = world.bots()
    assert bot.roles.split() == ["system_user"] and not report.ephemeral
    start = world.lines.index("Rights the bot holds, and why:")
    rights = [line for line in world.lines[start + 1 :] if line.startswith("  - ")]
    assert rights[0].startswith("  - @warroom is a bot account with the ordinary system_user role")
    assert any("access token for @warroom" in line for line in rights)
    for team in ("acme", "beta"):
        assert any(line.startswith(f"  - member of team {team}: to create") for line in rights)
    assert any("the /incident command" in line for line in rights)
    assert any(
        line.startswith("  - no system_admin role:") and "direct messages" in line
        for line in rights
    )


async def _resolve_to(addresses: list[str]) -> Any:
    async def resolve(host: str) -> list[str]:
        return addresses

    return resolve


@pytest.mark.parametrize(
    ("allow", "public_url", "addresses", "missing"),
    [
        ("127.0.0.1 localhost", "http://127.0.0.1:8080", ["127.0.0.1"], False),
        ("", "http://127.0.0.1:8080", ["127.0.0.1"], True),
        ("example.org, 10.1.0.0/16", "http://warroom.internal:8080", ["10.1.2.3"], False),
        ("10.1.0.0/16", "http://warroom.internal:8080", ["10.9.2.3"], True),
        ("", "http://warroom.example.com:8080", ["93.184.216.34"], False),
        ("", "http://nowhere.invalid:8080", [], True),
        ("warroom", "http://warroom:8080", [], False),
    ],
)
async def test_setup_reports_only_what_the_server_configuration_lacks(
    world: World, allow: str, public_url: str, addresses: list[str], missing: bool
) -> None:
    """Rule: setup reads the server's configuration and names a setting only when the
    server, as configured, would refuse warroom (never generic advice)."""
    world.mm.config.set("ServiceSettings", "AllowedUntrustedInternalConnections", allow)
    report = await world.setup(public_url=public_url, resolve=await _resolve_to(addresses))
    named = [t for t in report.todo if "AllowedUntrustedInternalConnections" in t]
    assert bool(named) == missing
    if missing:
        assert str(urlsplit(public_url).hostname) in named[0]
    assert not any("EnablePost" in line for line in world.lines + report.todo)


async def test_settings_that_stop_setup_are_all_named_before_anything_is_created(
    world: World,
) -> None:
    world.mm.config.set("ServiceSettings", "EnableBotAccountCreation", False)
    world.mm.config.set("ServiceSettings", "EnableCommands", False)
    with pytest.raises(SetupError) as raised:
        await world.setup()
    assert "EnableBotAccountCreation" in str(raised.value)
    assert "EnableCommands" in str(raised.value)
    assert world.bots() == []


async def test_an_existing_bot_needs_no_bot_account_creation(world: World) -> None:
    await world.setup()
    world.mm.config.set("ServiceSettings", "EnableBotAccountCreation", False)
    report = await world.setup()
    assert not report.bot_created
    assert len(world.bots()) == 1


async def test_setup_proves_that_mattermost_reaches_the_public_url(world: World) -> None:
    """With nothing listening on warroom's address, setup answers the probe itself."""
    world.mm.add_channel(world.acme.id, "town-square")
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    report = await world.setup(public_url=public, probe=True, listen=("127.0.0.1", port))
    assert report.reachable is True
    assert f"Mattermost reached {public} (/incident answered by a short-lived listener" in (
        "\n".join(world.lines)
    )
    [reply] = world.mm.ephemerals(world.admin.id)
    assert "Mattermost reached warroom" in reply["message"]
    with socket.socket() as sock:  # the listener is gone again
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))


async def test_setup_says_plainly_when_mattermost_cannot_reach_warroom(world: World) -> None:
    world.mm.add_channel(world.acme.id, "town-square")
    public = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    report = await world.setup(public_url=public, probe=True)
    assert report.reachable is False
    assert any(line.startswith(f"Mattermost could NOT reach {public}") for line in world.lines)


async def test_a_forbidden_address_is_named_with_the_setting_to_change(world: World) -> None:
    world.mm.add_channel(world.acme.id, "town-square")
    world.mm.config.set("ServiceSettings", "AllowedUntrustedInternalConnections", "")
    port = free_port()
    report = await world.setup(
        public_url=f"http://127.0.0.1:{port}", probe=True, listen=("127.0.0.1", port)
    )
    assert report.reachable is False
    [todo] = [t for t in report.todo if "AllowedUntrustedInternalConnections" in t]
    assert todo.startswith("127.0.0.1 (127.0.0.1) is a private or loopback address")


async def test_a_failed_probe_names_the_cause_setup_already_knows(world: World) -> None:
    """Rule: when Mattermost cannot reach warroom and the server's configuration already
    shows why (warroom's host is not in the untrusted-connections allow list), the failure
    line says that cause, not only Mattermost's error id."""
    world.mm.add_channel(world.acme.id, "town-square")
    world.mm.config.set("ServiceSettings", "AllowedUntrustedInternalConnections", "")
    port = free_port()
    report = await world.setup(
        public_url=f"http://127.0.0.1:{port}", probe=True, listen=("127.0.0.1", port)
    )
    assert report.reachable is False
    [failed] = [line for line in world.lines if line.startswith("Mattermost could NOT reach")]
    assert "AllowedUntrustedInternalConnections" in failed, failed
    assert "app_error" not in failed, failed
