"""Lost answers from Mattermost: a start, a status update, a card are each made exactly once.

Each case is a fault of the double (:mod:`tests.double.faults`): the server did the work,
then its answer was lost (dropped connection) or replaced by a 500. warroom cannot know
whether it happened; it says so, and finds its own post (or channel) before trying again.
"""

from __future__ import annotations

import pytest

import bot.services.effects as effects_module
import bot.services.starts as starts_module
from tests.double.faults import ActThenDrop, ActThenFail, FaultKind, Refuse
from tests.scenarios.harness import World
from tests.scenarios.test_status import open_update

CHANNELS = r"^/api/v4/channels$"
POSTS = r"^/api/v4/posts$"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry at once (the tests wait for the outcome, never for a time)."""
    monkeypatch.setattr(starts_module, "REPAIR_DELAYS_S", (0.0, 0.0, 0.0))
    monkeypatch.setattr(effects_module, "RETRY_DELAYS_S", (0.0, 0.0, 0.0))


async def test_a_lost_answer_to_the_channel_creation_leaves_one_channel_and_finishes_the_start(
    w: World,
) -> None:
    w.mm.faults.inject("POST", CHANNELS, ActThenDrop())
    await w.command(w.alice, "start")
    result = await w.submit(w.alice, {"playbook": w.playbook_id("Outage"), "name": "Disk full"})
    error = result.get("error", "")
    assert "No need to start it again" in error and "nothing was changed" not in error
    await w.mm.wait_until(lambda: "is open in" in w.told(w.alice))
    await w.settle()
    channels = [c for c in w.mm.state.channels.values() if c.display_name == "Disk full"]
    assert len(channels) == 1
    incident = await w.incident_named("Disk full")
    assert incident.channel_id == channels[0].id
    assert {w.alice.id, w.bob.id} <= w.mm.channel_members(incident.channel_id)
    assert incident.card_post_id and incident.checklist_post_id


async def test_a_lost_answer_to_a_status_update_posts_it_once_and_puts_it_on_the_timeline(
    w: World,
) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    dialog = await open_update(w, w.alice, incident)
    w.mm.faults.inject("POST", POSTS, ActThenFail(500))
    result = await w.submit(w.alice, {"message": "Checkout down", "reminder": "900"}, dialog)
    error = result.get("error", "")
    assert "No need to send it again" in error and "nothing was changed" not in error
    status = w.app.services.status
    await w.mm.wait_until(lambda: len(w.app.services.tasks) == 0)
    await w.settle()
    [update] = await status.store.all(incident.id)
    posts = [p for p in w.mm.posts(incident.channel_id) if "Checkout down" in p["message"]]
    assert [p["id"] for p in posts] == [update.post_id]
    timeline = await w.app.services.incidents.store.timeline(incident.id)
    assert [e.kind.value for e in timeline].count("status_updated") == 1
    # Sending the same dialog again is refused: its nonce was spent with the update.
    again = await w.submit(w.alice, {"message": "Checkout down", "reminder": "900"}, dialog)
    assert "already submitted" in again.get("error", "")
    assert len([p for p in w.mm.posts(incident.channel_id) if "Checkout" in p["message"]]) == 1


async def test_a_lost_answer_to_the_card_post_never_posts_the_card_twice(w: World) -> None:
    # The start's posts: the "started" line, then the card, whose answer is lost.
    w.mm.faults.inject("POST", POSTS, ActThenDrop(), nth=2)
    await w.command(w.alice, "start")
    assert await w.submit(w.alice, {"playbook": w.playbook_id("Outage"), "name": "Disk full"}) == {}
    await w.mm.wait_until(lambda: "is open in" in w.told(w.alice))
    await w.settle()
    incident = await w.incident_named("Disk full")
    cards = [p for p in w.mm.posts(incident.channel_id) if p["is_pinned"]]
    assert [p["id"] for p in cards] == [incident.card_post_id]
    await w.app.resync.run()
    assert len([p for p in w.mm.posts(incident.channel_id) if p["is_pinned"]]) == 1


@pytest.mark.parametrize("fault", [Refuse(503), ActThenDrop()], ids=["refused", "answer_lost"])
async def test_a_task_change_line_mattermost_failed_is_posted_once(
    w: World, fault: FaultKind
) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    w.mm.faults.inject("POST", POSTS, fault)
    await w.command(w.alice, "check 1 1", incident.channel_id)
    await w.mm.wait_until(lambda: len(w.app.services.tasks) == 0)
    await w.app.resync.run()
    lines = [p for p in w.mm.posts(incident.channel_id) if "Acknowledge the alert" in p["message"]]
    assert len(lines) == 1


@pytest.mark.parametrize("fault", [ActThenDrop(), ActThenFail()], ids=["lost", "failed after"])
async def test_announce_with_a_lost_answer_reports_every_channel_and_invites_no_second_post(
    w: World, fault: FaultKind
) -> None:
    """A lost answer to one channel's announcement must neither swallow the report of the
    others nor read as a failure to try again (which would announce twice): each channel is
    reported, the unknown one as "may have been announced, look before you announce again"."""
    incident = await w.start_incident(w.alice, "Disk full")
    w.mm.add_channel(w.team.id, "support", private=False, members=[w.alice.id, w.bot.id])
    w.mm.faults.inject("POST", POSTS, fault)
    reply = (await w.command(w.alice, "announce ~town-square ~support", incident.channel_id))[
        "text"
    ]
    support = w.mm.channel_by_name(w.team.id, "support")
    assert support is not None
    for channel_id in (w.town.id, support.id):  # the server made every post once
        assert sum("Disk full" in m for m in w.messages(channel_id)) == 1
    assert "try again" not in reply
    assert reply.count("~town-square") == 1 and reply.count("~support") == 1
    assert "Announced in" in reply
    assert "may have been announced: Mattermost's answer was lost" in reply
