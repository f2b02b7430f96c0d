"""The REST client against the double with injected faults: what is retried, what is final."""

from __future__ import annotations

import inspect
import random
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.deadline import callback_deadline
from bot.errors import ChatUnavailable
from bot.services.ports import ChatRefused
from bot.transport.mattermost_client import OPERATIONS, MattermostClient
from bot.transport.retry import Backoff, RetryPolicy
from tests.double import Channel, MattermostDouble, User
from tests.double.faults import ActThenDrop, ActThenFail, FaultKind, Hold, Refuse

POSTS = r"^/api/v4/posts$"
PATCH = r"^/api/v4/posts/[a-z0-9]+/patch$"
GET_POST = r"^/api/v4/posts/[a-z0-9]+$"
POLICY = RetryPolicy(attempts=4, backoff=Backoff(base_s=0.5, cap_s=8.0, max_retry_after_s=30.0))


@dataclass
class Rig:
    mm: MattermostDouble
    bot: User
    channel: Channel
    closed: Channel  # a private channel the bot is not in
    chat: MattermostClient
    waits: list[float] = field(default_factory=list)

    def served(self, method: str, path_regex: str) -> int:
        return sum(
            1
            for r in self.mm.requests
            if r.method == method and re.search(path_regex, r.path) is not None
        )

    def messages(self) -> list[str]:
        return [str(p["message"]) for p in self.mm.posts(self.channel.id)]


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    async with MattermostDouble() as mm:
        team = mm.add_team("acme")
        bot = mm.add_user("warroom", teams=[team.id], bot=True)
        alice = mm.add_user("alice", teams=[team.id])
        channel = mm.add_channel(team.id, "ops", members=[bot.id])
        closed = mm.add_channel(team.id, "secret", private=True, members=[alice.id])
        waits: list[float] = []

        async def sleep(seconds: float) -> None:  # records the wait instead of waiting
            waits.append(seconds)

        chat = MattermostClient(
            mm.url, bot.token, timeout=1.0, policy=POLICY, sleep=sleep, rng=random.Random(7)
        )
        try:
            yield Rig(mm, bot, channel, closed, chat, waits)
        finally:
            await chat.close()


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    fault: FaultKind
    times: int
    operation: str  # what the client does, see run()
    retried: bool


async def run(rig: Rig, operation: str, post_id: str) -> Any:
    if operation == "create_post":
        return await rig.chat.create_post(rig.channel.id, "hello")
    if operation == "patch_post":
        return await rig.chat.update_post(post_id, "patched", {})
    return await rig.chat.get_post(post_id)


