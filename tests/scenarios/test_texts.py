"""Texts survive the real server: shown as written, links work, no mentions outside their place.

Issue 9, kinds 2 and 3. Every text is read the way a person receives it: after the double's
Slack-style parsing (tests/double/texts.py) and, for mentions, with the double's copy of the
server's mention finder (``mm.notified``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain.models import Incident
from bot.render import messages
from bot.render.checklist import HELP as CHECKLIST_HELP
from bot.render.playbooks import HELP_ENTRIES
from tests.fake_clock import FakeClock
from tests.scenarios.harness import World, as_read, world

URL = "https://wiki.example/ops/db_fail_over_v2"
UPDATE = "**Impact:** ~12% of checkouts fail\n**Next:** fail over with `playbooks.yaml` rules"


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path, clock=FakeClock()) as built:
        yield built


async def post_update(w: World, user: Any, incident: Incident, message: str) -> None:
    reply = await w.command(user, "update", incident.channel_id)
    assert reply["text"] == "", reply
    result = await w.submit(user, {"message": message, "reminder": "0"}, w.dialog(user))
    assert result == {}, result


def quiet(w: World, post: dict[str, Any], *, named: frozenset[str] = frozenset()) -> None:
    """The post notified nobody (no user, no @channel, @all or @here), except the users in
    ``named`` whom warroom itself names (a commander, an assignee)."""
    found = w.mm.notified(post["id"])
    assert (found.channel, found.all, found.here) == (False, False, False), post["message"]
    assert found.user_ids <= named, post["message"]


# ---- Kind 3: what a person reads is what warroom meant --------------------------------------


async def test_help_usage_lines_reach_the_user_intact(w: World) -> None:
    await w.command(w.alice, "help")
    shown = w.ephemeral(w.alice)
    for key in ("start", "commander", "announce", "severity", "timeline", "export", "stats"):
        assert f"`{messages.USAGE[key]}`" in shown, key
    assert CHECKLIST_HELP["task"] in shown and CHECKLIST_HELP["stage"] in shown
    assert "](" not in shown  # nothing was rewritten into a link
    await w.command(w.alice, "playbook help")
    shown = w.ephemeral(w.alice)
    for usage, _ in HELP_ENTRIES:
        assert f"`{usage}`" in shown, usage


async def test_error_usage_lines_reach_the_user_intact(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await w.command(w.alice, "check", incident.channel_id)
    assert f"Usage: `{messages.USAGE['check']}`" in w.ephemeral(w.alice)
    await w.command(w.alice, "task frob", incident.channel_id)
    assert f"Usage: `{messages.USAGE['task']}`" in w.ephemeral(w.alice)
    await w.command(w.alice, "frob.nicate_x")
    assert "I don't know `frob.nicate_x`." in w.ephemeral(w.alice)


async def test_a_task_title_with_a_url_is_a_working_link(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    ch = incident.channel_id
    await w.command(w.bob, f"task add 1 See {URL}", ch)
    await w.command(w.bob, "task add 1 Read [the runbook](https://wiki.example/run_book)", ch)
    rows = [a.get("text", "") for a in w.mm.get_post(incident.checklist_post_id)["props"]["attachments"]]  # type: ignore[index]  # fmt: skip
    assert any(f"See {URL}" in r for r in rows), rows
    assert any("[the runbook](https://wiki.example/run_book)" in r for r in rows), rows
    said = "\n".join(w.messages(ch))
    assert f"**See {URL}**" in said and "\\" not in said


async def test_info_shows_the_last_status_update_as_markdown(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await post_update(w, w.alice, incident, UPDATE)
    shown = (await w.command(w.alice, "info", incident.channel_id))["text"]
    assert UPDATE in as_read(shown)
    assert "\\" not in shown
    card = w.card_field(await w.reload(incident), "Last status update")
    assert UPDATE in card and "\\" not in card


async def test_code_spans_and_names_show_no_backslashes(w: World) -> None:
    await w.command(w.admin, "playbook reload")
    assert "\\" not in w.ephemeral(w.admin)
    incident = await w.start_incident(w.alice, "db_fail_over (v2) 50%")
    said = "\n".join(w.messages(incident.channel_id))
    assert "**db_fail_over (v2) 50%**" in said and "\\" not in said
    shown = (await w.command(w.alice, "info", incident.channel_id))["text"]
    assert "### db_fail_over (v2) 50%" in shown and "\\" not in shown


async def test_the_exported_document_has_no_escapes(w: World) -> None:
    incident = await w.start_incident(w.alice, "db_fail_over (v2)", description="Ops *team*")
    ch = incident.channel_id
    await w.command(w.bob, f"task add 1 See {URL}", ch)
    await post_update(w, w.alice, incident, UPDATE)
    await w.command(w.alice, "export", ch)
    post = w.mm.posts(ch)[-1]
    assert "@alice exported the post-mortem of **db_fail_over (v2)**" in post["message"]
    doc = w.mm.file_bytes(post["file_ids"][0]).decode()
    assert "# Post-mortem: db_fail_over (v2)" in doc
    assert UPDATE in doc and f"See {URL}" in doc and "> Ops *team*" in doc
    assert "\\" not in doc


# ---- Kind 2: copied text notifies nobody ------------------------------------------------------


async def test_an_incident_named_channel_notifies_nobody_in_the_broadcast_channel(
    w: World,
) -> None:
    incident = await w.start_incident(w.alice, "@channel db down")
    announcement = w.mm.posts(w.ops.id)[-1]
    assert "Incident: @channel db down" in as_read(announcement["message"])
    quiet(w, announcement)
    await post_update(w, w.bob, incident, "@here @all the database is back, @carol check")
    copy = w.mm.posts(w.ops.id)[-1]
    assert "@channel db down" in as_read(copy["message"])
    assert "@here @all the database is back, @carol check" in as_read(copy["message"])
    quiet(w, copy)
    # in the incident channel the writer's own words keep their mentions
    update = next(p for p in reversed(w.mm.posts(incident.channel_id)) if "back" in p["message"])
    assert w.mm.notified(update["id"]).here


async def test_announce_spreads_no_mention(w: World) -> None:
    incident = await w.start_incident(w.alice, "@all hands: @bob db down")
    await w.command(w.alice, "announce ~town-square", incident.channel_id)
    post = w.mm.posts(w.town.id)[-1]
    assert "@all hands: @bob db down" in as_read(post["message"])
    quiet(w, post, named=frozenset({w.alice.id}))  # "Commander @alice"


async def test_names_descriptions_and_titles_in_the_incident_channel_notify_nobody(
    w: World,
) -> None:
    incident = await w.start_incident(
        w.alice, "@here outage", description="@channel please look, ask @bob"
    )
    ch = incident.channel_id
    await w.command(w.alice, "task add 1 Tell @all about it", ch)
    for post in w.mm.posts(ch):
        if post["user_id"] == w.bot.id:
            quiet(w, post, named=frozenset({w.alice.id}))  # warroom names the commander


async def test_an_incident_name_is_the_name_the_server_shows(w: World) -> None:
    """Kind 3: the server drops BIDI controls, line separators and the like from a channel's
    display name (model.SanitizeUnicode); warroom's incident name is the same text, so what it
    copies (announcement, card, list) reads like the channel in the sidebar and no hidden
    right-to-left override reaches another channel. A name left empty by that is refused."""
    await w.command(w.alice, "start")
    started = await w.submit(
        w.alice,
        {"playbook": w.playbook_id("Outage"), "name": "Disk\u202e full\u2028", "description": ""},
    )
    assert started == {}, started
    incident = await w.incident_named("Disk full")
    channel = w.mm.channel(incident.channel_id)
    assert channel is not None
    assert incident.name == channel.display_name == "Disk full"
    assert not any("\u202e" in m for m in w.messages(w.ops.id))
    await w.command(w.alice, "start")
    refused = await w.submit(
        w.alice, {"playbook": w.playbook_id("Outage"), "name": "\u202e\u202d", "description": ""}
    )
    assert "name" in refused.get("errors", {}), refused


async def test_a_www_link_with_an_at_sign_stays_a_working_link(w: World) -> None:
    """Mattermost autolinks ``www.`` URLs too and never reads them for mentions: the "@" in
    ``www.medium.com/@ops/…`` must reach the checklist and the change line untouched."""
    incident = await w.start_incident(w.alice, "Disk full")
    link = "www.medium.com/@ops/db-post-mortem"
    await w.command(w.bob, f"task add 1 Read {link}", incident.channel_id)
    post = w.mm.get_post(incident.checklist_post_id)
    assert post is not None
    rows = [a.get("text", "") for a in post["props"]["attachments"]]
    assert any(f"Read {link}" in r for r in rows), rows
    assert any(f"Read {link}" in m for m in w.messages(incident.channel_id))


async def test_an_announcement_tells_readers_how_they_can_get_into_the_incident_channel(
    w: World,
) -> None:
    """Rule: an announcement offers only what its readers can do. Nobody can join a private
    channel (Mattermost lists and opens only public ones for non-members), so a private
    incident channel is announced with whom to ask; a public one with "join"."""
    private = await w.start_incident(w.alice, "DB down")  # Outage: private, broadcast ~ops-alerts
    broadcast = as_read(w.messages(w.ops.id)[-1])
    assert "join" not in broadcast
    assert f"~{private.channel_name} is private: ask @alice to add you" in broadcast
    await w.command(w.alice, "announce ~town-square", private.channel_id)
    assert "join" not in w.messages(w.town.id)[-1]
    assert "ask @alice to add you" in w.messages(w.town.id)[-1]
    public = await w.start_incident(w.carol, "Drill day", playbook="Public drill")
    await w.command(w.carol, "announce ~town-square", public.channel_id)
    assert f"join ~{public.channel_name} to follow or help" in w.messages(w.town.id)[-1]
