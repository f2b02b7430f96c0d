"""Playbook management in chat, as people do it: commands, dialogs, files, per persona."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.services.playbook_file import parse
from tests.double import MattermostHTTPError
from tests.double.faults import Refuse
from tests.fake_clock import FakeClock
from tests.scenarios.harness import World, world
from tests.scenarios.test_checklist import click_task

STAGES = """\
## Detect
- Confirm the alert
- Page the owner | /echo paging
  Use the on-call schedule.
## Recover
- Roll back"""


def form(title: str, stages: str = STAGES, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": title,
        "start_from": "blank",
        "description": "",
        "stages": stages,
        "private": True,
        "broadcast": "",
        "reminder": "0",
        "status_template": "",
        "invite": "",
        "team_wide": False,
    }
    return {**base, **fields}


async def create(w: World, user: Any, title: str, **fields: Any) -> dict[str, Any]:
    reply = await w.command(user, "playbook create")
    assert reply["text"] == "", reply
    assert w.dialog(user)["dialog"]["callback_id"] == "pb_create"
    return await w.submit(user, form(title, **fields))


async def playbook(w: World, title: str) -> Any:
    for pb in await w.app.services.playbooks._store.for_team(w.team.id):
        if pb.title == title:
            return pb
    return None


def write(file: Path, text: str) -> None:
    file.write_text(text)


def code_block(text: str, lang: str = "") -> str:
    match = re.search(f"```{lang}\n(.*?)```", text, re.S)
    assert match, text
    return match.group(1)


async def test_help_lists_the_playbook_subcommands(w: World) -> None:
    reply = await w.command(w.carol, "playbook")
    for word in ("list", "show", "create", "edit", "delete", "members", "import", "export"):
        assert f"`{word}" in reply["text"]
    assert '"Service outage"' in reply["text"]
    assert "/incident playbook" in (await w.command(w.carol, "help"))["text"]


async def test_list_and_show_follow_membership(w: World) -> None:
    alice = (await w.command(w.alice, "playbook list"))["text"]
    assert [t for t in ("Outage", "Public drill", "Security") if t in alice] == [
        "Outage",
        "Public drill",
        "Security",
    ]
    carol = (await w.command(w.carol, "playbook list"))["text"]
    assert "Public drill" in carol and "Outage" not in carol and "Security" not in carol
    admin = (await w.command(w.admin, "playbook list"))["text"]
    assert all(t in admin for t in ("Outage", "Public drill", "Security"))
    shown = (await w.command(w.alice, "playbook show outage"))["text"]
    assert "### Outage" in shown and "playbooks.yaml" in shown
    assert "**Broadcast channel:** ~ops-alerts" in shown
    assert "**Reminder default:** 1 hour" in shown and "@bob" in shown
    assert code_block(shown) == (
        "## Triage\n- Acknowledge the alert\n- Find the owner\n  Check the service catalogue.\n"
        "- Announce | /echo incident under way\n## Resolution\n- Confirm recovery\n"
    )
    assert "### Security" in (await w.command(w.alice, "playbook show sec"))["text"]
    hidden = (await w.command(w.carol, "playbook show Outage"))["text"]
    assert "no playbook `Outage` you may use" in hidden
    unknown = (await w.command(w.alice, "playbook show Nope"))["text"]
    assert "no playbook `Nope`" in unknown


async def test_create_from_the_template_then_start_an_incident_with_it(w: World) -> None:
    result = await create(w, w.bob, "Database down", stages="", start_from="template")
    assert result == {}
    assert "Created playbook **Database down**" in w.told(w.bob)
    shown = (await w.command(w.bob, 'playbook show "Database down"'))["text"]
    stages = code_block(shown)
    assert stages.startswith("## Triage\n- Announce incident type and resources\n")
    assert "## Investigation" in stages and "- End the incident | /incident end" in stages
    await w.command(w.bob, "start")
    assert "Database down" in [o["text"] for o in w.start_options(w.bob)]
    await w.command(w.carol, "start")
    assert "Database down" not in [o["text"] for o in w.start_options(w.carol)]
    incident = await w.start_incident(w.bob, "Primary db gone", playbook="Database down")
    assert [s.title for s in incident.stages] == ["Triage", "Investigation", "Resolution"]
    assert len(incident.stages[0].tasks) == 10 and len(incident.stages[2].tasks) == 7


async def test_create_refuses_bad_input_field_by_field(w: World) -> None:
    bad = "## Detect\n- Confirm | echo hi\n# Recover\nstray line\n## Empty"
    result = await create(w, w.alice, "Outage", stages=bad, invite="@dave", reminder="7")
    errors = result["errors"]
    assert "already exists" not in errors.get("title", "")  # title clash is checked on save
    assert errors["stages"].startswith("Line 2: after | comes the task's slash command")
    assert "Line 3: a stage heading is `## Title`" in errors["stages"]
    assert "Line 4: expected" in errors["stages"]
    assert "Line 5: A stage needs at least one task." in errors["stages"]  # as on every path
    assert "not a member of this team" in errors["invite"] and "dave" in errors["invite"]
    assert "reminder" in errors
    dialog = w.dialog(w.alice)
    duplicate = await w.submit(w.alice, form("outage"), dialog)
    assert duplicate["errors"] == {
        "title": "A playbook with this title already exists in this team."
    }
    empty = await w.submit(w.alice, form("Fresh", stages=" \n"), dialog)
    assert empty["errors"] == {"stages": "A playbook needs at least one stage."}
    long = await w.submit(w.alice, form("Fresh", stages="## S\n- t\n" * 400), dialog)
    assert "at most 3000 characters" in long["errors"]["stages"]
    assert "playbooks.yaml" in long["errors"]["stages"]
    assert await playbook(w, "Fresh") is None
    elsewhere = w.mm.add_channel(w.mm.add_team("other").id, "news", members=[w.bot.id])
    hidden = await w.submit(w.alice, form("Fresh", broadcast=elsewhere.id), dialog)
    assert "can't see that channel in this team" in hidden["errors"]["broadcast"]
    assert await w.submit(w.alice, form("Fresh", broadcast=w.ops.id), dialog) == {}
    fresh = await playbook(w, "Fresh")
    assert fresh.member_ids == (w.alice.id,) and fresh.broadcast_channel_id == w.ops.id
    broadcast = next(e for e in w.dialog(w.alice)["dialog"]["elements"] if e["name"] == "broadcast")
    assert broadcast["data_source"] == "channels"


async def test_edit_and_delete_never_change_started_incidents(w: World) -> None:
    assert await create(w, w.alice, "Chat outage", invite="@bob", reminder="30") == {}
    incident = await w.start_incident(w.alice, "Checkout slow", playbook="Chat outage")
    assert w.bob.id in w.mm.channel_members(incident.channel_id)
    await w.command(w.alice, "playbook edit chat")
    dialog = w.dialog(w.alice)["dialog"]
    defaults = {e["name"]: e["default"] for e in dialog["elements"]}
    assert defaults["stages"] == STAGES and defaults["invite"] == "@bob"
    assert defaults["reminder"] == "30" and defaults["title"] == "Chat outage"
    edited = STAGES.replace("- Roll back", "- Roll back\n- Write the summary")
    result = await w.submit(
        w.alice, form("Chat outage", stages=edited, reminder="60", status_template="Impact:")
    )
    assert result == {}
    assert "Saved playbook **Chat outage**" in w.told(w.alice)
    pb = await playbook(w, "Chat outage")
    assert [t.title for t in pb.stages[1].tasks] == ["Roll back", "Write the summary"]
    assert pb.reminder_minutes == 60 and pb.invite_user_ids == ()
    same = await w.reload(incident)
    assert [t.title for t in same.stages[1].tasks] == ["Roll back"]
    assert same.reminder_minutes == 30
    await w.command(w.alice, 'playbook delete "Chat outage"')
    confirm = w.dialog(w.alice)
    assert confirm["dialog"]["callback_id"] == "pb_delete"
    assert await w.submit(w.alice, {}, confirm) == {}
    assert "Deleted playbook **Chat outage**" in w.told(w.alice)
    assert await playbook(w, "Chat outage") is None
    kept = await w.reload(incident)
    assert kept.stages == same.stages and kept.playbook_title == "Chat outage"
    info = (await w.command(w.alice, "info", incident.channel_id))["text"]
    assert "Confirm the alert" in info
    await w.command(w.alice, "start")
    assert "Chat outage" not in [o["text"] for o in w.start_options(w.alice)]
    assert (await w.submit(w.alice, {}, confirm)).get("error")  # the delete dialog is spent


async def test_file_playbooks_are_read_only_in_chat(w: World) -> None:
    for text in (
        "playbook edit Outage",
        "playbook delete Outage",
        "playbook members Outage add @carol",
    ):
        reply = (await w.command(w.alice, text))["text"]
        assert "read-only in chat" in reply and "playbooks.yaml" in reply
    assert not w.mm.dialogs(w.alice.id)
    members = (await w.command(w.carol, "playbook members public"))["text"]
    assert "Members of **Public drill**" in members and "team-wide" in members


async def test_permissions_for_each_persona(w: World) -> None:
    assert await create(w, w.alice, "Private runbook") == {}
    for text in ("show private", "edit private", "delete private", "export private"):
        assert "no playbook `private`" in (await w.command(w.carol, f"playbook {text}"))["text"]
    shown = (await w.command(w.admin, "playbook show private"))["text"]
    assert "### Private runbook" in shown
    await w.command(w.admin, "playbook edit private")
    assert w.dialog(w.admin)["dialog"]["callback_id"] == "pb_edit"
    # shared with bob: he may use and edit it
    reply = (await w.command(w.alice, "playbook members private add @bob"))["text"]
    assert "Added @bob" in reply and "@alice, @bob" in reply
    await w.command(w.bob, "playbook edit private")
    assert w.dialog(w.bob)["dialog"]["callback_id"] == "pb_edit"
    # team-wide: carol may see and start with it, not change it
    await w.command(w.alice, "playbook edit private")
    assert await w.submit(w.alice, form("Private runbook", team_wide=True)) == {}
    assert "Private runbook" in (await w.command(w.carol, "playbook list"))["text"]
    refused = (await w.command(w.carol, "playbook edit private"))["text"]
    assert "Only members of that playbook" in refused
    await w.command(w.carol, "start")
    assert "Private runbook" in [o["text"] for o in w.start_options(w.carol)]
    # members: not in the team, unknown, last member
    assert (
        "not a member of this team"
        in (await w.command(w.alice, "playbook members private add @dave"))["text"]
    )
    assert (
        "There is no user named zed"
        in (await w.command(w.alice, "playbook members private add @zed"))["text"]
    )
    await w.command(w.alice, "playbook members private remove @bob")
    last = (await w.command(w.alice, "playbook members private remove @alice"))["text"]
    assert "at least one member" in last
    assert (await playbook(w, "Private runbook")).member_ids == (w.alice.id,)
    # dave is outside the team: Mattermost refuses his command, and warroom shows him nothing
    with pytest.raises(MattermostHTTPError) as refused_by_server:
        await w.mm.run_command(w.dave, w.town.id, "playbook list")
    assert refused_by_server.value.status == 403
    assert await w.app.services.playbooks.usable(w.team.id, w.dave.id) == []
    caller = await w.app.services.playbooks.caller(w.team.id, w.dave.id)
    assert await w.app.services.playbooks.visible(caller) == []


async def test_names_with_spaces_quotes_and_ambiguous_prefixes(w: World) -> None:
    assert await create(w, w.alice, "Outage v2") == {}
    ambiguous = (await w.command(w.alice, "playbook show out"))["text"]
    assert "matches several playbooks" in ambiguous and "Outage, Outage v2" in ambiguous
    assert "### Outage\n" in (await w.command(w.alice, "playbook show OUTAGE"))["text"]
    assert "### Outage v2" in (await w.command(w.alice, "playbook show Outage v2"))["text"]
    assert (
        "### Outage v2" in (await w.command(w.alice, "playbook show \u201cOutage v2\u201d"))["text"]
    )
    pb = await playbook(w, "Outage v2")
    assert "### Outage v2" in (await w.command(w.alice, f"playbook show {pb.id}"))["text"]
    added = (await w.command(w.alice, 'playbook members "Outage v2" add @carol'))["text"]
    assert "Added @carol" in added
    unclosed = (await w.command(w.alice, 'playbook show "Outage v2'))["text"]
    assert "quote is not closed" in unclosed


BROKEN = (
    "playbooks:\n  - title: Fire drill\n    team: acme\n    invite: ['@nobody']\n"
    "    stages:\n      - title: Evacuate\n        tasks:\n          - title: Leave\n"
    "            command: leave now\n"
)


async def test_reload_with_a_good_then_a_broken_file(w: World) -> None:
    file = Path(w.settings.playbooks_file)
    refused = (await w.command(w.alice, "playbook reload"))["text"]
    assert "Only system admins" in refused
    write(
        file,
        "playbooks:\n  - title: Fire drill\n    team: acme\n    team_wide: true\n"
        "    stages:\n      - title: Evacuate\n        tasks:\n          - title: Leave\n",
    )
    good = (await w.command(w.admin, "playbook reload"))["text"]
    assert "Reloaded" in good and "1 playbook(s)" in good
    await w.command(w.carol, "start")
    assert [o["text"] for o in w.start_options(w.carol)] == ["Fire drill"]
    write(file, BROKEN)
    broken = (await w.command(w.admin, "playbook reload"))["text"]
    assert "refused" in broken and "last good set" in broken
    assert "`playbooks[0]: stages[0].tasks[0].command: A command starts with /" in broken
    await w.command(w.carol, "start")
    assert [o["text"] for o in w.start_options(w.carol)] == ["Fire drill"]
    write(file, BROKEN.replace("leave now", "/leave"))
    unknown = (await w.command(w.admin, "playbook reload"))["text"]
    assert "`playbooks[0].invite[0]: no user @nobody`" in unknown
    assert await create(w, w.alice, "Tabletop") == {}
    write(
        file,
        BROKEN.replace("leave now", "/leave")
        .replace("['@nobody']", "[]")
        .replace("Fire drill", "Tabletop"),
    )
    clash = (await w.command(w.admin, "playbook reload"))["text"]
    assert "`playbooks[0].title: a playbook created in chat already has this title" in clash
    await w.command(w.carol, "start")
    assert [o["text"] for o in w.start_options(w.carol)] == ["Fire drill"]


async def test_reload_refuses_an_empty_file_and_a_stage_without_tasks(w: World) -> None:
    """playbooks.yaml follows the rule of every path: at least one stage, each with a task;
    an empty file is a mistake, not "no playbooks", and the last good set stays."""
    file = Path(w.settings.playbooks_file)
    before = [p.title for p in await w.app.services.playbooks.usable(w.team.id, w.alice.id)]
    cases = {
        "": "the file is empty: it needs a `playbooks:` list",
        "# all in chat now\n": "the file is empty",
        "severity_levels: [P1, P2]\n": "playbooks: missing: the file needs a `playbooks:` list",
        "playbooks:\n  - title: Drill\n    team: acme\n": (
            "playbooks[0]: stages: A playbook needs at least one stage."
        ),
        "playbooks:\n  - title: Drill\n    team: acme\n    stages:\n      - title: Go\n"
        "        tasks: [{title: Run}]\n      - title: Later\n": (
            "playbooks[0]: stages[1].tasks: A stage needs at least one task."
        ),
    }
    for text, said in cases.items():
        write(file, text)
        reply = (await w.command(w.admin, "playbook reload"))["text"]
        assert "was refused; the last good set" in reply and said in reply, (text, reply)
        after = [p.title for p in await w.app.services.playbooks.usable(w.team.id, w.alice.id)]
        assert after == before
    write(file, "playbooks: []\n")  # on purpose: every playbook is made in chat
    assert "Reloaded" in (await w.command(w.admin, "playbook reload"))["text"]
    assert await w.app.services.playbooks.usable(w.team.id, w.alice.id) == []


MATTERMOST_EXPORT = {
    "title": "Customer escalation",
    "description": "From Mattermost Playbooks",
    "team_id": "x" * 26,
    "create_public_playbook_run": True,
    "reminder_timer_default_seconds": 3600,
    "reminder_message_template": "Status:",
    "broadcast_channel_ids": ["y" * 26],
    "invited_user_ids": ["z" * 26],
    "invite_users_enabled": True,
    "message_on_join": "Welcome!",
    "retrospective_template": "What went well",
    "signal_any_keywords": ["sev1"],
    "metrics": [],
    "version": 1,
    "checklists": [
        {
            "title": "Engage",
            "items": [
                {"title": "Open a ticket", "command": "/jira create", "state": "closed"},
                {"title": "Call the customer", "description": "Use **their** bridge"},
            ],
        },
        {"title": "Close", "items": [{"title": "Send the summary", "due_date": 3600000}]},
    ],
}


async def test_import_a_mattermost_export_attached_to_the_channel(w: World) -> None:
    data = json.dumps(MATTERMOST_EXPORT, indent=4).encode()
    await w.mm.post_file(w.alice, w.town.id, "escalation.json", data, "our playbook")
    await w.mm.user_post(w.bob, w.town.id, "unrelated")
    reply = (await w.command(w.alice, "playbook import"))["text"]
    assert "Imported **Customer escalation** from `escalation.json`" in reply
    assert "2 stage(s), 3 task(s)" in reply
    for field in ("message_on_join", "retrospective_template", "signal_any_keywords"):
        assert f"`{field}`" in reply
    assert "`checklists.items.due_date`" in reply
    assert "`" + "z" * 26 + "`" in reply and "`" + "y" * 26 + "`" in reply
    pb = await playbook(w, "Customer escalation")
    assert pb.source == "chat" and pb.member_ids == (w.alice.id,)
    assert pb.private_channel is False and pb.reminder_minutes == 60
    assert pb.status_template == "Status:"
    assert pb.stages[0].tasks[0].command == "/jira create"
    assert pb.stages[0].tasks[1].description == "Use **their** bridge"
    again = (await w.command(w.alice, "playbook import"))["text"]
    assert "already exists" in again


async def test_import_where_the_bot_cannot_read_says_where_to_attach_the_file(w: World) -> None:
    """On 5.36 the bot reads a channel's posts only as a member, public channel or not: a file
    attached in a public channel it has not joined cannot be found, and the dialog must not
    ask for it there again; a direct message to the bot works."""
    lobby = w.mm.add_channel(w.team.id, "lobby", private=False, members=[w.alice.id])
    data = json.dumps(MATTERMOST_EXPORT).encode()
    await w.mm.post_file(w.alice, lobby.id, "escalation.json", data, "our playbook")
    await w.command(w.alice, "playbook import", lobby.id)
    intro = w.dialog(w.alice)["dialog"]["introduction_text"]
    assert "not a member" in intro and "direct message to me" in intro
    assert "in this channel and run" not in intro
    dm = await w.mm.open_direct(w.alice, w.bot)
    await w.mm.post_file(w.alice, dm.id, "escalation.json", data, "our playbook")
    answer = await w.mm.run_command(w.alice, dm.id, "playbook import", team_id=w.team.id)
    await w.settle()
    reply = answer["text"]
    assert "Imported **Customer escalation** from `escalation.json`" in reply


async def test_import_refuses_what_is_not_a_playbook(w: World) -> None:
    reply = await w.command(w.alice, "playbook import")
    assert reply["text"] == ""
    dialog = w.dialog(w.alice)
    assert dialog["dialog"]["callback_id"] == "pb_import"
    bad_json = await w.submit(w.alice, {"export": '{"title": "x",'}, dialog)
    assert "not valid JSON" in bad_json["errors"]["export"]
    not_pb = await w.submit(w.alice, {"export": '{"name": "x", "items": []}'}, dialog)
    assert "not a playbook export" in not_pb["errors"]["export"]
    bad_item = dict(MATTERMOST_EXPORT, checklists=[{"title": "A", "items": [{"command": "x"}]}])
    refused = await w.submit(w.alice, {"export": json.dumps(bad_item)}, dialog)
    assert "checklists[0].items[0].title: The task title is missing" in refused["errors"]["export"]
    assert "checklists[0].items[0].command: A command starts with /" in refused["errors"]["export"]
    await w.mm.post_file(w.alice, w.town.id, "notes.json", b"[1, 2]")
    file_reply = (await w.command(w.alice, "playbook import"))["text"]
    assert "`notes.json`: That JSON is not a playbook export" in file_reply
    assert "Nothing was imported" in file_reply
    assert await playbook(w, "x") is None
    await w.mm.post_file(w.alice, w.town.id, "pb.json", json.dumps(MATTERMOST_EXPORT).encode())
    w.mm.fail_next("GET", r"/files/[a-z0-9]+$", status=403)
    unreadable = (await w.command(w.alice, "playbook import"))["text"]
    assert "could not read that file" in unreadable
    assert await playbook(w, "Customer escalation") is None


async def test_round_trip_export_edit_import(w: World) -> None:
    reply = (await w.command(w.alice, "playbook export outage"))["text"]
    exported = code_block(reply, "yaml")
    entry = parse(exported, Path("playbooks.yaml")).playbooks[0]  # playbooks.yaml accepts it
    assert (entry.title, entry.team, entry.broadcast_channel) == ("Outage", "acme", "ops-alerts")
    assert entry.members == ["alice", "bob"] and entry.invite == ["bob"]
    assert entry.stages[0].tasks[1].description == "Check the service catalogue."
    edited = exported.replace("title: Outage", "title: Outage v2").replace(
        "- title: Confirm recovery", "- title: Confirm recovery\n          - title: Tell customers"
    )
    await w.command(w.bob, "playbook import paste")
    assert await w.submit(w.bob, {"export": edited}) == {}
    assert "Imported **Outage v2** from the pasted text" in w.told(w.bob)
    shown = (await w.command(w.bob, 'playbook show "Outage v2"'))["text"]
    assert code_block(shown).endswith("- Confirm recovery\n- Tell customers\n")
    pb = await playbook(w, "Outage v2")
    assert pb.broadcast_channel_id == w.ops.id and pb.reminder_minutes == 60
    assert set(pb.member_ids) == {w.alice.id, w.bob.id}
    again = await w.command(w.bob, "playbook import paste")
    assert again["text"] == ""
    duplicate = await w.submit(w.bob, {"export": edited})
    assert "already exists" in duplicate["errors"]["export"]


async def test_a_large_playbook_is_exported_as_a_file_and_cannot_be_edited_in_a_dialog(
    w: World,
) -> None:
    big = dict(
        MATTERMOST_EXPORT,
        title="Big runbook",
        checklists=[
            {"title": f"Stage {n}", "items": [{"title": "Step", "description": "d" * 600}]}
            for n in range(25)
        ],
    )
    await w.mm.post_file(w.alice, w.town.id, "big.json", json.dumps(big).encode())
    assert "Imported **Big runbook**" in (await w.command(w.alice, "playbook import"))["text"]
    shown = (await w.command(w.alice, "playbook show big"))["text"]
    assert "too long to show here" in shown and "```" not in shown
    refused = (await w.command(w.alice, "playbook edit big"))["text"]
    assert "longer than the 3000 characters" in refused and "playbooks.yaml" in refused
    reply = (await w.command(w.alice, "playbook export big"))["text"]
    assert "exported as YAML" in reply and "```" not in reply
    dm = w.mm.channel_by_name("", "__".join(sorted((w.alice.id, w.bot.id))))
    assert dm is not None
    posts = w.mm.posts(dm.id)
    file_id = posts[-1]["file_ids"][0]
    exported = w.mm.file_bytes(file_id).decode()
    assert len(parse(exported, Path("playbooks.yaml")).playbooks[0].stages) == 25
    assert "I don't know `frobnicate`" in (await w.command(w.alice, "playbook frobnicate"))["text"]


async def test_guests_may_not_create_or_import_playbooks(w: World) -> None:
    guest = w.mm.add_user("gina", teams=[w.team.id])
    guest.roles = "system_guest"
    await w.mm.add_to_channel(w.admin, w.town.id, guest.id)
    for text in ("playbook create", "playbook import paste"):
        reply = (await w.command(guest, text))["text"]
        assert "Guests can't create or import playbooks" in reply
    assert not w.mm.dialogs(guest.id)


async def test_a_playbook_for_all_teams_is_offered_in_every_team_of_the_bot(tmp_path: Path) -> None:
    yaml = (
        "playbooks:\n"
        "  - title: Everywhere\n    team: '*'\n    team_wide: true\n"
        "    stages: [{title: Triage, tasks: [{title: Ack}]}]\n"
    )
    async with world(tmp_path, playbooks=yaml) as w:
        other = w.mm.add_team("beta")
        w.mm.add_team_member(other.id, w.alice.id)
        # an admin adds the bot to the team (as `warroom setup --team beta` does): warroom
        # hears it on its event stream and offers the playbook there without a restart
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{w.mm.url}/api/v4/teams/{other.id}/members",
                json={"team_id": other.id, "user_id": w.bot.id},
                headers={"Authorization": f"Bearer {w.admin.token}"},
            ) as resp,
        ):
            assert resp.status == 201
        await w.mm.wait_until(lambda: (w.app.services.tasks and False) or True)
        await w.settle()
        for _ in range(100):
            if await w.app.services.playbooks.usable(other.id, w.alice.id):
                break
            await asyncio.sleep(0.02)
        for team in (w.team, other):
            titles = [p.title for p in await w.app.services.playbooks.usable(team.id, w.alice.id)]
            assert titles == ["Everywhere"]
        incident = await w.start_incident(w.alice, "Anywhere", playbook="Everywhere")
        assert incident.team_id == w.team.id
        # the same title named for one team as well is a clash, and the last good set stays
        (tmp_path / "playbooks.yaml").write_text(
            yaml
            + "  - title: everywhere\n    team: acme\n    stages: [{title: S, tasks: [{title: t}]}]\n"
        )
        reply = await w.command(w.admin, "playbook reload")
        assert "playbooks[1].title: same title as playbooks[0]" in reply["text"]
        assert len(await w.app.services.playbooks.usable(other.id, w.alice.id)) == 1


@pytest.mark.parametrize(
    "confirmation",
    [Refuse(500), Refuse(429)],
    ids=["confirmation_failed", "confirmation_rate_limited_past_the_deadline"],
)
async def test_a_playbook_dialog_that_saved_says_so_when_its_confirmation_is_lost(
    tmp_path: Path, confirmation: Refuse
) -> None:
    """The rule: a dialog's change and its one-shot nonce are saved together, and a change
    that is made is reported as made, even when Mattermost fails to show the confirmation;
    the same dialog sent again is refused as already submitted, not as a clash."""
    async with world(tmp_path, clock=FakeClock(autojump_s=60)) as w:
        await w.command(w.alice, "playbook create")
        dialog = w.dialog(w.alice)
        w.mm.faults.inject("POST", r"^/api/v4/posts/ephemeral$", confirmation, times=None)
        first = await w.submit(w.alice, form("Runbook X"), dialog)
        assert await playbook(w, "Runbook X") is not None
        assert "Created playbook **Runbook X**" in first.get("error", ""), first
        assert "try again" not in first.get("error", "")
        again = await w.submit(w.alice, form("Runbook X"), dialog)
        assert "already submitted" in again.get("error", ""), again


async def test_import_reads_only_a_file_the_caller_posted(w: World) -> None:
    """README (rights): an imported file is read only from your own post in the channel
    where you ran the import; someone else's newer attachment is not yours to import."""
    data = json.dumps(MATTERMOST_EXPORT).encode()
    await w.mm.post_file(w.bob, w.town.id, "escalation.json", data, "bob's playbook")
    reply = (await w.command(w.alice, "playbook import"))["text"]
    assert "Customer escalation" not in reply
    assert w.dialog(w.alice)["dialog"]["callback_id"]  # no file of hers: the paste dialog
    titles = [p.title for p in await w.app.services.playbooks.usable(w.team.id, w.alice.id)]
    assert "Customer escalation" not in titles


async def test_a_playbook_imported_in_chat_never_lets_the_bot_run_its_commands(
    w: World,
) -> None:
    """README (Run): the bot runs a trigger itself only when the operator allowed it in the
    environment or in playbooks.yaml, never from a playbook made or imported in chat."""
    exported = code_block((await w.command(w.alice, "playbook export outage"))["text"], "yaml")
    sneaky = exported.replace("title: Outage", "title: Sneaky").replace(
        "stages:", "run_commands: [invite, echo]\n    stages:", 1
    )
    await w.command(w.alice, "playbook import paste")
    assert await w.submit(w.alice, {"export": sneaky}) == {}
    told = w.told(w.alice)
    assert "Imported **Sneaky**" in told
    assert "Only `playbooks.yaml` may set `run_commands`: not imported" in told  # not silent
    incident = await w.start_incident(w.alice, "Sneaky one", playbook="Sneaky")
    assert incident.run_commands == ()
    await click_task(w, w.alice, incident, 3, "Run")  # /echo: handed over, not run
    assert "Run this yourself" in w.told(w.alice)
