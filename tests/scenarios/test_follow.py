"""Issue 9, kind 4: what people change by hand in Mattermost, warroom follows.

Each test is one case of the issue, driven as people drive Mattermost: they rename or archive
the incident channel from the channel menu, an admin deactivates a user, someone edits or
deletes a post warroom quotes. Changes made while warroom is connected arrive as websocket
events; changes made while it was disconnected are caught by the re-sync after the reconnect.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.domain.models import EventKind, Incident, IncidentStatus
from bot.setup import run_setup
from bot.store.installation import InstallationStore
from bot.store.reminders import ReminderState
from bot.transport.verify import CommandToken
from tests.fake_clock import FakeClock
from tests.scenarios.harness import World, world


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def w(tmp_path: Path, clock: FakeClock) -> AsyncIterator[World]:
    async with world(tmp_path, clock=clock) as built:
        yield built


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    """Poll an async condition (warroom handles events in the background)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def reconnect(w: World) -> None:
    """Drop warroom's event stream and wait for the re-sync after it reconnects."""
    runs = w.app.resync.runs
    await w.mm.drop_websockets()
    await w.mm.wait_until(lambda: w.app.resync.runs > runs and w.app.listener.connected)
    await w.settle()


async def kinds(w: World, incident: Incident) -> list[EventKind]:
    return [e.kind for e in await w.app.services.incidents.store.timeline(incident.id)]


# ---- case 1: the incident channel renamed by hand ----------------------------------------