CASES = {
    "429 with Retry-After, on a create": Case(
        "POST", POSTS, Refuse(429, retry_after=2), 2, "create_post", True
    ),
    "429 without Retry-After, on a create": Case(
        "POST", POSTS, Refuse(429), 3, "create_post", True
    ),
    "503 before acting, on a create": Case("POST", POSTS, Refuse(503), 1, "create_post", True),
    "500 on a create (may have acted)": Case("POST", POSTS, Refuse(500), 1, "create_post", False),
    "acted then 500, on a create": Case("POST", POSTS, ActThenFail(), 1, "create_post", False),
    "acted then lost answer, on a create": Case(
        "POST", POSTS, ActThenDrop(), 1, "create_post", False
    ),
    "500 on a patch": Case("PUT", PATCH, Refuse(500), 3, "patch_post", True),
    "acted then lost answer, on a patch": Case("PUT", PATCH, ActThenDrop(), 1, "patch_post", True),
    "proxy 502 on a read": Case("GET", GET_POST, Refuse(502, proxy=True), 1, "get_post", True),
    "timeout on a read": Case("GET", GET_POST, Hold(2.0, act=True), 1, "get_post", True),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_a_transient_mattermost_failure_is_retried_a_refusal_is_final(
    rig: Rig, case: Case
) -> None:
    """The rule: 429, 5xx and transport failures are transient and retried (with backoff,
    honouring Retry-After) unless the operation is a create the server may have acted on;
    then the caller learns the outcome is unknown and nothing is done twice. Refusals
    (4xx) are final: see the tests below."""
    [existing] = rig.mm.seed_posts(rig.channel.id, rig.bot, ["first"])
    rule = rig.mm.faults.inject(case.method, case.path, case.fault, times=case.times)
    if case.retried:
        await run(rig, case.operation, existing)
        assert rule.fired == case.times
        # (a held request is logged once its late answer went out)
        await rig.mm.wait_until(lambda: rig.served(case.method, case.path) == case.times + 1)
        assert len(rig.waits) == case.times
    else:
        with pytest.raises(ChatUnavailable) as raised:
            await run(rig, case.operation, existing)
        assert raised.value.outcome_unknown
        assert rig.served(case.method, case.path) == 1 and rig.waits == []
    if case.operation == "create_post":  # never twice, whatever the server did
        assert rig.messages().count("hello") <= 1
    if isinstance(case.fault, Refuse) and case.fault.retry_after:
        assert min(rig.waits) >= case.fault.retry_after  # honoured


async def test_waits_grow_with_full_jitter_within_the_cap(rig: Rig) -> None:
    [existing] = rig.mm.seed_posts(rig.channel.id, rig.bot, ["first"])
    rig.mm.faults.inject("GET", GET_POST, Refuse(500), times=None)
    with pytest.raises(ChatUnavailable) as raised:
        await rig.chat.get_post(existing)
    assert raised.value.operation == "get_post"
    assert rig.served("GET", GET_POST) == POLICY.attempts
    assert len(rig.waits) == POLICY.attempts - 1
    for retry, wait in enumerate(rig.waits):
        assert 0 <= wait <= min(POLICY.backoff.cap_s, POLICY.backoff.base_s * 2**retry)


async def test_a_retry_after_beyond_the_cap_is_left_to_the_callers_schedule(rig: Rig) -> None:
    rig.mm.faults.inject("POST", POSTS, Refuse(429, retry_after=120))
    with pytest.raises(ChatUnavailable) as raised:
        await rig.chat.create_post(rig.channel.id, "hello")
    assert raised.value.retry_after == 120
    assert not raised.value.outcome_unknown  # a 429 is answered before acting
    assert rig.waits == [] and rig.messages() == []


async def test_a_connect_error_is_retried_even_for_a_create(rig: Rig) -> None:
    await rig.mm.faults.unreachable()

    async def back_after_the_first_wait(seconds: float) -> None:
        rig.waits.append(seconds)
        await rig.mm.faults.reachable()

    rig.chat._sleep = back_after_the_first_wait
    post = await rig.chat.create_post(rig.channel.id, "hello")
    assert rig.messages() == ["hello"] and post.message == "hello"
    assert len(rig.waits) == 1


async def test_an_outage_longer_than_the_retries_is_reported_as_not_done(rig: Rig) -> None:
    await rig.mm.faults.unreachable()
    try:
        with pytest.raises(ChatUnavailable) as raised:
            await rig.chat.create_post(rig.channel.id, "hello")
    finally:
        await rig.mm.faults.reachable()
    assert not raised.value.outcome_unknown  # never connected: surely not posted
    assert len(rig.waits) == POLICY.attempts - 1 and rig.messages() == []


async def test_a_refusal_is_final_and_not_retried(rig: Rig) -> None:
    with pytest.raises(ChatRefused) as forbidden:  # the bot is not in the private channel
        await rig.chat.create_post(rig.closed.id, "hello")
    assert forbidden.value.status == 403
    with pytest.raises(ChatRefused) as missing:
        await rig.chat.get_post("x" * 26)
    assert missing.value.status == 404
    with pytest.raises(ChatRefused) as invalid:
        await rig.chat.create_post(rig.channel.id, "m" * 20_000)
    assert (invalid.value.status, invalid.value.error_id) == (
        400,
        "model.post.is_valid.msg.app_error",
    )
    assert rig.waits == []
    assert rig.served("POST", POSTS) == 2 and rig.messages() == []


async def test_single_attempt_never_retries(rig: Rig) -> None:
    once = rig.chat.single_attempt()
    rig.mm.faults.inject("POST", POSTS, Refuse(429))
    with pytest.raises(ChatUnavailable):
        await once.create_post(rig.channel.id, "hello")
    assert rig.waits == [] and rig.served("POST", POSTS) == 1
    await once.create_post(rig.channel.id, "hello")  # the view shares the connection
    assert rig.messages() == ["hello"]


def test_every_operation_the_client_calls_has_a_declared_safety() -> None:
    source = inspect.getsource(MattermostClient)
    called = set(re.findall(r'_(?:call|model)\(\s*(?:\w+,\s*)?"(\w+)"', source))
    assert called and called <= set(OPERATIONS)


async def test_a_call_made_for_a_callback_does_not_wait_past_its_deadline(rig: Rig) -> None:
    rule = rig.mm.faults.inject("POST", POSTS, Refuse(429, retry_after=2), times=2)
    with (
        callback_deadline(lambda: int(time.time() * 1000), budget_ms=1_000),
        pytest.raises(ChatUnavailable) as raised,
    ):
        await rig.chat.create_post(rig.channel.id, "hello")
    assert not raised.value.outcome_unknown  # a 429: surely not posted
    assert rule.fired == 1 and rig.waits == [] and rig.messages() == []
    await rig.chat.create_post(rig.channel.id, "hello")  # no deadline: waits and retries
    assert len(rig.waits) == 1 and rig.waits[0] >= 2
    assert rig.messages() == ["hello"]


async def test_the_bot_joins_a_public_channel_to_post_there_never_a_private_one(
    rig: Rig,
) -> None:
    """create_post needs channel membership (5.36 api4/post.go): in a public channel of its
    team the bot joins first; a private channel stays refused, and nothing is joined."""
    lobby = rig.mm.add_channel(rig.channel.team_id, "lobby", private=False, members=[])
    post = await rig.chat.create_post(lobby.id, "announced")
    assert post.channel_id == lobby.id
    assert rig.bot.id in rig.mm.state.members[lobby.id]
    with pytest.raises(ChatRefused) as refused:
        await rig.chat.create_post(rig.closed.id, "never")
    assert refused.value.status == 403
    assert rig.bot.id not in rig.mm.state.members[rig.closed.id]
    assert rig.mm.posts(rig.closed.id) == []
