"""Fixtures for the double's own tests: a started double, a stub integration,
a raw REST client and a small seeded world."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from tests.double import Channel, Command, MattermostDouble, Team, User
from tests.double.testing import Integration, RestClient


@dataclass
class Seed:
    mm: MattermostDouble
    hook: Integration
    rest: RestClient
    team: Team
    admin: User
    alice: User
    bob: User
    outsider: User
    bot: User
    town: Channel
    secret: Channel
    cmd: Command


@pytest.fixture
async def mm() -> AsyncIterator[MattermostDouble]:
    double = MattermostDouble(trigger_ttl=3.0)
    await double.start()
    yield double
    await double.close()


@pytest.fixture
async def hook() -> AsyncIterator[Integration]:
    integration = Integration()
    await integration.start()
    yield integration
    await integration.close()


@pytest.fixture
async def seed(mm: MattermostDouble, hook: Integration) -> AsyncIterator[Seed]:
    rest = RestClient(mm.url)
    team = mm.add_team("acme")
    admin = mm.add_user("admin", teams=[team.id], admin=True)
    alice = mm.add_user("alice", teams=[team.id])
    bob = mm.add_user("bob", teams=[team.id])
    outsider = mm.add_user("dave")
    bot = mm.add_user("warroom", teams=[team.id], bot=True)
    town = mm.add_channel(team.id, "town-square", members=[admin.id, alice.id, bob.id])
    secret = mm.add_channel(team.id, "secret", private=True, members=[bot.id, alice.id])
    cmd = mm.register_command(team.id, "incident", hook.url + "/command")
    yield Seed(mm, hook, rest, team, admin, alice, bob, outsider, bot, town, secret, cmd)
    await rest.close()
