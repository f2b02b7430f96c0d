"""End, restart, info, list, commander, announce, help — and who may do them."""

from bot.domain.models import IncidentStatus
from tests.scenarios.harness import World


async def test_end_asks_to_confirm_then_ends_and_refuses_twice(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    reply = await w.command(w.bob, "end", incident.channel_id)
    assert reply["text"] == ""
    confirm = w.dialog(w.bob)
    assert confirm["dialog"]["callback_id"] == "end"
    assert await w.submit(w.bob, {}, confirm) == {}
    ended = await w.reload(incident)
    assert ended.status is IncidentStatus.ENDED and ended.ended_at is not None
    assert any("@bob ended the incident" in t for t in w.messages(incident.channel_id))
    assert w.card_field(ended, "Status") == "Ended"
    assert [a["name"] for a in w.card(ended)["actions"]] == ["Restart incident"]
    again = await w.command(w.bob, "end", incident.channel_id)
    assert "already ended" in again["text"]
    replay = await w.submit(w.bob, {}, confirm)
    assert replay.get("error")
    events = [e.kind.value for e in await w.app.services.incidents.store.timeline(incident.id)]
    assert events == ["created", "ended"]


async def test_restart_reopens_and_refuses_an_ongoing_incident(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    refused = await w.command(w.alice, "restart", incident.channel_id)
    assert "ongoing" in refused["text"]
    await w.command(w.alice, "end", incident.channel_id)
    await w.submit(w.alice, {}, w.dialog(w.alice))
    await w.command(w.alice, "restart", incident.channel_id)
    restarted = await w.reload(incident)
    assert restarted.is_ongoing and restarted.ended_at is None
    assert any("@alice restarted the incident" in t for t in w.messages(incident.channel_id))
    assert w.card_field(restarted, "Status") == "Ongoing"


async def test_card_buttons_end_and_restart(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await w.click(w.bob, incident.card_post_id, "End incident")
    await w.submit(w.bob, {}, w.dialog(w.bob))
    assert not (await w.reload(incident)).is_ongoing
    await w.click(w.bob, incident.card_post_id, "Restart incident")
    assert (await w.reload(incident)).is_ongoing


async def test_commands_outside_an_incident_channel_say_so(w: World) -> None:
    for sub in ("end", "restart", "info", "commander", "announce ~x"):
        reply = await w.command(w.alice, sub)
        assert "not an incident channel" in reply["text"], sub


async def test_info_summarises_the_incident(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    text = (await w.command(w.bob, "info", incident.channel_id))["text"]
    for expected in (
        "Disk full",
        "@alice",
        "Ongoing",
        "Triage",
        "Acknowledge the alert",
        "none yet",
    ):
        assert expected in text
    extra = await w.command(w.bob, "info now later", incident.channel_id)
    assert "Too many arguments" in extra["text"]
    assert "Usage: `/incident info [~channel]`" in extra["text"]


async def test_list_shows_what_each_persona_may_see(w: World) -> None:
    assert "no ongoing incidents" in (await w.command(w.alice, "list"))["text"]
    private = await w.start_incident(w.alice, "Secret thing", playbook="Security")
    public = await w.start_incident(w.carol, "Public drill run", playbook="Public drill")
    alice_sees = (await w.command(w.alice, "list"))["text"]
    assert f"~{private.channel_name}" in alice_sees and f"~{public.channel_name}" in alice_sees
    assert alice_sees.index(public.channel_name) < alice_sees.index(private.channel_name)
    bob_sees = (await w.command(w.bob, "list"))["text"]
    assert private.channel_name not in bob_sees and public.channel_name in bob_sees
    admin_sees = (await w.command(w.admin, "list"))["text"]
    assert private.channel_name in admin_sees
    await w.command(w.carol, "end", public.channel_id)
    await w.submit(w.carol, {}, w.dialog(w.carol))
    assert public.channel_name not in (await w.command(w.alice, "list"))["text"]


async def test_commander_show_change_and_errors(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    ch = incident.channel_id
    assert "@alice" in (await w.command(w.bob, "commander", ch))["text"]
    assert (await w.command(w.bob, "commander @bob", ch))["text"] == ""
    assert (await w.reload(incident)).commander_id == w.bob.id
    assert any("@bob changed the commander from @alice to @bob" in t for t in w.messages(ch))
    assert w.card_field(incident, "Commander") == "@bob"
    assert "already the commander" in (await w.command(w.alice, "commander @bob", ch))["text"]
    assert (
        "not a member of the incident channel"
        in (await w.command(w.alice, "commander @carol", ch))["text"]
    )
    # someone outside the team can't be added, so the answer does not say to add them
    outside = (await w.command(w.alice, "commander @dave", ch))["text"]
    assert "not in this team" in outside and "add them first" not in outside
    assert "no user `@nobody`" in (await w.command(w.alice, "commander @nobody", ch))["text"]
    assert "Too many arguments" in (await w.command(w.alice, "commander @a @b", ch))["text"]
    assert "not a username" in (await w.command(w.alice, "commander <b>", ch))["text"]
    assert "can't be the commander" in (await w.command(w.alice, "commander @warroom", ch))["text"]
    history = await w.app.services.incidents.store.commanders(incident.id)
    assert [uid for uid, _ in history] == [w.alice.id, w.bob.id]


async def test_announce_reports_per_channel(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    reply = await w.command(w.alice, "announce ~town-square ~nosuch", incident.channel_id)
    assert "Announced in ~town-square" in reply["text"]
    assert "~nosuch: no channel of that name that you can read" in reply["text"]
    assert any("Disk full" in t for t in w.messages(w.town.id))
    missing = await w.command(w.alice, "announce", incident.channel_id)
    assert "missing" in missing["text"] and "Usage" in missing["text"]
    bad = await w.command(w.alice, "announce #general", incident.channel_id)
    assert "not a channel" in bad["text"]


async def test_help_and_unknown_subcommands(w: World) -> None:
    for text in ("", "help"):
        reply = await w.command(w.alice, text)
        assert "/incident start" in reply["text"] and "/incident announce" in reply["text"]
    unknown = await w.command(w.alice, "frobnicate now")
    assert "don't know `frobnicate`" in unknown["text"] and "/incident start" in unknown["text"]


async def test_non_member_of_a_public_incident_channel_is_refused(w: World) -> None:
    incident = await w.start_incident(w.alice, "Open drill", playbook="Public drill")
    assert w.carol.id not in w.mm.channel_members(incident.channel_id)
    # the server refuses the click itself: read_channel is a channel-member permission
    # (5.36 api4/integration_action.go), so warroom is never asked
    refused = await w.click(w.carol, incident.card_post_id, "End incident")
    assert refused.status == 403
    assert w.mm.dialogs(w.carol.id) == []
    assert (await w.reload(incident)).is_ongoing
    # an admin may, without being a member
    await w.click(w.admin, incident.card_post_id, "End incident")
    assert w.dialog(w.admin)["dialog"]["callback_id"] == "end"
