"""Status updates: the dialog, posting, broadcast, reminders, following edits, restarts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain.models import Incident
from bot.render.status import REMINDER_MARK
from bot.store.reminders import ReminderState
from tests.fake_clock import FakeClock
from tests.scenarios.harness import PLAYBOOKS, World, world

ALL_CHOICES = ["0", "900", "1800", "3600", "14400", "86400"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def w(tmp_path: Path, clock: FakeClock) -> AsyncIterator[World]:
    async with world(tmp_path, clock=clock) as built:
        yield built


# ---- helpers ---------------------------------------------------------------------------


def element(dialog: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(e for e in dialog["dialog"]["elements"] if e["name"] == name)
    return found


async def open_update(w: World, user: Any, incident: Incident) -> dict[str, Any]:
    reply = await w.command(user, "update", incident.channel_id)
    assert reply["text"] == "", reply
    dialog = w.dialog(user)
    assert dialog["dialog"]["callback_id"] == "status"
    return dialog


async def post_update(
    w: World, user: Any, incident: Incident, message: str, reminder: str = "0"
) -> None:
    dialog = await open_update(w, user, incident)
    result = await w.submit(user, {"message": message, "reminder": reminder}, dialog)
    assert result == {}, result


async def tick(w: World, **delta: float) -> None:
    """Move the fake clock and let warroom handle whatever fell due."""
    assert w.clock is not None
    w.clock.advance(**delta)
    await w.app.reminders.caught_up()
    await w.settle()


def reminder_posts(w: World, incident: Incident) -> list[dict[str, Any]]:
    return [p for p in w.mm.posts(incident.channel_id) if REMINDER_MARK in p["props"]]


def status_posts(w: World, incident: Incident) -> list[dict[str, Any]]:
    return [p for p in w.mm.posts(incident.channel_id) if "Status update by" in p["message"]]


async def events(w: World, incident: Incident) -> list[str]:
    return [e.kind.value for e in await w.app.services.incidents._store.timeline(incident.id)]


# ---- the update flow -------------------------------------------------------------------


async def test_first_update_has_the_template_later_ones_the_last_update(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    first = await open_update(w, w.bob, incident)
    assert element(first, "message")["default"] == "Impact: unknown"
    assert element(first, "message")["max_length"] == 3000
    assert [o["value"] for o in element(first, "reminder")["options"]] == ALL_CHOICES
    assert element(first, "reminder")["default"] == "3600"  # the playbook's 60 minutes
    assert await w.submit(w.bob, {"message": "Checkout *down*", "reminder": "1800"}, first) == {}

    posted = status_posts(w, incident)
    assert len(posted) == 1
    assert posted[0]["user_id"] == w.bot.id
    assert posted[0]["message"].startswith("##### :speech_balloon: Status update by @bob")
    assert "Checkout *down*" in posted[0]["message"]
    card = await w.reload(incident)
    assert "Checkout *down*" in w.card_field(card, "Last status update")
    assert "@bob" in w.card_field(card, "Last status update")
    assert "Checkout" in (await w.command(w.alice, "info", incident.channel_id))["text"]
    assert await events(w, incident) == ["created", "status_updated"]

    await w.click(w.alice, incident.card_post_id, "Update status")
    second = w.dialog(w.alice)
    assert second["dialog"]["callback_id"] == "status"
    assert element(second, "message")["default"] == "Checkout *down*"
    assert element(second, "reminder")["default"] == "1800"
    assert await w.submit(w.alice, {"message": "Recovering", "reminder": "0"}, second) == {}
    third = await open_update(w, w.bob, incident)
    assert element(third, "message")["default"] == "Recovering"
    assert element(third, "reminder")["default"] == "0"
    assert len(status_posts(w, incident)) == 2


async def test_bad_input_is_refused_field_by_field_and_can_be_corrected(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    dialog = await open_update(w, w.alice, incident)
    empty = await w.submit(w.alice, {"message": "  ", "reminder": "900"}, dialog)
    assert empty == {"errors": {"message": "Write the update."}}
    odd = await w.submit(w.alice, {"message": "ok", "reminder": "10"}, dialog)  # testing only
    assert odd == {"errors": {"reminder": "Choose one of the listed reminders."}}
    long = await w.submit(w.alice, {"message": "x" * 3001, "reminder": "0"}, dialog)
    assert "at most 3000" in long["errors"]["message"]
    assert status_posts(w, incident) == []
    assert await w.submit(w.alice, {"message": "ok", "reminder": "0"}, dialog) == {}
    replay = await w.submit(w.alice, {"message": "again", "reminder": "0"}, dialog)
    assert replay.get("error")
    assert len(status_posts(w, incident)) == 1
    extra = await w.command(w.alice, "update now", incident.channel_id)
    assert "Too many arguments" in extra["text"] and "/incident update" in extra["text"]
    assert "`/incident update` — Post a status update" in (await w.command(w.bob, "help"))["text"]


async def test_update_is_refused_when_ended_or_for_a_non_member(w: World) -> None:
    incident = await w.start_incident(w.alice, "Open drill", playbook="Public drill")
    # refused by the server itself (read_channel is a channel-member permission)
    assert (await w.click(w.carol, incident.card_post_id, "Update status")).status == 403
    assert w.mm.dialogs(w.carol.id) == []
    await w.command(w.alice, "end", incident.channel_id)
    await w.submit(w.alice, {}, w.dialog(w.alice))
    ended = await w.command(w.alice, "update", incident.channel_id)
    assert "already ended" in ended["text"]
    assert "not an incident channel" in (await w.command(w.alice, "update"))["text"]


async def test_a_dialog_opened_before_the_end_cannot_post_after_it(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    dialog = await open_update(w, w.alice, incident)
    await w.command(w.alice, "end", incident.channel_id)
    await w.submit(w.alice, {}, w.dialog(w.alice))
    result = await w.submit(w.alice, {"message": "late", "reminder": "900"}, dialog)
    assert "already ended" in result["error"]
    assert status_posts(w, incident) == []


async def test_testing_settings_offer_a_ten_second_reminder(tmp_path: Path) -> None:
    clock = FakeClock()
    async with world(tmp_path, clock=clock, testing_enabled=True) as w:
        incident = await w.start_incident(w.alice, "Disk full")
        dialog = await open_update(w, w.alice, incident)
        values = [o["value"] for o in element(dialog, "reminder")["options"]]
        assert values == ["0", "10", *ALL_CHOICES[1:]]
        await w.submit(w.alice, {"message": "soon", "reminder": "10"}, dialog)
        await tick(w, seconds=9)
        assert reminder_posts(w, incident) == []
        await tick(w, seconds=1)
        assert len(reminder_posts(w, incident)) == 1


# ---- broadcast ---------------------------------------------------------------------------


async def test_update_is_copied_to_the_broadcast_channel(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await tick(w, minutes=75)
    await post_update(w, w.bob, incident, "Checkout down\nWorking on it")
    post_id = status_posts(w, incident)[0]["id"]
    copy = w.messages(w.ops.id)[-1]
    link = f"{w.mm.url}/acme/pl/{post_id}"
    assert copy.startswith(f"#### [Disk full]({link})\n")
    assert "Status update by @bob · 1h 15m · Ongoing" in copy
    assert copy.endswith("Checkout down\nWorking on it")
    assert w.told(w.bob) == ""


async def test_a_broadcast_failure_is_reported_and_does_not_fail_the_update(
    tmp_path: Path,
) -> None:
    async with world(tmp_path, playbooks=PLAYBOOKS.replace("~ops-alerts", "~exec-updates")) as w:
        execs = w.mm.add_channel(w.team.id, "exec-updates", private=True, members=[w.bot.id])
        await w.app.reload_playbooks()
        incident = await w.start_incident(w.alice, "Disk full")
        assert incident.broadcast_channel_id == execs.id
        await w.mm.remove_from_channel(w.admin, execs.id, w.bot.id)
        await post_update(w, w.bob, incident, "Checkout down", reminder="900")
        assert len(status_posts(w, incident)) == 1
        assert "could not copy it to the broadcast channel" in w.told(w.bob)
        assert "Checkout down" in w.card_field(await w.reload(incident), "Last status update")
        assert await events(w, incident) == ["created", "status_updated"]
        scheduler = w.app.services.status.scheduler
        assert await scheduler.store.count(ReminderState.PENDING) == 1


# ---- reminders -----------------------------------------------------------------------


async def test_reminder_fires_once_mentions_the_commander_and_update_closes_it(
    w: World,
) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await post_update(w, w.bob, incident, "Checkout down", reminder="900")
    await tick(w, minutes=14)
    assert reminder_posts(w, incident) == []
    await tick(w, minutes=1)
    [reminder] = reminder_posts(w, incident)
    assert reminder["user_id"] == w.bot.id
    assert reminder["message"].startswith("@alice, a status update for **Disk full** is due.")
    labels = [a["name"] for a in reminder["props"]["attachments"][0]["actions"]]
    assert labels == ["Update status", "Dismiss"]
    await tick(w, hours=30)
    assert len(reminder_posts(w, incident)) == 1  # one reminder per update: no repeat
    assert w.app.metrics.value("warroom_reminders_fired_total") == 1

    await w.click(w.carol, reminder["id"], "Update status")  # not a member
    assert w.mm.dialogs(w.carol.id) == []
    await w.click(w.bob, reminder["id"], "Update status")
    dialog = w.dialog(w.bob)
    assert element(dialog, "message")["default"] == "Checkout down"
    assert element(dialog, "reminder")["default"] == "900"
    assert await w.submit(w.bob, {"message": "Fixed", "reminder": "3600"}, dialog) == {}
    assert w.mm.get_post(reminder["id"]) is None  # the answered reminder is removed
    await tick(w, minutes=59)
    assert reminder_posts(w, incident) == []
    await tick(w, minutes=1)
    assert len(reminder_posts(w, incident)) == 1


async def test_dismiss_removes_the_reminder_post(w: World) -> None:
    incident = await w.start_incident(w.alice, "Open drill", playbook="Public drill")
    await post_update(w, w.alice, incident, "Checkout down", reminder="900")
    await tick(w, minutes=15)
    [reminder] = reminder_posts(w, incident)
    # carol can read the channel but is not a member: the server refuses her click
    assert (await w.click(w.carol, reminder["id"], "Dismiss")).status == 403
    assert w.mm.get_post(reminder["id"]) is not None
    said = len(w.mm.ephemerals(w.alice.id))
    await w.click(w.alice, reminder["id"], "Dismiss")
    assert w.mm.get_post(reminder["id"]) is None
    assert len(w.mm.ephemerals(w.alice.id)) == said
    scheduler = w.app.services.status.scheduler
    assert await scheduler.store.count(ReminderState.POSTED) == 0
    await tick(w, hours=2)
    assert reminder_posts(w, incident) == []


async def test_ending_cancels_the_pending_reminder_and_restart_does_not_revive_it(
    w: World,
) -> None:
    pending = await w.start_incident(w.alice, "Disk full")
    posted = await w.start_incident(w.alice, "Slow search")
    await post_update(w, w.alice, pending, "a", reminder="1800")
    await post_update(w, w.alice, posted, "b", reminder="900")
    await tick(w, minutes=20)
    [reminder] = reminder_posts(w, posted)
    for incident in (pending, posted):
        await w.command(w.alice, "end", incident.channel_id)
        await w.submit(w.alice, {}, w.dialog(w.alice))
    assert w.mm.get_post(reminder["id"]) is None
    await w.command(w.alice, "restart", pending.channel_id)
    await tick(w, hours=2)
    assert reminder_posts(w, pending) == [] and reminder_posts(w, posted) == []


# ---- following edits and deletions ---------------------------------------------------------


async def test_edits_and_deletes_of_status_posts_are_followed(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await post_update(w, w.alice, incident, "First words")
    await post_update(w, w.alice, incident, "Second words")
    first, second = (p["id"] for p in status_posts(w, incident))
    copies = w.messages(w.ops.id)

    await w.mm.edit_post(w.admin, second, "Second words, corrected")
    await w.mm.wait_until(
        lambda: "corrected" in w.card_field(incident, "Last status update"), within=5
    )
    await w.settle()
    dialog = await open_update(w, w.bob, incident)
    assert element(dialog, "message")["default"] == "Second words, corrected"

    await w.mm.delete_post(w.admin, second)
    await w.mm.wait_until(
        lambda: "First words" in w.card_field(incident, "Last status update"), within=5
    )
    await w.settle()
    assert "First words" in (await w.command(w.bob, "info", incident.channel_id))["text"]
    dialog = await open_update(w, w.bob, incident)
    assert element(dialog, "message")["default"] == "First words"

    await w.mm.delete_post(w.admin, first)
    await w.mm.wait_until(lambda: w.card_field(incident, "Last status update") == "_none yet_")
    await w.settle()
    dialog = await open_update(w, w.bob, incident)
    assert element(dialog, "message")["default"] == "Impact: unknown"
    assert w.messages(w.ops.id) == copies  # broadcast copies are left as they were


async def test_a_deletion_missed_while_disconnected_is_found_after_reconnect(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await post_update(w, w.alice, incident, "Old news")
    await post_update(w, w.alice, incident, "Newest")
    newest = status_posts(w, incident)[-1]["id"]
    runs = w.app.resync.runs
    w.mm.requests.clear()
    await w.mm.drop_websockets()
    await w.mm.delete_post(w.admin, newest)  # no connection: this event is lost (5.36)
    await w.mm.wait_until(lambda: w.app.resync.runs > runs)
    await w.settle()
    assert any(r.path == f"/api/v4/posts/{newest}" for r in w.mm.requests)
    assert "Old news" in w.card_field(incident, "Last status update")


# ---- durability ----------------------------------------------------------------------------


async def test_reminders_survive_a_restart_and_each_fires_exactly_once(w: World) -> None:
    assert w.clock is not None
    due_while_down = await w.start_incident(w.alice, "Disk full")
    later = await w.start_incident(w.alice, "Slow search")
    await post_update(w, w.alice, due_while_down, "a", reminder="900")
    await post_update(w, w.alice, later, "b", reminder="3600")

    await w.stop_app()
    w.clock.advance(minutes=20)  # the first one falls due while warroom is down
    await w.start_app()
    await tick(w)
    assert len(reminder_posts(w, due_while_down)) == 1
    assert reminder_posts(w, later) == []

    await tick(w, minutes=40)
    assert len(reminder_posts(w, later)) == 1
    await w.stop_app()
    await w.start_app()
    await tick(w, hours=5)
    assert len(reminder_posts(w, due_while_down)) == 1
    assert len(reminder_posts(w, later)) == 1


async def test_a_reminder_posted_just_before_a_kill_is_not_posted_again(w: World) -> None:
    """The SIGKILL window: the post was made, its row still says ``firing``."""
    assert w.clock is not None
    posted = await w.start_incident(w.alice, "Disk full")
    unposted = await w.start_incident(w.alice, "Slow search")
    await post_update(w, w.alice, posted, "a", reminder="900")
    await post_update(w, w.alice, unposted, "b", reminder="900")
    await w.stop_app()
    db = w.app.db
    await db.open()  # as the killed process left it:
    async with db.transaction() as tx:
        await tx.conn.execute("UPDATE reminders SET state = 'firing'")
    async with db.conn.execute(
        "SELECT id FROM reminders WHERE incident_id = ?", (posted.id,)
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    await db.close()
    await w.mm.user_post(
        w.bot,
        posted.channel_id,
        "@alice, a status update is due.",
        props={REMINDER_MARK: str(row[0])},
    )
    w.clock.advance(minutes=20)
    await w.start_app()
    await tick(w)
    assert len(reminder_posts(w, posted)) == 1
    assert len(reminder_posts(w, unposted)) == 1
    scheduler = w.app.services.status.scheduler
    assert await scheduler.store.count(ReminderState.POSTED) == 2


async def test_a_reminder_refused_because_the_channel_was_archived_unseen_gives_no_advice(
    w: World,
) -> None:
    """The channel was archived while warroom did not hear of it (no event): the due reminder
    is refused there. "Post the update with /incident update in the incident channel" is
    impossible advice for an archived channel; the commander hears once, from the archive
    notice, what to do (restore, then restart)."""
    incident = await w.start_incident(w.alice, "Disk full")
    await post_update(w, w.bob, incident, "Checkout down", reminder="900")
    channel = w.mm.channel(incident.channel_id)
    assert channel is not None
    channel.delete_at = channel.update_at + 1  # archived, and warroom was not told
    await tick(w, minutes=16)
    assert reminder_posts(w, incident) == []
    assert "/incident update" not in w.told(w.alice)
    runs = w.app.resync.runs
    await w.mm.drop_websockets()  # the re-sync after the reconnect finds the archive
    await w.mm.wait_until(lambda: w.app.resync.runs > runs and w.app.listener.connected)
    await w.settle()
    assert "was archived, so the incident ended" in w.told(w.alice)
    assert "/incident update" not in w.told(w.alice)
