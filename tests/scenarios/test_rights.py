"""Issue 9, kind 1: warroom acts for a person only with that person's own rights.

Every effect warroom causes on behalf of a person must be one Mattermost would let that person
cause; the bot's rights (its memberships, a system admin role) are never lent. In each case
below the bot *could* do it (it is a member of the private channel ``~exec``), the person
could not, and warroom must refuse exactly as if the channel did not exist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain.models import Incident
from tests.scenarios.harness import PLAYBOOKS, World, world
from tests.scenarios.test_checklist import click_task, events
from tests.scenarios.test_playbooks import create


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path) as built:
        # carol's private channel; the bot belongs to it, alice and bob do not
        built.mm.add_channel(
            built.team.id, "exec", private=True, members=[built.carol.id, built.bot.id]
        )
        yield built


def exec_channel(w: World) -> Any:
    channel = w.mm.channel_by_name(w.team.id, "exec")
    assert channel is not None
    return channel


async def with_command(w: World, command: str) -> Incident:
    """An Outage incident whose task 3 carries ``command`` (set by bob through the dialog)."""
    incident = await w.start_incident(w.alice, "Disk full")
    await w.command(w.bob, "task edit 1 3", incident.channel_id)
    submission = {"title": "Announce", "description": "Tell people.", "command": command}
    assert await w.submit(w.bob, submission) == {}
    return incident


# ---- case 1: Run ------------------------------------------------------------------------


async def test_run_hands_an_invite_to_the_clicker_instead_of_running_it_as_the_bot(
    w: World,
) -> None:
    incident = await with_command(w, "/invite @bob ~exec")
    await click_task(w, w.bob, incident, 3, "Run")
    assert w.bob.id not in w.mm.channel_members(exec_channel(w).id)
    told = w.ephemeral(w.bob)
    assert "Run this yourself in this channel" in told
    assert "```\n/invite @bob ~exec\n```" in told
    handed = await events(w, incident, "command_handed")
    assert [(e.actor_id, e.data["command"]) for e in handed] == [(w.bob.id, "/invite @bob ~exec")]
    assert await events(w, incident, "command_run") == []
    assert not [r for r in w.mm.requests if r.path.endswith("/commands/execute")]
    assert any(
        "@bob took the command of task 3 **Announce** to run it themselves" in m
        for m in w.messages(incident.channel_id)
    )


async def test_an_allowed_membership_builtin_is_still_never_run_by_the_bot(w: World) -> None:
    await w.restart(run_commands=["invite", "echo"])
    incident = await with_command(w, "/invite @bob ~exec")
    await click_task(w, w.bob, incident, 3, "Run")
    assert w.bob.id not in w.mm.channel_members(exec_channel(w).id)
    told = w.ephemeral(w.bob)
    assert "```\n/invite @bob ~exec\n```" in told
    assert "`/invite` changes memberships, channels or settings" in told
    assert await events(w, incident, "command_run") == []


async def test_a_command_with_backticks_is_handed_over_in_a_block_it_cannot_close(
    w: World,
) -> None:
    incident = await with_command(w, "/echo ```oops``` and `more`")
    await click_task(w, w.bob, incident, 3, "Run")
    assert "````\n/echo ```oops``` and `more`\n````" in w.ephemeral(w.bob)


async def test_info_says_what_run_will_do(w: World) -> None:
    incident = await with_command(w, "/echo incident under way")
    await click_task(w, w.bob, incident, 3, "Info")
    assert "(Run gives it to you to run)" in w.ephemeral(w.bob)
    await w.restart(run_commands=["echo"])
    await click_task(w, w.bob, incident, 3, "Info")
    assert "(Run runs it as the warroom bot)" in w.ephemeral(w.bob)


# ---- case 2: announce -------------------------------------------------------------------


async def test_announce_posts_only_where_the_caller_may_read(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    mine = w.mm.add_channel(w.team.id, "alice-only", private=True, members=[w.alice.id])
    reply = await w.command(
        w.alice, "announce ~exec ~nosuch ~ops-alerts ~alice-only", incident.channel_id
    )
    text = reply["text"]
    # a private channel alice cannot read is answered exactly like one that does not exist
    assert "~exec: no channel of that name that you can read" in text
    assert "~nosuch: no channel of that name that you can read" in text
    assert not any("Disk full" in m for m in w.messages(exec_channel(w).id))
    # public channel of her team (not a member): Mattermost lets her post there
    assert "Announced in ~ops-alerts" in text
    assert any("Disk full" in m for m in w.messages(w.ops.id))
    # her own private channel the bot is not in: the bot cannot post, and says how to fix it
    assert "~alice-only: no channel of that name that you can read" in text
    assert "add @warroom to it first" in text
    assert w.messages(mine.id) == []


# ---- the rule, over every path where warroom acts for a person --------------------------


async def test_every_path_acting_for_a_person_checks_that_persons_own_rights(
    w: World,
) -> None:
    """Rule: warroom never lends the bot's rights. For each path, a person who cannot read
    ~exec (the bot can) gets the same answer as for something that does not exist, and
    nothing happens there."""
    exec_ = exec_channel(w)
    [secret_post] = w.mm.seed_posts(exec_.id, w.carol, ["the secret plan"])
    incident = await with_command(w, "/invite @bob ~exec")
    private = await w.start_incident(w.alice, "Hidden", playbook="Security")
    refused: dict[str, bool] = {}

    # announce ~channel (case 2)
    reply = await w.command(w.alice, "announce ~exec", incident.channel_id)
    nothing = await w.command(w.alice, "announce ~nothing", incident.channel_id)
    refused["announce"] = reply["text"].replace("exec", "X") == nothing["text"].replace(
        "nothing", "X"
    ) and not any("Disk full" in m for m in w.messages(exec_.id))

    # /incident start <post link> quoting a post from a channel the caller cannot read
    before = len(w.mm.dialogs(w.alice.id))
    link = await w.command(w.alice, f"start {w.mm.url}/acme/pl/{secret_post}")
    unknown = await w.command(w.alice, "start " + "b" * 26)
    refused["start from a post"] = (
        link["text"] == unknown["text"] and len(w.mm.dialogs(w.alice.id)) == before
    )

    # timeline / review / export ~channel of an incident the caller cannot view
    for sub in ("timeline", "review", "export"):
        hidden = await w.command(w.carol, f"{sub} ~{private.channel_name}")
        missing = await w.command(w.carol, f"{sub} ~nosuchincident")
        refused[f"{sub} ~channel"] = hidden["text"].replace(private.channel_name, "X") == missing[
            "text"
        ].replace("nosuchincident", "X")

    # a chat playbook's broadcast channel: its author must be able to read it
    answer = await create(w, w.alice, "Leaky", broadcast=exec_.id)
    refused["playbook broadcast channel"] = "broadcast" in answer.get("errors", {})

    # Run: the bot's membership of ~exec is not lent to the clicker
    await click_task(w, w.bob, incident, 3, "Run")
    refused["task Run"] = w.bob.id not in w.mm.channel_members(exec_.id)

    assert refused == dict.fromkeys(refused, True), refused
    assert list(refused) == [
        "announce",
        "start from a post",
        "timeline ~channel",
        "review ~channel",
        "export ~channel",
        "playbook broadcast channel",
        "task Run",
    ]


# ---- a chat playbook's broadcast channel --------------------------------------------------


async def test_a_chat_playbook_broadcasts_only_while_its_chooser_can_read_the_channel(
    w: World,
) -> None:
    """Checked when the playbook is saved (the editor) and again at each start (the chooser)."""
    leads = w.mm.add_channel(
        w.team.id, "leads", private=True, members=[w.alice.id, w.bot.id, w.carol.id]
    )
    # bob cannot pick a private channel he cannot read, though the bot could post there
    refused = await create(w, w.bob, "Bobs", broadcast=leads.id)
    assert "can't see that channel" in refused["errors"]["broadcast"]
    assert await create(w, w.alice, "Leads drill", broadcast=leads.id, team_wide=True) == {}
    await w.start_incident(w.carol, "First", playbook="Leads drill")
    assert any("First" in m for m in w.messages(leads.id))
    # alice leaves ~leads: starting from her playbook no longer posts there, and says why
    await w.mm.remove_from_channel(w.alice, leads.id, w.alice.id)
    second = await w.start_incident(w.carol, "Second", playbook="Leads drill")
    assert not any("Second" in m for m in w.messages(leads.id))
    assert second.broadcast_channel_id == ""
    assert "Not announced in the playbook's broadcast channel" in w.told(w.carol)


async def test_a_playbook_in_the_operators_file_may_allow_a_trigger_for_its_tasks(
    tmp_path: Path,
) -> None:
    allowing = PLAYBOOKS.replace(
        "  - title: Outage\n    team: acme\n",
        "  - title: Outage\n    team: acme\n    run_commands: [echo, invite]\n",
        1,
    )
    assert allowing != PLAYBOOKS
    async with world(tmp_path, allowing) as w:
        incident = await w.start_incident(w.alice, "Disk full")
        assert incident.run_commands == ("echo", "invite")
        await click_task(w, w.bob, incident, 3, "Run")
        echoed = [
            p for p in w.mm.posts(incident.channel_id) if p["message"] == "incident under way"
        ]
        assert echoed and echoed[0]["user_id"] == w.bot.id
        assert len(await events(w, incident, "command_run")) == 1
        # ...but never a refused built-in, even listed there
        w.mm.add_channel(w.team.id, "exec", private=True, members=[w.carol.id, w.bot.id])
        await w.command(w.bob, "task edit 1 3", incident.channel_id)
        assert await w.submit(w.bob, {"title": "Announce", "command": "/invite @bob ~exec"}) == {}
        await click_task(w, w.bob, incident, 3, "Run")
        assert w.bob.id not in w.mm.channel_members(exec_channel(w).id)
        assert "`/invite` changes memberships" in w.ephemeral(w.bob)


async def test_a_playbooks_broadcast_channel_is_named_only_to_who_may_read_it(w: World) -> None:
    """``playbook show`` and ``playbook export`` read the broadcast channel's name with the
    viewer's rights: a member of the playbook who cannot read that private channel is not told
    its name (the bot could read it, the person could not)."""
    leads = w.mm.add_channel(
        w.team.id, "leads-secret", private=True, members=[w.alice.id, w.bot.id]
    )
    assert await create(w, w.alice, "Leads drill", broadcast=leads.id, team_wide=True) == {}
    await w.command(w.alice, 'playbook members "Leads drill" add @bob')
    for viewer in (w.bob, w.carol):  # a member, and a team member of a team-wide playbook
        for sub in ("show", "export"):
            reply = await w.command(viewer, f"playbook {sub} Leads drill")
            assert "Leads drill" in reply["text"], reply
            assert "leads-secret" not in reply["text"], (viewer.username, sub)
    # whoever may read it still sees it
    assert "~leads-secret" in (await w.command(w.alice, "playbook show Leads drill"))["text"]
    assert "~leads-secret" in (await w.command(w.alice, "playbook export Leads drill"))["text"]


# ---- guests -------------------------------------------------------------------------------


async def test_a_guest_reads_through_warroom_only_the_channels_they_belong_to(w: World) -> None:
    """Rule: a public channel of the team is readable without membership only by who holds
    read_public_channel; Mattermost gives it to team members but not to guests (5.36
    model/role.go, team_guest), so for a guest a public channel they are not in is one that
    does not exist: nothing announced there, no incident of it viewed or listed, no post of
    it quoted."""
    gina = w.mm.add_user("gina", teams=[w.team.id])
    gina.roles = "system_guest"
    incident = await w.start_incident(w.alice, "Disk full")  # private; gina is added to it
    await w.mm.add_to_channel(w.alice, incident.channel_id, gina.id)
    drill = await w.start_incident(w.carol, "Open drill", playbook="Public drill")
    [ops_post] = w.mm.seed_posts(w.ops.id, w.carol, ["checkout is down"])
    here = incident.channel_id

    before_ops = w.messages(w.ops.id)  # the playbook's own broadcast is there already
    reply = await w.command(gina, "announce ~ops-alerts", here)
    nothing = await w.command(gina, "announce ~nothing", here)
    assert reply["text"].replace("ops-alerts", "X") == nothing["text"].replace("nothing", "X")
    assert w.messages(w.ops.id) == before_ops
    for sub in ("info", "timeline", "review", "export"):
        hidden = await w.command(gina, f"{sub} ~{drill.channel_name}", here)
        missing = await w.command(gina, f"{sub} ~nosuchincident", here)
        assert hidden["text"].replace(drill.channel_name, "X") == missing["text"].replace(
            "nosuchincident", "X"
        ), sub
    listed = (await w.command(gina, "list", here))["text"]
    assert "Disk full" in listed or incident.channel_name in listed
    assert drill.channel_name not in listed
    before = len(w.mm.dialogs(gina.id))
    link = await w.command(gina, f"start {w.mm.url}/acme/pl/{ops_post}", here)
    unknown = await w.command(gina, "start " + "b" * 26, here)
    assert link["text"] == unknown["text"] and len(w.mm.dialogs(gina.id)) == before
    # a plain team member, not in those channels either, may read them all
    assert drill.channel_name in (await w.command(w.bob, "list"))["text"]
