"""The re-sync after a reconnect or a restart costs REST calls for what changed only (issue 12).

Warroom remembers what it last set each card and checklist page to (``post_renders``); the
re-sync re-renders every ongoing incident locally and sends only the posts that differ. Each
case the re-sync used to catch by sending everything is shown here: a refresh that failed
while Mattermost was away, a name changed while warroom was not listening. (A checklist page
deleted by hand: ``test_checklist_pages.py``.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.models import Incident, TimelineEvent
from bot.services.sync import CATCH_UP_CONCURRENCY
from tests.double import RequestRecord
from tests.double.faults import Refuse
from tests.fake_clock import FakeClock
from tests.scenarios.harness import World, world


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def w(tmp_path: Path, clock: FakeClock) -> AsyncIterator[World]:
    async with world(tmp_path, clock=clock) as built:
        yield built


def post_calls(requests: list[RequestRecord]) -> list[RequestRecord]:
    """Requests that create, read, change or delete a post."""
    return [r for r in requests if r.path.startswith("/api/v4/posts")]


async def reconnect(w: World) -> list[RequestRecord]:
    """Drop warroom's event stream, wait for the re-sync after it reconnects, and return the
    requests made meanwhile."""
    before, runs = len(w.mm.requests), w.app.resync.runs
    await w.mm.drop_websockets()
    await w.mm.wait_until(lambda: w.app.resync.runs > runs and w.app.listener.connected)
    await w.settle()
    return w.mm.requests[before:]


async def restart(w: World) -> list[RequestRecord]:
    """Stop warroom, start it on the same database, and return the requests of its re-sync."""
    await w.stop_app()
    before = len(w.mm.requests)
    await w.start_app()
    await w.mm.wait_until(lambda: w.app.resync.runs >= 1)
    await w.settle()
    return w.mm.requests[before:]


async def severity(w: World, incident: Incident, value: str) -> None:
    """Change the incident as saved without refreshing its posts (as if the refresh was lost)."""

    def change(cur: Incident) -> tuple[Incident, list[TimelineEvent]]:
        return cur.model_copy(update={"severity": value}), []

    await w.app.services.incidents.mutate(incident.id, change)


async def test_a_resync_sends_only_the_posts_whose_render_changed(
    w: World, clock: FakeClock
) -> None:
    """Rule: with N ongoing incidents unchanged, a re-sync (after a reconnect, after a restart,
    days later) makes no request for their posts; with some changed, one per changed post.
    The card's duration alone is not a change; a change shows the duration as of now."""
    incidents = [await w.start_incident(w.alice, f"Resync {n}") for n in range(6)]
    incidents = [await w.reload(i) for i in incidents]
    assert post_calls(await reconnect(w)) == []
    clock.advance(hours=50)  # durations and button expiries move on; nothing else does
    assert post_calls(await reconnect(w)) == []
    assert post_calls(await restart(w)) == []
    changed = incidents[1:3]
    for incident in changed:
        await severity(w, incident, "sev-1")
    calls = post_calls(await reconnect(w))
    assert sorted(r.path for r in calls) == sorted(
        f"/api/v4/posts/{i.card_post_id}/patch" for i in changed
    )
    assert all(r.method == "PUT" and r.status == 200 for r in calls)
    assert w.card_field(changed[0], "Severity") == "sev-1"
    assert w.card_field(changed[0], "Duration").startswith("2d 2h")
    assert w.card_field(incidents[0], "Duration").startswith("< 1m")  # as of its last change


async def test_a_refresh_that_failed_while_mattermost_was_away_is_redone_by_the_resync(
    w: World, clock: FakeClock
) -> None:
    incident = await w.reload(await w.start_incident(w.alice, "Away"))
    other = await w.reload(await w.start_incident(w.alice, "Still"))
    w.mm.faults.inject("PUT", r"^/api/v4/posts/.*/patch$", Refuse(503), times=None)
    await w.command(w.alice, "check 1 1", incident.channel_id)
    for _ in range(20):  # every try of the refresh fails (the retries wait on the clock)
        clock.advance(seconds=10)
        await w.settle(seconds=0.1)
    assert not len(w.app.services.tasks)
    page = w.mm.get_post(incident.checklist_post_id)
    assert page is not None and "☑" not in str(page["props"])  # the refresh failed
    w.mm.faults.clear()
    calls = post_calls(await reconnect(w))
    # The two posts the change shows on (the card counts the tasks done), nothing else.
    assert sorted(r.path for r in calls) == sorted(
        f"/api/v4/posts/{p}/patch" for p in (incident.card_post_id, incident.checklist_post_id)
    )
    page = w.mm.get_post(incident.checklist_post_id)
    assert page is not None and "☑" in str(page["props"])
    assert "(1/" in w.card_field(incident, "Stage")
    assert other.checklist_post_id not in str(calls)


async def test_a_name_changed_while_disconnected_shows_after_the_resync(w: World) -> None:
    hers = await w.reload(await w.start_incident(w.alice, "Hers"))
    his = await w.reload(await w.start_incident(w.bob, "His"))
    before, runs = len(w.mm.requests), w.app.resync.runs
    await w.mm.drop_websockets()
    w.mm.state.users[w.alice.id].username = "alicia"  # renamed while warroom was not listening
    await w.mm.wait_until(lambda: w.app.resync.runs > runs and w.app.listener.connected)
    await w.settle()
    calls = post_calls(w.mm.requests[before:])
    assert w.card_field(hers, "Commander") == "@alicia"
    assert f"/api/v4/posts/{hers.card_post_id}/patch" in [r.path for r in calls]
    assert not [r for r in calls if his.card_post_id in r.path or his.channel_id in r.path]


async def test_the_resync_brings_incidents_up_to_date_a_few_at_a_time(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bounded and concurrent: never one by one, never every incident at once."""
    for n in range(CATCH_UP_CONCURRENCY + 2):
        await w.start_incident(w.alice, f"Many {n}")
    incidents = w.app.services.incidents
    refresh = incidents.refresh_posts
    in_flight, peak = 0, 0

    async def counted(incident_id: str, *, queued: bool = False) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0.01)  # as a request to Mattermost would
            await refresh(incident_id, queued=queued)
        finally:
            in_flight -= 1

    monkeypatch.setattr(incidents, "refresh_posts", counted)
    await w.app.resync.catch_up_posts()
    assert peak == CATCH_UP_CONCURRENCY


async def test_a_card_or_page_edited_by_hand_while_warroom_listens_is_put_back_by_the_resync(
    w: World,
) -> None:
    """An admin edits warroom's card and checklist page (``post_edited`` reaches warroom):
    what they show is no longer what warroom set, so the next re-sync sends them again,
    and warroom's own edits do not make an unchanged incident cost a request."""
    incident = await w.reload(await w.start_incident(w.alice, "Edited"))
    other = await w.reload(await w.start_incident(w.alice, "Untouched"))
    await w.command(w.alice, "check 1 1", other.channel_id)  # warroom edits its own posts
    kept = (incident.card_post_id, incident.checklist_post_id)
    shown = {p: w.mm.get_post(p)["message"] for p in kept}  # type: ignore[index]
    for post_id in kept:
        await w.mm.edit_post(w.admin, post_id, "nothing to see here")
    await w.settle()
    calls = post_calls(await reconnect(w))
    assert sorted(r.path for r in calls) == sorted(f"/api/v4/posts/{p}/patch" for p in kept)
    assert {p: w.mm.get_post(p)["message"] for p in kept} == shown  # type: ignore[index]
