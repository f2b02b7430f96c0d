"""Reconnects, restarts and outages: warroom catches up over REST and loses nothing."""

from pathlib import Path

import pytest

import bot.services.starts as starts_module
from tests.double.faults import Refuse
from tests.fake_clock import FakeClock
from tests.scenarios.harness import World, world


async def test_reconnect_triggers_a_rest_resync_that_follows_a_renamed_channel(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await w.mm.wait_until(lambda: w.app.listener.connected and w.app.resync.runs >= 1)
    runs = w.app.resync.runs
    await w.mm.drop_websockets()
    # While warroom is disconnected, someone renames the channel (5.36 replays nothing).
    channel = w.mm.channel(incident.channel_id)
    assert channel is not None
    channel.name = "disk-full-renamed"
    await w.mm.wait_until(lambda: w.app.resync.runs > runs and w.app.listener.connected)
    await w.settle()
    assert (await w.reload(incident)).channel_name == "disk-full-renamed"
    assert "~disk-full-renamed" in (await w.command(w.alice, "list"))["text"]


async def test_state_survives_a_restart_on_the_same_database(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await w.command(w.alice, "commander @bob", incident.channel_id)
    await w.restart()
    restored = await w.app.services.incidents.get(incident.id)
    assert restored.commander_id == w.bob.id
    assert restored.card_post_id == incident.card_post_id
    timeline = await w.app.services.incidents.store.timeline(incident.id)
    assert [e.kind.value for e in timeline] == ["created", "commander_changed"]
    # and it keeps working: the old card's buttons still verify after the restart
    await w.click(w.alice, incident.card_post_id, "End incident")
    assert w.dialog(w.alice)["dialog"]["callback_id"] == "end"


async def test_a_card_refresh_failing_beyond_its_retries_does_not_undo_the_change(
    tmp_path: Path,
) -> None:
    async with world(tmp_path, clock=FakeClock(autojump_s=60)) as w:  # retry waits pass
        incident = await w.start_incident(w.alice, "Disk full")
        w.mm.faults.inject("PUT", r"/api/v4/posts/.*/patch", Refuse(500), times=None)
        await w.command(w.alice, "commander @bob", incident.channel_id)
        assert (await w.reload(incident)).commander_id == w.bob.id
        assert w.card_field(incident, "Commander") == "@alice"  # the refresh failed
        # the next refresh brings the card up to date
        w.mm.faults.clear()
        await w.app.services.incidents.refresh_posts(incident.id)
        assert w.card_field(incident, "Commander") == "@bob"


async def test_a_change_that_changes_nothing_is_not_saved(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    before = await w.reload(incident)
    same, events = await w.app.services.incidents.mutate(incident.id, lambda cur: (cur, []))
    assert events == [] and same.version == before.version
    assert (await w.reload(incident)).version == before.version


async def test_a_start_cut_short_by_mattermost_is_finished_after_reconnect(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(starts_module, "REPAIR_DELAYS_S", ())  # only the re-sync repairs
    # The channel is created, then Mattermost fails the first post of the setup (a 500:
    # it may have been made, so it is not simply repeated).
    w.mm.fail_next("POST", r"/api/v4/posts$", status=500, times=1)
    incident = await w.start_incident(w.alice, "Cut short")
    assert "could not finish setting it up" in w.told(w.alice)
    assert not (await w.reload(incident)).card_post_id
    runs = w.app.resync.runs
    await w.mm.drop_websockets()
    await w.mm.wait_until(lambda: w.app.resync.runs > runs)
    await w.settle()
    repaired = await w.reload(incident)
    assert repaired.card_post_id and repaired.checklist_post_id
    card = w.mm.get_post(repaired.card_post_id)
    assert card is not None and card["is_pinned"]
    assert w.card_field(repaired, "Commander") == "@alice"
    # a second re-sync does not post them again
    posts = len(w.mm.posts(incident.channel_id))
    await w.app.resync.run()
    assert len(w.mm.posts(incident.channel_id)) == posts


async def test_a_start_cut_short_is_retried_without_a_reconnect(w: World) -> None:
    w.mm.fail_next("POST", r"/api/v4/posts$", status=500, times=1)
    incident = await w.start_incident(w.alice, "Retried")
    await w.mm.wait_until(
        lambda: (
            bool(w.mm.channel(incident.channel_id))
            and len([p for p in w.mm.posts(incident.channel_id) if p["is_pinned"]]) == 1
        ),
        within=5,
    )
    repaired = await w.reload(incident)
    assert repaired.card_post_id and repaired.checklist_post_id
