"""Outgoing webhooks (issue 14): signed, retried, durable, never slowing chat.

Rule: every change a playbook's webhook subscribes to is delivered to it at least once,
signed, with one event id for all attempts (receivers drop repeats by it); a failing receiver
is retried until it recovers (or 25 hours pass), 410 disables it, and chat never waits.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.transport import webhook_sender
from tests.fake_clock import FakeClock
from tests.scenarios.api_client import call
from tests.scenarios.harness import World, world
from tests.scenarios.test_status import post_update
from tests.scenarios.test_status_sigkill import child_env
from tests.scenarios.webhook_receiver import (
    SECRET,
    SECRET_ENV,
    Receiver,
    playbooks_with_hook,
    verify,
)
from tests.transport.test_webhook_sender import FakeResolver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    built = Receiver()
    yield built
    await built.close()


@pytest.fixture
async def w(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    url = await receiver.start()
    async with world(tmp_path, playbooks=playbooks_with_hook(url), clock=FakeClock()) as built:
        yield built


def states(w: World) -> list[tuple[str, str, int]]:
    with sqlite3.connect(w.settings.db_path) as conn:
        rows = conn.execute(
            "SELECT event_type, state, attempts FROM webhook_deliveries ORDER BY created_at, rowid"
        )
        return [(r[0], r[1], r[2]) for r in rows]


async def test_a_delivery_is_signed_and_carries_the_incident_as_the_api_shows_it(
    w: World, receiver: Receiver
) -> None:
    incident = await w.start_incident(w.alice, "DB down")
    await receiver.wait_for(1)
    got = receiver.got[0]
    assert verify(
        SECRET.encode(),
        got.headers["Warroom-Timestamp"],
        got.body,
        got.headers["Warroom-Signature"],
    )
    assert not verify(b"another secret", got.headers["Warroom-Timestamp"], got.body,
                      got.headers["Warroom-Signature"])  # fmt: skip
    event = got.event
    assert event["id"] == got.headers["Warroom-Event-Id"]
    assert event["type"] == "started"
    assert event["occurred_at"].endswith("+00:00")
    assert event["incident"]["id"] == incident.id
    assert event["incident"]["name"] == "DB down"
    assert event["incident"]["timeline"][0]["kind"] == "created"
    assert [s["title"] for s in event["incident"]["stages"]] == ["Triage", "Resolution"]


async def test_a_failing_receiver_gets_the_same_event_until_it_recovers(
    w: World, receiver: Receiver
) -> None:
    receiver.answers = [500, 503]
    await w.start_incident(w.alice, "DB down")
    await receiver.wait_for(1)
    assert w.clock is not None
    for attempt in (2, 3):
        w.clock.advance(minutes=1)  # past the backoff of the attempts so far
        await receiver.wait_for(attempt)
    await w.settle()
    bodies = {r.body for r in receiver.got}
    ids = {r.headers["Warroom-Event-Id"] for r in receiver.got}
    assert len(receiver.got) == 3 and len(bodies) == 1 and len(ids) == 1
    for _ in range(500):
        if states(w) == [("started", "delivered", 3)]:
            break
        await asyncio.sleep(0.01)
    assert states(w) == [("started", "delivered", 3)]


async def test_410_disables_the_endpoint(w: World, receiver: Receiver) -> None:
    receiver.answers = [410]
    incident = await w.start_incident(w.alice, "DB down")
    await receiver.wait_for(1)
    for _ in range(500):
        if states(w) and states(w)[0][1] == "disabled":
            break
        await asyncio.sleep(0.01)
    await w.command(w.alice, "end", incident.channel_id)
    dialog = w.dialog(w.alice)
    await w.submit(w.alice, {}, dialog)
    assert not (await w.reload(incident)).is_ongoing
    assert w.clock is not None
    w.clock.advance(hours=1)
    await w.settle()
    assert len(receiver.got) == 1  # nothing more goes to a 410 endpoint
    assert [s[:2] for s in states(w)] == [("started", "disabled")]


async def test_a_chat_action_never_waits_for_a_slow_receiver(w: World, receiver: Receiver) -> None:
    receiver.hold = asyncio.Event()  # the receiver keeps every request open until released
    incident = await w.start_incident(w.alice, "DB down")
    await receiver.wait_for(1)
    reply = await w.command(w.alice, "commander @bob", incident.channel_id)
    assert reply.get("text", "") == ""  # answered while the delivery is still open
    assert (await w.reload(incident)).commander_id == w.bob.id
    assert states(w)[0][1] == "pending"
    receiver.hold.set()


async def test_admins_see_deliveries_and_failures(w: World, receiver: Receiver) -> None:
    receiver.answers = [500]
    incident = await w.start_incident(w.alice, "DB down")
    await receiver.wait_for(1)
    await w.settle()
    for _ in range(500):
        if states(w)[0][2] == 1:
            break
        await asyncio.sleep(0.01)
    shown = await w.command(w.admin, "webhooks", incident.channel_id)
    assert "started" in shown["text"] and "retrying" in shown["text"]
    assert "HTTP 500" in shown["text"]
    refused = await w.command(w.alice, "webhooks", incident.channel_id)
    assert "Only system admins" in refused["text"]


async def test_only_loopback_and_allowed_hosts_may_be_targets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    internal = playbooks_with_hook("http://billing.internal:8080/hook")
    for name in ("refused", "allowed"):
        (tmp_path / name).mkdir()
    async with world(tmp_path / "refused", playbooks=internal) as built:
        assert await built.app.services.playbooks.file_playbooks() == []  # the file is refused
    async with world(
        tmp_path / "allowed", playbooks=internal, webhook_allowed_hosts=["billing.internal"]
    ) as built:
        titles = {p.title for p in await built.app.services.playbooks.file_playbooks()}
        assert "Outage" in titles


async def test_only_the_subscribed_events_are_sent_each_once(w: World, receiver: Receiver) -> None:
    incident = await w.start_incident(w.alice, "DB down")
    await w.command(w.alice, "commander @bob", incident.channel_id)  # not subscribed
    await post_update(w, w.bob, incident, "Checkout is down.")
    await w.command(w.bob, "end", incident.channel_id)
    await w.submit(w.bob, {}, w.dialog(w.bob))
    await receiver.wait_for(3)
    await w.settle()
    events = [r.event for r in receiver.got]
    assert [e["type"] for e in events] == ["started", "status_updated", "ended"]
    assert len({e["id"] for e in events}) == 3
    assert events[1]["incident"]["status_updates"][0]["message"] == "Checkout is down."
    assert events[2]["incident"]["status"] == "ended"


async def test_a_kill_9_during_a_delivery_loses_nothing(
    w: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """warroom (a real ``warroom run`` process) is SIGKILLed while the receiver holds the
    delivery open; the next warroom sends the same event again and it is delivered."""
    receiver.answers = [503]  # the in-process warroom's attempt fails: the event is pending
    incident = await w.start_incident(w.alice, "DB down")
    await receiver.wait_for(1)
    for _ in range(500):
        if states(w)[0][2] == 1:
            break
        await asyncio.sleep(0.01)
    await w.stop_app()
    with sqlite3.connect(w.settings.db_path) as conn:
        conn.execute("UPDATE webhook_deliveries SET next_at = 0")  # due for the child at once

    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=child_env(w),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    receiver.hold = asyncio.Event()  # never answered: the child dies with the request open

    def kill() -> None:
        if child.returncode is None:
            os.kill(child.pid, signal.SIGKILL)

    receiver.on_request = kill
    code = await asyncio.wait_for(child.wait(), timeout=60)
    assert child.stderr is not None
    assert code == -signal.SIGKILL, (await child.stderr.read()).decode()[-3000:]
    assert len(receiver.got) == 2
    receiver.on_request = None
    receiver.hold.set()
    receiver.hold = None

    await w.start_app()  # warroom again, on the same database
    assert w.clock is not None
    w.clock.advance(hours=2)
    await receiver.wait_for(3)
    for _ in range(500):
        if states(w)[0][1] == "delivered":
            break
        await asyncio.sleep(0.01)
    assert states(w)[0][1] == "delivered"
    ids = {r.headers["Warroom-Event-Id"] for r in receiver.got}
    assert len(ids) == 1  # one event, sent three times: the receiver keeps it once
    assert receiver.got[-1].event["incident"]["id"] == incident.id


async def test_admins_see_deliveries_through_the_api_too(w: World, receiver: Receiver) -> None:
    incident = await w.start_incident(w.alice, "DB down")
    await receiver.wait_for(1)
    for _ in range(500):
        if states(w)[0][1] == "delivered":
            break
        await asyncio.sleep(0.01)
    path = f"/incidents/{incident.id}/webhook-deliveries"
    seen = await call(w, w.admin, "GET", path)
    assert seen.status == 200, seen.body
    [delivery] = seen.body["items"]
    assert delivery["event_type"] == "started"
    assert delivery["state"] == "delivered"
    assert delivery["id"] == receiver.got[0].headers["Warroom-Event-Id"]
    refused = await call(w, w.alice, "GET", path)
    assert refused.status == 403
    assert refused.error["id"] == "webhooks_admins_only"


async def test_a_receiver_that_times_out_is_retried_until_it_answers(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    url = await receiver.start()
    receiver.hold = asyncio.Event()  # the first request is never answered in time
    async with world(
        tmp_path, playbooks=playbooks_with_hook(url), clock=FakeClock(), webhook_timeout=0.5
    ) as w:
        await w.start_incident(w.alice, "DB down")
        await receiver.wait_for(1)
        for _ in range(500):
            if states(w)[0][2] == 1:
                break
            await asyncio.sleep(0.01)
        with sqlite3.connect(w.settings.db_path) as conn:
            error = conn.execute("SELECT last_error FROM webhook_deliveries").fetchone()[0]
        assert (states(w)[0][1], error) == ("pending", "timed out")
        receiver.hold.set()
        receiver.hold = None
        assert w.clock is not None
        for _ in range(500):  # (a loaded machine may time out again: it is retried again)
            if states(w)[0][1] == "delivered":
                break
            w.clock.advance(minutes=2)  # 500 steps: under the 25 hours of retries
            await asyncio.sleep(0.01)
        [(kind, state, attempts)] = states(w)
        assert (kind, state) == ("started", "delivered") and attempts >= 2


async def test_the_readme_example_verifies_a_real_delivery_and_refuses_a_forged_one(
    w: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's verification example, run as written, against what warroom sends."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("Verifying a delivery (Python):", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    code = code.replace("WARROOM_STATUSPAGE_SECRET", SECRET_ENV)  # the test playbook's name
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    example = namespace["verify"]
    assert callable(example)
    await w.start_incident(w.alice, "DB down")
    await receiver.wait_for(1)
    got = receiver.got[0]
    assert w.clock is not None
    monkeypatch.setattr("time.time", lambda: w.clock.now_ms() / 1000 if w.clock else 0.0)
    assert example(got.headers, got.body) is True
    assert example(got.headers, got.body.replace(b"DB down", b"DB fine")) is False
    w.clock.advance(minutes=10)
    assert example(got.headers, got.body) is False  # an old delivery replayed


async def test_an_allowed_name_pointing_at_an_internal_address_is_refused_and_shown(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An allowed host name re-pointed at the cloud metadata address: nothing is sent, the
    delivery is refused at once (not retried) with the reason, in chat and in the API."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    port = (await receiver.start()).split(":")[2].split("/")[0]
    fake = FakeResolver(["169.254.169.254"])
    monkeypatch.setattr(webhook_sender, "system_resolver", lambda: fake)
    hook = f"http://hooks.example.com:{port}/hook"
    async with world(
        tmp_path, playbooks=playbooks_with_hook(hook), clock=FakeClock(),
        webhook_allowed_hosts=["hooks.example.com"],
    ) as w:  # fmt: skip
        incident = await w.start_incident(w.alice, "DB down")
        for _ in range(500):
            if states(w) and states(w)[0][1] != "pending":
                break
            await asyncio.sleep(0.01)
        assert states(w) == [("started", "refused", 1)]
        assert w.clock is not None
        w.clock.advance(hours=2)
        await w.settle()
        assert receiver.got == [] and states(w) == [("started", "refused", 1)]
        shown = await w.command(w.admin, "webhooks", incident.channel_id)
        assert "refused" in shown["text"] and "169.254.169.254" in shown["text"]
        seen = await call(w, w.admin, "GET", f"/incidents/{incident.id}/webhook-deliveries")
        [delivery] = seen.body["items"]
        assert delivery["state"] == "refused"
        assert "hooks.example.com resolves to 169.254.169.254" in delivery["last_error"]
        fake.addresses = ["127.0.0.1"]  # pointed back at loopback: the next event goes
        await post_update(w, w.alice, incident, "Checkout is down.")
        await receiver.wait_for(1)
        assert receiver.got[0].event["type"] == "status_updated"


async def test_an_admin_re_enables_an_endpoint_a_410_disabled(w: World, receiver: Receiver) -> None:
    """Rule: a 410 disables an endpoint until a system admin re-enables it, in chat
    (``/incident webhooks enable <url>``) or through the API; then new events go to it."""
    receiver.answers = [410]
    incident = await w.start_incident(w.alice, "DB down")
    await receiver.wait_for(1)
    for _ in range(500):
        if states(w) and states(w)[0][1] == "disabled":
            break
        await asyncio.sleep(0.01)
    assert receiver.server is not None
    url = str(receiver.server.make_url("/hook"))  # the playbook's webhook
    refused = await w.command(w.alice, f"webhooks enable {url}", incident.channel_id)
    assert "Only system admins" in refused["text"]
    api_refused = await call(w, w.alice, "POST", "/webhooks/enable", json={"url": url})
    assert api_refused.status == 403
    assert api_refused.error["id"] == "webhooks_enable_admins_only"
    await post_update(w, w.alice, incident, "Still disabled.")
    await w.settle()
    assert len(receiver.got) == 1

    answer = await w.command(w.admin, f"webhooks enable {url}", incident.channel_id)
    assert "re-enabled" in answer["text"]
    await post_update(w, w.alice, incident, "Checkout is back.")
    await receiver.wait_for(2)
    updates = [u["message"] for u in receiver.got[1].event["incident"]["status_updates"]]
    assert "Checkout is back." in updates  # the event after re-enabling, not the one before
    again = await w.command(w.admin, f"webhooks enable {url}", incident.channel_id)
    assert "is not disabled" in again["text"]

    receiver.answers = [410]  # disabled again, and re-enabled through the API
    await post_update(w, w.alice, incident, "Flapping.")
    await receiver.wait_for(3)
    for _ in range(500):
        if [s[1] for s in states(w)].count("disabled") == 2:
            break
        await asyncio.sleep(0.01)
    enabled = await call(w, w.admin, "POST", "/webhooks/enable", json={"url": url})
    assert enabled.status == 200, enabled.body
    assert enabled.body == {"url": url, "endpoints": 1}
    await post_update(w, w.alice, incident, "Stable.")
    await receiver.wait_for(4)
