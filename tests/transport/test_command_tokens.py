"""The slash-command tokens: re-read from the store when unknown, rate-limited, and on demand."""

from __future__ import annotations

import asyncio

from bot.transport.command_tokens import MAX_TOKEN_LEN, CommandTokens
from bot.transport.verify import CommandToken

KNOWN = "k" * 26
NEW = "n" * 26


class Store:
    def __init__(self) -> None:
        self.tokens = {"team-a": KNOWN}
        self.loads = 0
        self.fail = False
        self.gate: asyncio.Event | None = None

    async def load(self) -> dict[str, str]:
        self.loads += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise OSError("database is locked")
        return dict(self.tokens)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(store: Store, clock: Clock) -> CommandTokens:
    return CommandTokens(
        fixed=[CommandToken("f" * 26)], stored=dict(store.tokens), load=store.load, clock=clock
    )


async def test_a_token_stored_after_start_is_accepted_after_one_reload() -> None:
    store, clock = Store(), Clock()
    tokens = make(store, clock)
    assert await tokens.check(KNOWN, "team-a") and await tokens.check("f" * 26, "team-z")
    assert store.loads == 0  # known tokens never touch the store
    store.tokens["team-b"] = NEW  # `warroom setup --team b` while running
    assert not await tokens.check(NEW, "team-a")  # bound to the team it was registered on
    assert await tokens.check(NEW, "team-b")
    assert store.loads == 1 and tokens.by_team()["team-b"] == NEW


async def test_unknown_tokens_reload_at_most_once_per_interval() -> None:
    store, clock = Store(), Clock()
    tokens = make(store, clock)
    for _ in range(50):
        assert not await tokens.check("x" * 26, "team-a")
    assert store.loads == 1
    clock.now += 11.0
    assert not await tokens.check("x" * 26, "team-a")
    assert store.loads == 2


async def test_concurrent_unknown_tokens_share_one_reload() -> None:
    store, clock = Store(), Clock()
    tokens = make(store, clock)
    store.gate = asyncio.Event()
    store.tokens["team-b"] = NEW
    checks = [asyncio.create_task(tokens.check(NEW, "team-b")) for _ in range(10)]
    await asyncio.sleep(0.01)
    store.gate.set()
    assert all(await asyncio.gather(*checks))
    assert store.loads == 1


async def test_implausible_tokens_never_reload_and_a_failed_reload_keeps_the_old_set() -> None:
    store, clock = Store(), Clock()
    tokens = make(store, clock)
    assert not await tokens.check("", "team-a")
    assert not await tokens.check("x" * (MAX_TOKEN_LEN + 1), "team-a")
    assert store.loads == 0
    store.fail = True
    await tokens.reload()  # SIGHUP while the database is unavailable
    assert store.loads == 1 and await tokens.check(KNOWN, "team-a")
