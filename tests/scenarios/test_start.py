"""Starting an incident, as a person does it: command, dialog, submit, read the posts."""

from pathlib import Path

import aiohttp

from tests.scenarios.harness import World, world


async def test_start_dialog_lists_exactly_the_callers_playbooks_sorted(w: World) -> None:
    reply = await w.command(w.alice, "start")
    assert reply["text"] == ""
    assert [o["text"] for o in w.start_options(w.alice)] == ["Outage", "Public drill", "Security"]
    await w.command(w.carol, "start")
    assert [o["text"] for o in w.start_options(w.carol)] == ["Public drill"]
    await w.command(w.admin, "start")
    assert len(w.start_options(w.admin)) == 3


async def test_start_creates_the_channel_posts_card_and_tells_everyone(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full", description="db01 at 100%")
    channel = w.mm.channel_by_name(w.team.id, "disk-full")
    assert channel is not None and channel.id == incident.channel_id
    assert channel.type == "P"  # Outage playbook: private by default
    assert channel.header == "db01 at 100%"
    assert {w.alice.id, w.bob.id, w.bot.id} <= w.mm.channel_members(channel.id)
    assert w.carol.id not in w.mm.channel_members(channel.id)
    assert incident.commander_id == w.alice.id
    texts = w.messages(channel.id)
    assert any("@alice started the incident **Disk full**" in t for t in texts)
    card = w.mm.get_post(incident.card_post_id)
    assert card is not None and card["is_pinned"]
    assert w.card_field(incident, "Commander") == "@alice"
    assert w.card_field(incident, "Status") == "Ongoing"
    assert w.card_field(incident, "Stage").startswith("1/2 Triage (0/3 done)")
    checklist = w.mm.get_post(incident.checklist_post_id)
    assert checklist is not None
    assert "Acknowledge the alert" in checklist["props"]["attachments"][1]["text"]
    assert "~disk-full" in w.told(w.alice)
    assert any("Disk full" in t and "~disk-full" in t for t in w.messages(w.ops.id))
    timeline = await w.app.services.incidents.store.timeline(incident.id)
    assert [e.kind.value for e in timeline] == ["created"]


async def test_public_playbook_gives_a_public_channel_and_name_clash_gets_a_suffix(
    w: World,
) -> None:
    first = await w.start_incident(w.carol, "Drill", playbook="Public drill")
    second = await w.start_incident(w.carol, "Drill", playbook="Public drill")
    assert first.channel_name == "drill"
    assert (
        second.channel_name.startswith("drill-") and len(second.channel_name) == len("drill-") + 4
    )
    channel = w.mm.channel_by_name(w.team.id, "drill")
    assert channel is not None and channel.type == "O"


async def test_dialog_field_errors(w: World) -> None:
    await w.command(w.alice, "start")
    outage = w.playbook_id("Outage")
    result = await w.submit(w.alice, {"playbook": outage, "name": "x", "description": ""})
    assert set(result["errors"]) == {"name"}
    result = await w.submit(
        w.alice, {"playbook": outage, "name": "ok name", "description": "d" * 1025}
    )
    assert set(result["errors"]) == {"description"}
    # carol may not use Outage: a forged submission naming it is refused
    await w.command(w.carol, "start")
    result = await w.submit(w.carol, {"playbook": outage, "name": "sneaky", "description": ""})
    assert set(result["errors"]) == {"playbook"}
    assert w.mm.channel_by_name(w.team.id, "sneaky") is None
    # the same dialog, corrected, then goes through once, and a replay is refused
    await w.command(w.alice, "start")
    dialog = w.dialog(w.alice)
    ok = {"playbook": outage, "name": "Corrected", "description": ""}
    assert await w.submit(w.alice, ok, dialog) == {}
    replay = await w.submit(w.alice, ok, dialog)
    assert "expired" in replay["error"] or "already" in replay["error"]
    assert (
        len(
            [
                i
                for i in await w.app.services.incidents.store.list_team(w.team.id)
                if i.name == "Corrected"
            ]
        )
        == 1
    )


async def test_start_from_a_post_link_quotes_the_origin(w: World) -> None:
    post = await w.mm.user_post(w.carol, w.town.id, "Checkout is returning 500s")
    await w.command(w.alice, f"start {w.mm.url}/acme/pl/{post['id']}")
    dialog = w.dialog(w.alice)["dialog"]
    description = next(e for e in dialog["elements"] if e["name"] == "description")["default"]
    assert "Checkout is returning 500s" in description
    assert post["id"] in description
    result = await w.submit(
        w.alice,
        {"playbook": w.playbook_id("Outage"), "name": "Checkout 500s", "description": description},
    )
    assert result == {}
    incident = await w.incident_named("Checkout 500s")
    assert incident.origin_post_id == post["id"]
    assert any(f"/pl/{post['id']}" in t for t in w.messages(incident.channel_id))


async def test_start_with_an_unreadable_post_is_refused(w: World) -> None:
    reply = await w.command(w.alice, "start " + "a" * 26)
    assert "can't read that post" in reply["text"]
    assert w.mm.dialogs(w.alice.id) == []


async def test_start_with_a_name_prefills_it(w: World) -> None:
    await w.command(w.alice, "start  Disk full ")
    dialog = w.dialog(w.alice)["dialog"]
    assert next(e for e in dialog["elements"] if e["name"] == "name")["default"] == "Disk full"


async def test_caller_with_no_playbook_is_told_how_to_get_one(tmp_path: Path) -> None:
    yaml = (
        "playbooks:\n  - title: Only alice\n    team: acme\n    members: ['@alice']\n"
        "    stages: [{title: Triage, tasks: [{title: Ack}]}]\n"
    )
    async with world(tmp_path, playbooks=yaml) as w:
        reply = await w.command(w.carol, "start")
        assert "no playbook" in reply["text"]
        assert w.mm.dialogs(w.carol.id) == []


async def test_invite_failures_are_reported_to_the_reporter(tmp_path: Path) -> None:
    yaml = (
        "playbooks:\n  - title: Invites\n    team: acme\n    team_wide: true\n"
        "    invite: ['@bob', '@dave']\n"
        "    stages: [{title: Triage, tasks: [{title: Ack}]}]\n"
    )
    async with world(tmp_path, playbooks=yaml) as w:
        incident = await w.start_incident(w.alice, "Invite test", playbook="Invites")
        assert w.bob.id in w.mm.channel_members(incident.channel_id)
        assert w.dave.id not in w.mm.channel_members(incident.channel_id)
        told = w.told(w.alice)
        assert "@dave" in told and "could not add" in told


async def test_mattermost_outage_at_submit_loses_nothing_and_says_so(w: World) -> None:
    await w.command(w.alice, "start")
    dialog = w.dialog(w.alice)
    w.mm.outage(True)
    try:
        result = await w.app.interactions.handle_dialog(
            w.app.services,
            __import__("bot.interactions.router", fromlist=["DialogSubmission"]).DialogSubmission(
                type="dialog_submission",
                callback_id="start",
                state=dialog["dialog"]["state"],
                user_id=w.alice.id,
                channel_id=w.town.id,
                team_id=w.team.id,
                submission={"playbook": w.playbook_id("Outage"), "name": "During outage"},
            ),
        )
    finally:
        w.mm.outage(False)
    assert "Mattermost did not answer" in result.error
    assert await w.app.services.incidents.store.list_team(w.team.id) == []
    # the same dialog still works once Mattermost is back
    assert (
        await w.submit(
            w.alice, {"playbook": w.playbook_id("Outage"), "name": "During outage"}, dialog
        )
        == {}
    )


async def test_help_offers_a_start_button_that_opens_the_dialog(w: World) -> None:
    await w.command(w.alice, "help")
    reply = w.mm.ephemerals(w.alice.id)[-1]
    action = reply["props"]["attachments"][0]["actions"][0]
    assert action["name"] == "Start incident"
    result = await w.mm.click(w.alice, reply["id"], action["id"])
    assert result.status == 200
    await w.settle()
    assert w.dialog(w.alice)["dialog"]["callback_id"] == "start"


async def test_reacting_with_the_start_emoji_offers_a_start_from_that_post(w: World) -> None:
    post = await w.mm.user_post(w.carol, w.town.id, "Payments are timing out")
    await w.mm.react(w.alice, post["id"], "rotating_light")
    await w.mm.wait_until(lambda: "Start an incident from this post" in w.told(w.alice))
    await w.mm.react(w.alice, post["id"], "thumbsup")  # other emoji: nothing offered
    dm = w.mm.channel_by_name("", "__".join(sorted((w.alice.id, w.bot.id))))
    assert dm is not None
    offer = w.mm.posts(dm.id)[-1]
    # bob may not use alice's offer, even holding its context
    context = w.mm.state.posts[offer["id"]]["props"]["attachments"][0]["actions"][0]["integration"]
    request = {
        "user_id": w.bob.id,
        "channel_id": offer["channel_id"],
        "post_id": offer["id"],
        "trigger_id": "t",
        "context": context["context"],
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(context["url"], json=request) as resp,
    ):
        assert "expired" in (await resp.json())["ephemeral_text"]
    assert w.mm.dialogs(w.bob.id) == []
    await w.click(w.alice, offer["id"], "Start incident")
    dialog = w.dialog(w.alice)["dialog"]
    description = next(e for e in dialog["elements"] if e["name"] == "description")["default"]
    assert "Payments are timing out" in description
    result = await w.submit(
        w.alice,
        {"playbook": w.playbook_id("Outage"), "name": "Payments", "description": description},
    )
    assert result == {}
    assert (await w.incident_named("Payments")).origin_post_id == post["id"]


async def test_an_expired_trigger_gets_a_clear_message(w: World) -> None:
    w.mm.trigger_ttl = 0.0
    reply = await w.command(w.alice, "start")
    assert "took too long to open the dialog" in reply["text"]


async def test_the_channel_shows_the_start_in_order_and_its_members_are_known_unlisted(
    w: World,
) -> None:
    """What people see stays in order though warroom overlaps its calls: the members added
    first, then the "started" line, the card, the checklist. And warroom records the members
    it added itself: nobody's membership of the new channel is listed."""
    incident = await w.start_incident(w.alice, "Order check")
    posts = w.mm.posts(incident.channel_id)
    kinds = [
        "added" if p["type"] == "system_add_to_channel" else p["id"]
        for p in posts
        if p["type"] in ("", "system_add_to_channel")
    ]
    started = next(p["id"] for p in posts if "started the incident" in p["message"])
    added = [n for n, kind in enumerate(kinds) if kind == "added"]
    assert len(added) == 2 and max(added) < kinds.index(started)  # alice and bob, first
    assert [k for k in kinds if k != "added"] == [
        started,
        incident.card_post_id,
        incident.checklist_post_id,
    ]
    listed = f"/api/v4/channels/{incident.channel_id}/members"
    assert not [r for r in w.mm.requests if r.method == "GET" and r.path.startswith(listed)]
    memberships = w.app.services.memberships
    for user in (w.alice, w.bob, w.bot):
        assert await memberships.is_member(incident.channel_id, user.id) is True
    assert await memberships.is_member(incident.channel_id, w.carol.id) is False


async def test_the_reporters_direct_channel_is_asked_for_once(w: World) -> None:
    await w.start_incident(w.alice, "First")
    await w.start_incident(w.alice, "Second")
    assert "~second" in w.told(w.alice)
    direct = [r for r in w.mm.requests if r.path == "/api/v4/channels/direct"]
    assert len(direct) == 1