async def test_a_channel_renamed_by_hand_is_linked_by_its_new_name_everywhere(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    old = incident.channel_name
    await w.mm.rename_channel(w.alice, incident.channel_id, "db-disk-full")

    async def renamed() -> bool:
        return (await w.reload(incident)).channel_name == "db-disk-full"

    await eventually(renamed)
    await w.settle()
    listed = (await w.command(w.alice, "list"))["text"]
    assert "~db-disk-full" in listed and f"~{old}" not in listed
    await w.command(w.alice, "announce ~town-square", incident.channel_id)
    assert "~db-disk-full is private: ask @alice to add you" in w.messages(w.town.id)[-1]
    await w.command(w.alice, "review ~db-disk-full")  # from elsewhere: sent privately
    assert "**Channel:** ~db-disk-full" in w.told(w.alice)


async def test_a_rename_missed_while_disconnected_is_caught_for_ended_incidents_too(
    w: World,
) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await w.app.services.incidents.end(incident.id, w.alice.id)
    await w.mm.drop_websockets()
    channel = w.mm.channel(incident.channel_id)
    assert channel is not None
    channel.name = "disk-full-2024"  # renamed while warroom was not listening
    await reconnect(w)
    assert (await w.reload(incident)).channel_name == "disk-full-2024"
    reply = await w.command(w.alice, "timeline ~disk-full-2024")
    assert "started the incident **Disk full**" in reply["text"]


# ---- case 2: the incident channel archived by hand -----------------------------------------


async def test_archiving_the_channel_ends_the_incident_and_only_a_restore_allows_a_restart(
    w: World,
) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await w.command(w.alice, "update", incident.channel_id)
    await w.submit(w.alice, {"message": "Looking", "reminder": "900"})
    scheduler = w.app.services.status.scheduler
    assert await scheduler.store.count(ReminderState.PENDING) == 1
    await w.mm.archive_channel(w.alice, incident.channel_id)

    async def ended() -> bool:
        return (await w.reload(incident)).status is IncidentStatus.ENDED

    await eventually(ended)
    await w.settle()
    saved = await w.reload(incident)
    assert saved.channel_archived
    last = (await w.app.services.incidents.store.timeline(incident.id))[-1]
    assert last.kind is EventKind.ENDED and last.data == {"reason": "channel_archived"}
    assert await scheduler.store.count(ReminderState.PENDING) == 0  # reminder cancelled
    assert "its channel ~" in w.messages(w.ops.id)[-1]  # the broadcast channel is told
    assert "was archived" in w.messages(w.ops.id)[-1]
    assert f"/incident restart ~{incident.channel_name}" in w.told(w.alice)  # the commander
    # list and stats agree: nothing ongoing
    assert "~" + incident.channel_name not in (await w.command(w.alice, "list"))["text"]
    stats = (await w.command(w.alice, "stats"))["text"]
    assert "| _none_ | 1 | 1 | 0 |" in stats, stats  # started 1, ended 1, ongoing 0
    timeline = (await w.command(w.alice, f"timeline ~{incident.channel_name}"))["text"]
    assert "ended the incident because its channel was archived" in timeline
    # nobody can type there: a member restarts it from elsewhere, refused while archived
    refused = await w.command(w.alice, f"restart ~{incident.channel_name}")
    assert "archived" in refused["text"] and "restore" in refused["text"]
    assert (await w.reload(incident)).status is IncidentStatus.ENDED
    # restoring the channel does not restart the incident ...
    await w.mm.restore_channel(w.admin, incident.channel_id)

    async def restored() -> bool:
        return not (await w.reload(incident)).channel_archived

    await eventually(restored)
    assert (await w.reload(incident)).status is IncidentStatus.ENDED
    # ... but now a member may, from anywhere; a non-member may not
    denied = await w.command(w.carol, f"restart ~{incident.channel_name}")
    assert (await w.reload(incident)).status is IncidentStatus.ENDED, denied
    reply = await w.command(w.alice, f"restart ~{incident.channel_name}")
    assert "ongoing again" in reply["text"]
    assert (await w.reload(incident)).status is IncidentStatus.ONGOING


async def test_an_archive_missed_while_disconnected_ends_the_incident_after_the_reconnect(
    w: World,
) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await w.mm.drop_websockets()
    await w.mm.archive_channel(w.alice, incident.channel_id)  # no event reaches warroom
    await reconnect(w)
    saved = await w.reload(incident)
    assert saved.status is IncidentStatus.ENDED and saved.channel_archived
    assert EventKind.ENDED in await kinds(w, incident)


async def test_end_runs_from_another_channel_for_members_only(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await w.command(w.carol, f"end ~{incident.channel_name}")  # not a member (private)
    assert w.mm.dialogs(w.carol.id) == []
    await w.command(w.alice, f"end ~{incident.channel_name}")  # from town square
    dialog = w.dialog(w.alice)
    assert dialog["dialog"]["callback_id"] == "end"
    assert await w.submit(w.alice, {}, dialog) == {}
    assert (await w.reload(incident)).status is IncidentStatus.ENDED


# ---- case 3: a deactivated user ---------------------------------------------------------


async def test_a_deactivated_user_can_be_made_neither_commander_nor_assignee(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")  # bob is invited by the playbook
    await w.command(w.alice, "info", incident.channel_id)  # bob is now in warroom's cache
    await w.mm.set_active(w.admin, w.bob, active=False)
    reply = await w.command(w.alice, "commander @bob", incident.channel_id)
    assert "deactivated" in reply["text"]
    assert (await w.reload(incident)).commander_id == w.alice.id
    reply = await w.command(w.alice, "task assign 1 1 @bob", incident.channel_id)
    assert "deactivated" in reply["text"]
    assert (await w.reload(incident)).stages[0].tasks[0].assignee_id == ""
    # the Assign menu on the checklist is refused the same way
    await w.click(w.alice, incident.checklist_post_id, "Assign", option=w.bob.id)
    assert "deactivated" in w.ephemeral(w.alice)
    assert (await w.reload(incident)).stages[0].tasks[0].assignee_id == ""
    # a deactivated commander is shown as such on the card (followed: user_updated)
    await w.mm.set_active(w.admin, w.bob, active=True)
    await w.command(w.alice, "commander @bob", incident.channel_id)
    await w.mm.set_active(w.admin, w.bob, active=False)

    async def marked() -> bool:
        await w.settle()
        return w.card_field(incident, "Commander") == "@bob (deactivated)"

    await eventually(marked)
    # reactivated, bob is shown plainly again
    await w.mm.set_active(w.admin, w.bob, active=True)

    async def unmarked() -> bool:
        await w.settle()
        return w.card_field(incident, "Commander") == "@bob"

    await eventually(unmarked)
    assert (await w.reload(incident)).commander_id == w.bob.id


async def test_a_user_renamed_by_hand_is_shown_by_the_new_name(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await w.command(w.alice, "info", incident.channel_id)  # alice is cached by warroom
    await w.mm.rename_user(w.alice, w.alice, "alice2")

    async def shown() -> bool:
        return "@alice2" in (await w.command(w.bob, "info", incident.channel_id))["text"]

    await eventually(shown)
    await w.settle()
    assert w.card_field(incident, "Commander") == "@alice2"


# ---- case 5: posts warroom quotes, edited or deleted later --------------------------------


async def test_a_pinned_post_follows_edits_and_deletion(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    post = await w.mm.user_post(w.alice, incident.channel_id, "Disk at 95%")
    await w.mm.react(w.bob, post["id"], "pushpin")

    async def timeline_says(text: str) -> bool:
        reply = await w.command(w.alice, "timeline", incident.channel_id)
        return text in reply["text"]

    await eventually(lambda: timeline_says("Disk at 95%"))
    await w.mm.edit_post(w.alice, post["id"], "Disk at 99%")
    await eventually(lambda: timeline_says("Disk at 99%"))
    assert not await timeline_says("Disk at 95%")
    await w.mm.delete_post(w.alice, post["id"])
    await eventually(lambda: timeline_says("deleted in Mattermost"))
    assert not await timeline_says("Disk at 99%")


async def test_a_pinned_post_edited_while_disconnected_is_caught_by_the_re_sync(
    w: World,
) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    post = await w.mm.user_post(w.alice, incident.channel_id, "Disk at 95%")
    await w.mm.react(w.bob, post["id"], "pushpin")

    async def pinned() -> bool:
        reply = await w.command(w.alice, "timeline", incident.channel_id)
        return "Disk at 95%" in reply["text"]

    await eventually(pinned)  # recorded before the stream goes down
    await w.mm.drop_websockets()
    await w.mm.edit_post(w.alice, post["id"], "Disk at 99%")
    await reconnect(w)
    text = (await w.command(w.alice, "timeline", incident.channel_id))["text"]
    assert "Disk at 99%" in text and "Disk at 95%" not in text


# ---- case 4: `warroom setup --team other` while warroom runs -------------------------------


async def test_a_team_set_up_while_warroom_runs_can_use_incident_at_once(w: World) -> None:
    beta = w.mm.add_team("beta")
    w.mm.add_team_member(beta.id, w.alice.id)
    lounge = w.mm.add_channel(beta.id, "lounge", private=False, members=[w.alice.id])
    await run_setup(
        mattermost_url=w.mm.url,
        admin_token=w.admin.token,
        teams=["acme", "beta"],
        public_url=w.app.url,
        db_path=w.settings.db_path,
        grant_ephemeral=None,
        out=lambda line: None,
    )
    reply = await w.mm.run_command(w.alice, lounge.id, "list", trigger="incident")
    assert "does not recognise" not in reply["text"], reply
    assert reply["text"] == "You have no ongoing incidents in this team."
    # a wrong token is still refused, and a flood of them re-reads the database only once
    # per interval
    reloads = w.app.tokens.reloads
    for _ in range(20):
        assert not await w.app.tokens.check("x" * 26, w.team.id)
    assert w.app.tokens.reloads <= reloads + 1


async def test_sighup_re_reads_the_stored_command_tokens(w: World) -> None:
    store = InstallationStore(w.app.db)
    installation = await store.load()
    installation.command_tokens["t" * 26] = "n" * 26
    await store.save(installation)
    assert "n" * 26 not in [t.token for t in w.app.tokens.known()]
    w.app.on_sighup()
    await w.settle()
    assert CommandToken("n" * 26, "t" * 26) in w.app.tokens.known()


async def test_the_origin_post_of_a_start_is_read_fresh_when_shown(w: World) -> None:
    post = await w.mm.user_post(w.carol, w.town.id, "checkout returns 500")
    await w.command(w.alice, f"start {post['id']}")
    result = await w.submit(
        w.alice,
        {"playbook": w.playbook_id("Outage"), "name": "Checkout", "description": "From town"},
    )
    assert result == {}, result
    incident = await w.incident_named("Checkout")
    assert incident.origin_post_id == post["id"]
    info = (await w.command(w.alice, "info", incident.channel_id))["text"]
    assert "> checkout returns 500" in info
    await w.mm.edit_post(w.carol, post["id"], "checkout returns 502")
    info = (await w.command(w.alice, "info", incident.channel_id))["text"]
    assert "> checkout returns 502" in info and "500" not in info
    await w.mm.delete_post(w.carol, post["id"])
    info = (await w.command(w.alice, "info", incident.channel_id))["text"]
    assert "since deleted in Mattermost" in info and "502" not in info


async def test_a_public_incident_channel_made_private_by_hand_is_hidden_from_non_members(
    w: World,
) -> None:
    incident = await w.start_incident(w.alice, "Drill", playbook="Public drill")
    assert "~" + incident.channel_name in (await w.command(w.carol, "list"))["text"]
    await w.mm.convert_channel(w.admin, incident.channel_id, private=True)

    async def private() -> bool:
        return (await w.reload(incident)).private_channel

    await eventually(private)
    assert "~" + incident.channel_name not in (await w.command(w.carol, "list"))["text"]
    reply = await w.command(w.carol, f"timeline ~{incident.channel_name}")
    assert "Drill" not in reply["text"]
    assert "~" + incident.channel_name in (await w.command(w.alice, "list"))["text"]


async def test_the_origin_quote_is_shown_only_to_who_may_read_the_origin_channel(
    w: World,
) -> None:
    secret = w.mm.add_channel(w.team.id, "secret", private=True, members=[w.alice.id, w.bot.id])
    post = await w.mm.user_post(w.alice, secret.id, "token leaked in the build log")
    await w.command(w.alice, f"start {post['id']}")
    result = await w.submit(
        w.alice,
        {"playbook": w.playbook_id("Public drill"), "name": "Leak", "description": "see origin"},
    )
    assert result == {}, result
    incident = await w.incident_named("Leak")
    assert "token leaked" in (await w.command(w.alice, "info", incident.channel_id))["text"]
    await w.mm.add_to_channel(w.carol, incident.channel_id, w.carol.id)  # joins: public
    shown = (await w.command(w.carol, "info", incident.channel_id))["text"]
    assert "**Origin:**" in shown and "token leaked" not in shown


async def test_an_incident_renamed_in_mattermost_is_shown_by_its_new_display_name(
    w: World,
) -> None:
    """The incident's name is its channel's display name: renaming the channel by hand (the
    web app's "Rename Channel" changes the display name, often not the URL name) renames the
    incident in `info`, the summary card and new announcements, also when the change
    was missed while disconnected."""
    incident = await w.start_incident(w.alice, "Disk full")
    await w.mm.rename_channel(
        w.alice, incident.channel_id, incident.channel_name, display_name="Payments down"
    )

    async def renamed() -> bool:
        return (await w.reload(incident)).name == "Payments down"

    await eventually(renamed)
    await w.settle()
    assert "Payments down" in (await w.command(w.alice, "info", incident.channel_id))["text"]
    assert "Payments down" in w.card(incident)["title"]
    await w.command(w.alice, "announce ~town-square", incident.channel_id)
    assert "Payments down" in w.messages(w.town.id)[-1]
    # missed while disconnected: the re-sync catches it
    await w.mm.drop_websockets()
    channel = w.mm.channel(incident.channel_id)
    assert channel is not None
    channel.display_name = "Payments back"
    await reconnect(w)
    assert (await w.reload(incident)).name == "Payments back"
