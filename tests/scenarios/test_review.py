"""Timeline capture by reaction, members ever involved, timeline, review, export, severity,
stats — end to end through the Mattermost double."""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

from bot.domain import checklist
from bot.domain.models import EventKind, Incident, TimelineEvent
from tests.scenarios.harness import PLAYBOOKS, World, as_read, world

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def caught_up(w: World) -> None:
    """Every event the double has sent the bot so far has been handled."""
    target = w.mm.last_seq(w.bot.id)
    listener = w.app.listener
    queue = w.app.events._queue
    await w.mm.wait_until(lambda: (listener.last_seq or 0) >= target and queue.empty())
    await w.settle()


async def timeline(w: World, incident: Incident) -> list[TimelineEvent]:
    return await w.app.services.incidents._store.timeline(incident.id)


def kinds(events: list[TimelineEvent], *wanted: EventKind) -> list[TimelineEvent]:
    return [e for e in events if e.kind in wanted]


def reactions(w: World, post_id: str) -> list[tuple[str, str]]:
    return [(r.user_id, r.emoji_name) for r in w.mm.state.reactions.get(post_id, [])]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    length, chunk = struct.unpack(">I4s", data[8:16])
    assert chunk == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def complete_task(w: World, incident: Incident, stage: int, task: int, at: int) -> None:
    """What `/incident check` records, stamped ``at`` ms after the start (no clock to move)."""

    def done(cur: Incident) -> tuple[Incident, list[TimelineEvent]]:
        return checklist.set_done(
            cur,
            task_id=cur.stages[stage].tasks[task].id,
            done=True,
            actor_id=w.bob.id,
            now=cur.created_at + at,
        )

    await w.app.services.incidents.mutate(incident.id, done)


# ---- pushpin capture ------------------------------------------------------------------------


async def test_pushpin_capture_is_recorded_once_and_removed_with_the_last_reaction(
    w: World,
) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    ch = incident.channel_id
    post = await w.mm.user_post(w.alice, ch, "db01 is at 100% since 02:10")
    await w.mm.react(w.alice, post["id"], "pushpin")
    await w.mm.react(w.bob, post["id"], "pushpin")
    w.mm.redeliver(w.mm.events[-1])  # the same frame delivered twice
    await caught_up(w)
    pinned = kinds(await timeline(w, incident), EventKind.POST_PINNED)
    assert len(pinned) == 1
    event = pinned[0]
    assert event.at == post["create_at"] and event.actor_id == w.alice.id
    assert event.data["message"] == "db01 is at 100% since 02:10"
    assert event.data["link"] == f"{w.mm.url}/acme/pl/{post['id']}"
    assert (w.bot.id, "white_check_mark") in reactions(w, post["id"])
    shown = (await w.command(w.bob, "timeline", ch))["text"]
    assert "@alice pinned a post to the timeline" in shown and "> db01 is at 100%" in shown
    assert f"/acme/pl/{post['id']}" in shown

    await w.mm.unreact(w.alice, post["id"], "pushpin")
    await caught_up(w)
    assert len(kinds(await timeline(w, incident), EventKind.POST_PINNED)) == 1  # bob's remains
    await w.mm.unreact(w.bob, post["id"], "pushpin")
    await caught_up(w)
    assert kinds(await timeline(w, incident), EventKind.POST_PINNED) == []
    assert (w.bot.id, "white_check_mark") not in reactions(w, post["id"])


