"""The webhook worker against an in-memory store: outcomes of an attempt, and a worker that
outlives a failing database read."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from bot.domain.webhooks import RETRY_FOR_MS, Delivery, DeliveryState
from bot.services.ports import WebhookRefused, WebhookUnreachable
from bot.services.webhooks import Webhooks
from tests.fake_clock import FakeClock
from tests.scenarios.webhook_receiver import verify


class MemoryStore:
    """What bot/store/webhooks.py does, in a dict; ``fail_reads`` due() calls raise first."""

    def __init__(self) -> None:
        self.rows: dict[str, Delivery] = {}
        self.disabled: set[tuple[str, str]] = set()
        self.fail_reads = 0

    async def add(self, tx: Any, delivery: Delivery) -> None:
        self.rows[delivery.id] = delivery

    async def due(self, now: int, limit: int) -> list[Delivery]:
        if self.fail_reads:
            self.fail_reads -= 1
            raise RuntimeError("database is locked")
        pending = [d for d in self.rows.values() if d.state is DeliveryState.PENDING]
        return sorted((d for d in pending if d.next_at <= now), key=lambda d: d.next_at)[:limit]

    async def next_due(self) -> int | None:
        pending = [d.next_at for d in self.rows.values() if d.state is DeliveryState.PENDING]
        return min(pending, default=None)

    def _set(self, delivery_id: str, **changes: Any) -> None:
        row = self.rows[delivery_id]
        self.rows[delivery_id] = row.model_copy(update={"attempts": row.attempts + 1, **changes})

    async def settle(
        self, delivery_id: str, *, state: DeliveryState, status: int | None, error: str, at: int
    ) -> None:
        self._set(delivery_id, state=state, last_status=status, last_error=error, settled_at=at)

    async def retry(
        self, delivery_id: str, *, status: int | None, error: str, next_at: int
    ) -> None:
        self._set(delivery_id, last_status=status, last_error=error, next_at=next_at)

    async def disable(self, playbook_id: str, url: str, at: int) -> None:
        self.disabled.add((playbook_id, url))

    async def is_disabled(self, playbook_id: str, url: str) -> bool:
        return (playbook_id, url) in self.disabled

    async def enable(self, url: str) -> int:
        lifted = {k for k in self.disabled if k[1] == url}
        self.disabled -= lifted
        return len(lifted)

    async def for_incident(self, incident_id: str, limit: int) -> list[Delivery]:
        return list(self.rows.values())[:limit]


class Sender:
    def __init__(self, *answers: int | Exception) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.sent.append((url, body, headers))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        return answer


def hooks(sender: Sender, clock: FakeClock, env: dict[str, str] | None = None) -> Webhooks:
    return Webhooks(
        store=MemoryStore(),
        playbook=lambda _: asyncio.sleep(0, None),
        sender=sender,
        clock=clock,
        timer=clock,
        allowed_hosts=frozenset(),
        environ={"HOOK_SECRET": "k"} if env is None else env,
        rng=random.Random(1),
    )


def delivery(clock: FakeClock, url: str = "http://127.0.0.1:9/hook") -> Delivery:
    return Delivery(
        id="e" * 26, incident_id="i", playbook_id="p", url=url, secret_env="HOOK_SECRET",
        event_type="started", body='{"id":"x"}', created_at=clock.now_ms(),
        next_at=clock.now_ms(),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("answer", "state"),
    [
        (204, DeliveryState.DELIVERED),
        (410, DeliveryState.DISABLED),
        (500, DeliveryState.PENDING),
        (301, DeliveryState.PENDING),  # a redirect is not followed: not delivered
        (WebhookUnreachable("timed out"), DeliveryState.PENDING),
        (WebhookRefused("refused: h resolves to 10.0.0.1"), DeliveryState.REFUSED),
    ],
)
async def test_each_answer_leaves_the_delivery_as_the_contract_says(
    answer: int | Exception, state: DeliveryState
) -> None:
    clock = FakeClock()
    sender = Sender(answer)
    worker = hooks(sender, clock)
    row = delivery(clock)
    await worker.store.add(None, row)
    assert await worker.attempt(row) is state
    _, body, headers = sender.sent[0]
    assert verify(b"k", headers["Warroom-Timestamp"], body, headers["Warroom-Signature"])
    stored = (await worker.store.for_incident("i", 1))[0]
    assert stored.state is state and stored.attempts == 1
    if state is DeliveryState.PENDING:
        assert stored.next_at > clock.now_ms()
        assert stored.last_error
    if state is DeliveryState.REFUSED:  # settled at once, with the reason, never retried
        assert stored.last_error == "refused: h resolves to 10.0.0.1"
        assert await worker.store.due(clock.now_ms() + 10**9, 10) == []


async def test_a_missing_secret_or_a_host_no_longer_allowed_is_not_sent() -> None:
    clock = FakeClock()
    sender = Sender()
    worker = hooks(sender, clock, env={})
    row = delivery(clock)
    await worker.store.add(None, row)
    assert await worker.attempt(row) is DeliveryState.PENDING  # the operator can set it
    elsewhere = delivery(clock, url="http://10.1.2.3/hook").model_copy(update={"id": "f" * 26})
    await worker.store.add(None, elsewhere)
    assert await worker.attempt(elsewhere) is DeliveryState.FAILED
    assert sender.sent == []


async def test_after_25_hours_of_failures_it_gives_up() -> None:
    clock = FakeClock()
    worker = hooks(Sender(503), clock)
    row = delivery(clock)
    await worker.store.add(None, row)
    clock.advance(seconds=RETRY_FOR_MS / 1000)
    assert await worker.attempt(row) is DeliveryState.FAILED


async def test_the_worker_outlives_a_failing_read_and_delivers_afterwards() -> None:
    clock = FakeClock()
    sender = Sender()
    worker = hooks(sender, clock)
    store = worker.store
    assert isinstance(store, MemoryStore)
    store.fail_reads = 1
    await store.add(None, delivery(clock))
    task = asyncio.create_task(worker.run())
    try:
        for _ in range(100):
            if clock.sleepers:
                break
            await asyncio.sleep(0)
        clock.advance(seconds=10)  # past the pause after the failure
        for _ in range(100):
            if sender.sent:
                break
            await asyncio.sleep(0.01)
        assert len(sender.sent) == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