async def test_other_emoji_and_other_channels_are_ignored(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    here = await w.mm.user_post(w.alice, incident.channel_id, "thumbs")
    await w.mm.react(w.alice, here["id"], "thumbsup")
    elsewhere = await w.mm.user_post(w.alice, w.town.id, "not an incident")
    await w.mm.react(w.alice, elsewhere["id"], "pushpin")
    await caught_up(w)
    assert kinds(await timeline(w, incident), EventKind.POST_PINNED) == []
    assert reactions(w, elsewhere["id"]) == [(w.alice.id, "pushpin")]


# ---- members ever involved ------------------------------------------------------------------


async def test_members_joining_and_leaving_are_tracked_and_resynced(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    ch = incident.channel_id
    store = w.app.services.review._store
    assert await store.present(incident.id) == {w.alice.id, w.bob.id}  # the bot is not counted
    assert kinds(await timeline(w, incident), EventKind.MEMBER_JOINED) == []  # part of the start
    await w.mm.add_to_channel(w.alice, ch, w.carol.id)
    w.mm.redeliver(next(e for e in reversed(w.mm.events) if e["event"] == "user_added"))
    await caught_up(w)
    await w.mm.remove_from_channel(w.alice, ch, w.carol.id)
    await caught_up(w)
    events = await timeline(w, incident)
    assert [(e.kind, e.actor_id) for e in kinds(events, *MEMBERSHIP)] == [
        (EventKind.MEMBER_JOINED, w.carol.id),
        (EventKind.MEMBER_LEFT, w.carol.id),
    ]
    w.mm.seed_member(ch, w.admin.id)  # a join whose event was lost
    await w.app.resync.run()
    assert await store.present(incident.id) == {w.alice.id, w.bob.id, w.admin.id}
    assert await store.ever_involved(incident.id) == 4
    shown = (await w.command(w.alice, "timeline", ch))["text"]
    assert "@carol joined the channel" in shown and "@carol left the channel" in shown
    assert "@admin joined the channel" in shown


MEMBERSHIP = (EventKind.MEMBER_JOINED, EventKind.MEMBER_LEFT)


# ---- timeline, review -----------------------------------------------------------------------


async def test_timeline_lists_every_event_kind_in_order_and_checks_access(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full", playbook="Security")
    ch = incident.channel_id
    await w.command(w.alice, "severity SEV2", ch)
    future_kind = TimelineEvent(kind=EventKind.STATUS_UPDATED, at=incident.created_at + 1,
                                actor_id=w.alice.id, data={"message": "All quiet now"})  # fmt: skip
    await w.app.services.incidents.mutate(incident.id, lambda cur: (cur, [future_kind]))
    text = (await w.command(w.alice, "timeline", ch))["text"]
    lines = [line for line in text.splitlines() if line.startswith("- ")]
    assert "@alice started the incident" in lines[0]
    assert "posted a status update" in lines[1] and "> All quiet now" in text
    assert "changed the severity from none to SEV2" in lines[2]
    elsewhere = await w.command(w.alice, f"timeline ~{incident.channel_name}")
    assert "started the incident" in elsewhere["text"]
    refused = await w.command(w.bob, f"timeline ~{incident.channel_name}")
    assert "no incident with channel" in refused["text"]
    assert "no incident with channel" in (await w.command(w.bob, "timeline ~nosuch"))["text"]
    assert "Too many arguments" in (await w.command(w.bob, "timeline ~a ~b"))["text"]
    assert "not an incident channel" in (await w.command(w.bob, "timeline"))["text"]


async def test_review_posts_summary_and_a_valid_chart(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    ch = incident.channel_id
    await w.mm.user_post(w.bob, ch, "looking")
    await complete_task(w, incident, 0, 1, 5 * 60_000)
    await complete_task(w, incident, 0, 0, 90 * 60_000)
    reply = await w.command(w.bob, "review", ch)
    assert reply["text"] == ""
    post = w.mm.posts(ch)[-1]
    text = post["message"]
    for expected in (
        "Review: Disk full",
        "**Ended:** ongoing",
        "**Members ever involved:** 2",
        "**Messages in the channel:**",
        "**Tasks completed:** 2 of 4",
        "Find the owner: 5m after the start",
        "Acknowledge the alert: 1h 30m after the start",
        "@bob checked off **Acknowledge the alert** (Triage)",
    ):
        assert expected in text, expected
    assert len(post["file_ids"]) == 1
    data = w.mm.file_bytes(post["file_ids"][0])
    width, height = png_size(data)
    assert width == 900 and 100 <= height <= 400
    assert 1_000 < len(data) < 200_000


async def test_review_from_elsewhere_goes_to_the_caller_privately(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await w.command(w.alice, "end", incident.channel_id)
    await w.submit(w.alice, {}, w.dialog(w.alice))
    reply = await w.command(w.alice, f"review ~{incident.channel_name}")
    assert "direct message" in reply["text"]
    review = [t for t in w.dms(w.alice) if "Review: Disk full" in t]
    assert review and "**Status:** Ended" in review[0] and "**Ended:** ongoing" not in review[0]
    refused = await w.command(w.carol, f"review ~{incident.channel_name}")
    assert "no incident with channel" in refused["text"]


# ---- export ---------------------------------------------------------------------------------


async def test_export_of_a_channel_with_thousands_of_messages(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    ch = incident.channel_id
    await complete_task(w, incident, 0, 0, 10 * 60_000)
    # Status updates as recorded with their text, or (status module) with their post only.
    chat = w.app.services.chat
    live = await chat.create_post(ch, "Status update by @bob: Impact: checkout down")
    gone = await chat.create_post(ch, "Status update by @bob: wrong")
    await chat.delete_post(gone.id)
    updates = [
        TimelineEvent(
            kind=EventKind.STATUS_UPDATED, at=incident.created_at + n, actor_id=w.bob.id, data=data
        )
        for n, data in enumerate(
            [
                {"message": "Impact: unknown"},
                {"post_id": live.id, "reminder_seconds": 0},
                {"post_id": gone.id, "reminder_seconds": 0},
            ],
            start=2,
        )
    ]
    await w.app.services.incidents.mutate(incident.id, lambda cur: (cur, updates))
    count = 3_500
    w.mm.seed_posts(ch, w.bob, [f"message-{n:05d}" for n in range(count)])
    total = len(w.mm.posts(ch))
    msg_count = sum(1 for p in w.mm.posts(ch) if not p["type"].startswith("system_"))
    w.mm.requests.clear()
    reply = await w.command(w.alice, "export", ch)
    assert f"~{incident.channel_name}" in reply["text"]
    post = w.mm.posts(ch)[-1]
    assert "@alice exported the post-mortem" in post["message"]
    doc_id, chart_id = post["file_ids"]
    doc = w.mm.file_bytes(doc_id).decode()
    png_size(w.mm.file_bytes(chart_id))
    for heading in ("# Post-mortem: Disk full", "## Summary", "## Status updates",
                    "## Checklist", "## Timeline", "## Channel messages"):  # fmt: skip
        assert heading in doc, heading
    section = doc[doc.index("## Status updates") : doc.index("## Checklist")]
    assert "Impact: unknown" in section and "Impact: checkout down" in section
    assert "this status update was deleted" in section and "wrong" not in section
    shown = (await w.command(w.bob, "timeline", ch))["text"]
    assert "> Status update by @bob: Impact: checkout down" in as_read(shown)
    assert "Commanders: @alice" in doc
    assert f"Messages in the channel: {msg_count}\n" in doc and msg_count < total
    assert re.search(r"☑ Acknowledge the alert \(done\), done by @bob at .* \(\+10m\)", doc)
    numbers = [int(n) for n in re.findall(r"@bob: message-(\d{5})", doc)]
    assert numbers == list(range(count))  # all of them, oldest first, none twice
    assert doc.index("started the incident **Disk full**") < doc.index("message-00000")
    pages = [r for r in w.mm.requests if r.path == f"/api/v4/channels/{ch}/posts"]
    assert len(pages) == total // 200 + 1  # page by page, 200 at a time


# ---- severity -------------------------------------------------------------------------------


async def test_severity_change_is_shown_everywhere_and_errors_are_precise(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    ch = incident.channel_id
    assert "not set" in (await w.command(w.bob, "severity", ch))["text"]
    assert (await w.command(w.bob, "severity sev1", ch))["text"] == ""
    saved = await w.reload(incident)
    assert saved.severity == "SEV1"
    assert w.card_field(saved, "Severity") == "SEV1"
    assert any("@bob changed the severity from none to SEV1" in t for t in w.messages(ch))
    assert "**Severity:** SEV1" in (await w.command(w.bob, "info", ch))["text"]
    assert "| SEV1 |" in (await w.command(w.bob, "list"))["text"]
    assert "already SEV1" in (await w.command(w.bob, "severity SEV1", ch))["text"]
    unknown = (await w.command(w.bob, "severity SEV9", ch))["text"]
    assert "no severity `SEV9`" in unknown and "SEV1, SEV2, SEV3, SEV4" in unknown
    assert "Usage: `/incident severity <level>`" in unknown
    assert "not an incident channel" in (await w.command(w.bob, "severity SEV2"))["text"]
    changes = kinds(await timeline(w, incident), EventKind.SEVERITY_CHANGED)
    assert [(e.data["from"], e.data["to"]) for e in changes] == [("", "SEV1")]


async def test_severity_is_optional_in_the_start_dialog(w: World) -> None:
    await w.command(w.alice, "start")
    dialog = w.dialog(w.alice)
    field = next(e for e in dialog["dialog"]["elements"] if e["name"] == "severity")
    assert field["optional"]
    assert [o["value"] for o in field["options"]] == ["SEV1", "SEV2", "SEV3", "SEV4"]
    base: dict[str, Any] = {"playbook": w.playbook_id("Outage"), "name": "Hot disk"}
    bad = await w.submit(w.alice, {**base, "severity": "SEV9"}, dialog)
    assert "severity" in bad.get("errors", {})
    await w.command(w.alice, "start")
    assert await w.submit(w.alice, {**base, "severity": "SEV3"}) == {}
    incident = await w.incident_named("Hot disk")
    assert incident.severity == "SEV3"


# ---- stats ----------------------------------------------------------------------------------


async def test_stats_counts_what_the_caller_may_view(w: World) -> None:
    first = await w.start_incident(w.alice, "Disk full")
    await w.command(w.alice, "severity SEV2", first.channel_id)
    await w.start_incident(w.alice, "Secret thing", playbook="Security")
    await w.command(w.alice, "end", first.channel_id)
    await w.submit(w.alice, {}, w.dialog(w.alice))
    alice = (await w.command(w.alice, "stats"))["text"]
    assert "last 30 days" in alice
    assert "| **All** | 2 | 1 | 1 |" in alice
    assert "| Outage | 1 | 1 | 0 |" in alice and "| Security | 1 | 0 | 1 |" in alice
    assert "| SEV2 | 1 | 1 | 0 |" in alice and "| _none_ | 1 | 0 | 1 |" in alice
    bob = (await w.command(w.bob, "stats 7"))["text"]
    assert "last 7 days" in bob and "| **All** | 1 | 1 | 0 |" in bob and "Security" not in bob
    for word in ("0", "abc", "-3", "99999"):
        refused = (await w.command(w.alice, f"stats {word}"))["text"]
        assert "not a number of days" in refused and "Usage: `/incident stats [days]`" in refused
    assert "Too many arguments" in (await w.command(w.alice, "stats 1 2"))["text"]


async def test_severity_levels_from_playbooks_yaml(tmp_path: Path) -> None:
    playbooks = "severity_levels: [P1, P2]\n" + PLAYBOOKS
    async with world(tmp_path, playbooks=playbooks) as w:
        incident = await w.start_incident(w.alice, "Disk full")
        ch = incident.channel_id
        assert "one of P1, P2" in (await w.command(w.alice, "severity SEV1", ch))["text"]
        await w.command(w.alice, "severity p2", ch)
        assert (await w.reload(incident)).severity == "P2"


async def test_reactions_missed_while_disconnected_are_caught_up_after_reconnect(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    post = await w.mm.user_post(w.alice, incident.channel_id, "the graph")
    w.mm.seed_reaction(w.bob, post["id"], "pushpin")  # its event never arrived
    await w.app.resync.run()
    pinned = kinds(await timeline(w, incident), EventKind.POST_PINNED)
    assert [(e.actor_id, e.at) for e in pinned] == [(w.bob.id, post["create_at"])]
    assert (w.bot.id, "white_check_mark") in reactions(w, post["id"])
    await caught_up(w)  # the bot's own check mark is ignored
    w.mm.seed_reaction(w.bob, post["id"], "pushpin", on=False)
    await w.app.resync.run()
    assert kinds(await timeline(w, incident), EventKind.POST_PINNED) == []
    assert reactions(w, post["id"]) == []


async def test_the_bots_own_reactions_never_count(tmp_path: Path) -> None:
    async with world(tmp_path, timeline_emoji="white_check_mark") as w:  # same as the ack
        incident = await w.start_incident(w.alice, "Disk full")
        post = await w.mm.user_post(w.alice, incident.channel_id, "done")
        await w.mm.react(w.alice, post["id"], "white_check_mark")
        await caught_up(w)
        assert len(kinds(await timeline(w, incident), EventKind.POST_PINNED)) == 1
        assert (w.bot.id, "white_check_mark") in reactions(w, post["id"])
        await w.mm.unreact(w.alice, post["id"], "white_check_mark")
        await caught_up(w)  # the bot's own mark left on the post does not keep the pin
        assert kinds(await timeline(w, incident), EventKind.POST_PINNED) == []
        assert reactions(w, post["id"]) == []
