"""Talking to warroom: direct messages and @mentions, driven as people chat (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fake_clock import FakeClock
from tests.scenarios.chatting import (
    answer_to_mention,
    bot_posts,
    delivered,
    dm,
    dm_channel_id,
    last_answer,
    say,
    slash,
)
from tests.scenarios.harness import World, world


def acks(w: World, post_id: str) -> list[str]:
    return [r.emoji_name for r in w.mm.state.reactions.get(post_id, []) if r.user_id == w.bot.id]


def labels(post: dict[str, Any]) -> list[str]:
    return [a["name"] for att in post["props"].get("attachments", []) for a in att["actions"]]


# ---- one parser, one dispatcher: the rule -----------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "list",
        "stats 30",
        "playbook list",
        "playbook show outage",
        "timeline ~major-outage",
        "info ~major-outage",
        "review ~major-outage",
        "severity",
        "commander",
        "restart",
        "check 1 1",
        "stage next",
        "task add 1 Call the vendor",
        "frobnicate",
    ],
)
async def test_every_command_answers_by_dm_and_mention_exactly_as_by_slash(
    w: World, text: str
) -> None:
    """Rule: a command typed to warroom in a DM, or after @warroom in a channel, runs the
    slash command's handler there with the same rights and gives the same answer (refusals
    included), for members and outsiders alike."""
    incident = await w.start_incident(w.alice, "Major outage")
    for user in (w.alice, w.carol):
        for channel_id, message in (
            (dm_channel_id(w, user), text),
            (w.town.id, f"@warroom {text}"),
        ):
            typed = await slash(w, user, text, channel_id)
            if channel_id == w.town.id:
                await say(w, user, channel_id, message)
                answer = answer_to_mention(w, user, "town-square")
            else:
                await dm(w, user, message)
                answer = last_answer(w, user)["message"]
            if text == "frobnicate":  # chat answers unknown words briefly, not with the manual
                assert "don't know `frobnicate`" in answer and "don't know `frobnicate`" in typed
                assert len(answer) < len(typed)
                continue
            assert answer == typed, (user.username, channel_id, text)
    assert (await w.reload(incident)).is_ongoing
    assert bot_posts(w, w.town.id) == []


async def test_mentions_answer_like_the_slash_command_in_the_same_channel(w: World) -> None:
    """`@warroom <command>` in a channel is the slash command run there: the summary of the
    channel's incident in the mention's thread, anything else to the asker alone (the plain
    bot may not post ephemerals: by direct message)."""
    incident = await w.start_incident(w.alice, "Disk full")
    slash = (await w.command(w.bob, "info", incident.channel_id))["text"]
    post = await say(w, w.bob, incident.channel_id, "@warroom status")
    in_thread = [p for p in bot_posts(w, incident.channel_id) if p["root_id"] == post["id"]]
    assert [p["message"] for p in in_thread] == [slash]
    assert "Disk full" in slash
    private = (await w.command(w.bob, "timeline", incident.channel_id))["text"]
    await say(w, w.bob, incident.channel_id, "@warroom timeline")
    assert answer_to_mention(w, w.bob, incident.channel_name) == private
    outside = (await w.command(w.carol, "severity", w.town.id))["text"]
    await say(w, w.carol, w.town.id, "hey @warroom   SEVERITY")
    assert answer_to_mention(w, w.carol, "town-square") == outside
    await say(w, w.carol, w.town.id, "@warroom status")  # refused: to carol alone
    assert "not an incident channel" in last_answer(w, w.carol)["message"]
    assert bot_posts(w, w.town.id) == []


# ---- direct messages --------------------------------------------------------------------


async def test_help_in_a_dm_lists_the_commands_with_a_start_button(w: World) -> None:
    await dm(w, w.alice, "help")
    answer = last_answer(w, w.alice)
    assert "without `/incident`" in answer["message"]
    assert "/incident start" in answer["message"]
    assert labels(answer) == ["Start incident"]
    await w.click(w.alice, answer["id"], "Start incident")
    assert w.dialog(w.alice)["dialog"]["callback_id"] == "start"


async def test_case_extra_spaces_and_a_leading_incident_are_forgiven(w: World) -> None:
    for text in ("  Incident   LIST ", "/incident list", "LIST"):
        await dm(w, w.alice, text)
        assert "ongoing incidents" in last_answer(w, w.alice)["message"].lower() or (
            "no ongoing" in last_answer(w, w.alice)["message"].lower()
        )
    answers = [p["message"] for p in bot_posts(w, dm_channel_id(w, w.alice))]
    assert len(answers) == 3 and len(set(answers)) == 1


async def test_a_near_miss_gets_a_did_you_mean_and_not_the_manual(w: World) -> None:
    await dm(w, w.alice, "chekc 1 1")
    answer = last_answer(w, w.alice)["message"]
    assert "Did you mean `check`?" in answer
    assert "/incident announce" not in answer
    await dm(w, w.alice, "good morning!")
    assert "don't know `good`" in last_answer(w, w.alice)["message"]


async def test_start_with_a_name_answers_with_a_button_that_opens_the_prefilled_dialog(
    w: World,
) -> None:
    await dm(w, w.alice, "start Payments down")
    answer = last_answer(w, w.alice)
    assert labels(answer) == ["Start incident"]
    assert w.mm.dialogs(w.alice.id) == []
    # only the asker may use it
    await w.click(w.bob, answer["id"], "Start incident")
    assert w.mm.dialogs(w.bob.id) == []
    await w.click(w.alice, answer["id"], "Start incident")
    dialog = w.dialog(w.alice)["dialog"]
    name = next(e for e in dialog["elements"] if e["name"] == "name")
    assert (dialog["callback_id"], name["default"]) == ("start", "Payments down")
    result = await w.submit(w.alice, {"playbook": w.playbook_id("Outage"), "name": "Payments down"})
    assert result == {}
    assert (await w.incident_named("Payments down")).commander_id == w.alice.id


async def test_a_complete_one_line_start_starts_at_once(w: World) -> None:
    post = await dm(w, w.alice, 'start "DB down" with "outage" sev sev2')
    incident = await w.incident_named("DB down")
    assert (incident.playbook_title, incident.severity) == ("Outage", "SEV2")
    assert incident.commander_id == w.alice.id
    assert acks(w, post["id"]) == ["white_check_mark"]
    # the same rights as the dialog: carol may not use the Outage playbook
    await dm(w, w.carol, "start Outage two with Outage")
    assert "no playbook `Outage` you may use" in last_answer(w, w.carol)["message"]
    # and the same checks
    await dm(w, w.alice, "start X with Outage")
    assert "2 to 64 characters" in last_answer(w, w.alice)["message"]
    await dm(w, w.alice, "start Disk with Outage sev SEV9")
    assert "SEV1, SEV2" in last_answer(w, w.alice)["message"]
    # one parser: the slash command takes the same line
    await w.command(w.bob, 'start "Slash quick" with out')
    assert (await w.incident_named("Slash quick")).commander_id == w.bob.id


async def test_a_dm_in_a_thread_is_answered_in_that_thread(w: World) -> None:
    first = await dm(w, w.alice, "list")
    await dm(w, w.alice, "stats 7", root_id=first["id"])
    answer = last_answer(w, w.alice)
    assert answer["root_id"] == first["id"] and "7 days" in answer["message"]
    assert bot_posts(w, dm_channel_id(w, w.alice))[0]["root_id"] == ""


async def test_a_dm_names_its_team_when_the_person_shares_several(w: World) -> None:
    ops = w.mm.add_team("ops")
    w.mm.add_team_member(ops.id, w.alice.id)
    w.mm.add_team_member(ops.id, w.bot.id)
    await dm(w, w.alice, "list")
    assert "`acme`, `ops`" in last_answer(w, w.alice)["message"]
    await dm(w, w.alice, "playbook list in acme")
    assert "Outage" in last_answer(w, w.alice)["message"]
    await dm(w, w.alice, "playbook list in ops")
    assert "Outage" not in last_answer(w, w.alice)["message"]
    # a word that is no command needs no team: the did-you-mean, not the team question
    await dm(w, w.alice, "chekc 1 1")
    assert "Did you mean `check`?" in last_answer(w, w.alice)["message"]
    # someone who shares no team with the bot is told so
    await dm(w, w.dave, "list")
    assert "share no team" in last_answer(w, w.dave)["message"]


# ---- @mentions --------------------------------------------------------------------------


async def test_mention_end_asks_to_confirm_with_a_button_and_applies_to_that_incident(
    w: World,
) -> None:
    incident = await w.start_incident(w.alice, "Checkout errors")
    await say(w, w.bob, incident.channel_id, "@warroom end")
    offer = last_answer(w, w.bob)
    assert labels(offer) == ["End incident"]
    await w.click(w.bob, offer["id"], "End incident")
    dialog = w.dialog(w.bob)
    assert dialog["dialog"]["callback_id"] == "end"
    assert await w.submit(w.bob, {}, dialog) == {}
    assert not (await w.reload(incident)).is_ongoing


async def test_a_mention_that_changes_something_is_acknowledged_with_a_reaction(
    w: World,
) -> None:
    incident = await w.start_incident(w.alice, "Latency")
    post = await say(w, w.alice, incident.channel_id, "@warroom commander @bob")
    assert (await w.reload(incident)).commander_id == w.bob.id
    assert acks(w, post["id"]) == ["white_check_mark"]


async def test_a_mention_answered_by_direct_message_says_which_message_it_answers(
    w: World,
) -> None:
    """Rule: an answer that leaves the place it was asked in names that place. Read in the
    DM, "This channel is not an incident channel" or "The commander is @alice" would be
    about the DM, or about no incident in particular, so the answer to a mention sent by
    direct message (the plain bot may not post ephemerals) starts by naming the channel of
    the mention."""
    first = await w.start_incident(w.alice, "Disk full")
    second = await w.start_incident(w.bob, "Checkout errors")
    await say(w, w.alice, w.town.id, "@warroom end")
    refused = last_answer(w, w.alice)["message"]
    assert refused.startswith("About your message in ~town-square:\n")
    assert "not an incident channel" in refused
    await say(w, w.bob, first.channel_id, "@warroom commander")
    assert last_answer(w, w.bob)["message"] == (
        f"About your message in ~{first.channel_name}:\nThe commander is @alice."
    )
    await say(w, w.bob, second.channel_id, "@warroom commander")
    assert last_answer(w, w.bob)["message"] == (
        f"About your message in ~{second.channel_name}:\nThe commander is @bob."
    )
    await dm(w, w.bob, "list")  # asked in the DM: answered there, no preamble
    assert not last_answer(w, w.bob)["message"].startswith("About your message")


async def test_a_bare_mention_gets_a_pointer(w: World) -> None:
    await say(w, w.alice, w.town.id, "thanks @warroom")
    assert "@warroom help" in last_answer(w, w.alice)["message"]


async def test_a_message_too_long_for_its_field_is_told_so(w: World) -> None:
    await dm(w, w.alice, "start " + "x" * 5000)
    assert "must be 2 to 64 characters" in last_answer(w, w.alice)["message"]


# ---- safety -----------------------------------------------------------------------------


async def test_bots_webhooks_and_system_posts_are_never_answered(w: World) -> None:
    other = w.mm.add_user("pagerbot", teams=[w.team.id], bot=True)
    w.mm.seed_member(w.town.id, other.id)
    await say(w, other, w.town.id, "@warroom help")
    await dm(w, other, "help")
    await w.mm.user_post(w.alice, w.town.id, "@warroom help", props={"from_webhook": "true"})
    await delivered(w)
    assert bot_posts(w, dm_channel_id(w, other)) == []
    assert bot_posts(w, dm_channel_id(w, w.alice)) == []
    assert bot_posts(w, w.town.id) == []
    # warroom's own posts never trigger it: one answer per question, no loop
    await dm(w, w.alice, "help @warroom")
    await say(w, w.alice, w.town.id, "@warroom chekc")
    assert len(bot_posts(w, dm_channel_id(w, w.alice))) == 2


async def test_editing_a_command_does_not_run_it_again(w: World) -> None:
    post = await dm(w, w.alice, 'start "Edit me" with Outage')
    await w.mm.edit_post(w.alice, post["id"], 'start "Edit me" with Outage sev SEV1')
    await delivered(w)
    started = [
        i for i in await w.app.services.incidents.store.list_team(w.team.id) if i.name == "Edit me"
    ]
    assert len(started) == 1 and started[0].severity == ""


async def test_a_message_delivered_twice_runs_once_also_after_a_restart(w: World) -> None:
    await dm(w, w.alice, 'start "Twice" with Outage')
    frame = next(e for e in w.mm.events if e["event"] == "posted" and "Twice" in e["data"]["post"])
    w.mm.redeliver(frame)
    await delivered(w)
    await w.restart()
    w.mm.redeliver(frame)
    await delivered(w)
    named = [i for i in await w.app.services.incidents.store.list_team(w.team.id)]
    assert [i.name for i in named].count("Twice") == 1
    assert json.loads(frame["data"]["post"])["message"] == 'start "Twice" with Outage'


async def test_someone_who_sends_too_fast_is_told_once_then_ignored(w: World) -> None:
    limiter = w.app.chat.conversation.limiter
    limiter.refill_ms = 10**9  # no refill during the test, however slow the machine
    for _ in range(limiter.burst):
        await dm(w, w.alice, "list")
    await dm(w, w.alice, "list")
    assert "faster than I take them" in last_answer(w, w.alice)["message"]
    answered = len(bot_posts(w, dm_channel_id(w, w.alice)))
    await dm(w, w.alice, "list")
    assert len(bot_posts(w, dm_channel_id(w, w.alice))) == answered
    # others are not affected
    await dm(w, w.bob, "list")
    assert "faster" not in last_answer(w, w.bob)["message"]


@pytest.mark.parametrize("text", ["end", "update", "task add 1", "stage next", "playbook create"])
async def test_every_command_that_opens_a_dialog_offers_it_as_a_button(w: World, text: str) -> None:
    """Rule: chat has no trigger id; any command that opens a dialog answers with a button,
    for the asker only, whose click opens the same dialog as the slash command would."""
    incident = await w.start_incident(w.alice, "Dialogs")
    await w.command(w.alice, text, incident.channel_id)
    expected = w.dialog(w.alice)["dialog"]
    await say(w, w.alice, incident.channel_id, f"@warroom {text}")
    offer = last_answer(w, w.alice)
    assert labels(offer) == [expected["title"]]
    await w.click(w.bob, offer["id"], expected["title"])  # not bob's button
    assert w.mm.dialogs(w.bob.id) == []
    await w.click(w.alice, offer["id"], expected["title"])
    opened = w.dialog(w.alice)["dialog"]
    assert (opened["callback_id"], opened["title"]) == (expected["callback_id"], expected["title"])


async def test_dms_written_while_the_stream_was_down_are_answered_once_after_it(
    w: World,
) -> None:
    """5.36 replays nothing after a reconnect: warroom re-reads the direct channels it
    talks in; what it answered live is not run again."""
    await dm(w, w.alice, 'start "Live one" with Outage')
    await w.mm.wait_until(lambda: w.app.resync.runs >= 1)
    runs = w.app.resync.runs
    await w.mm.drop_websockets()
    channel = dm_channel_id(w, w.alice)
    w.mm.seed_posts(channel, w.alice, ['start "While away" with Outage'])  # no event
    await w.mm.wait_until(lambda: w.app.resync.runs > runs and w.app.listener.connected)
    await delivered(w)
    names = [i.name for i in await w.app.services.incidents.store.list_team(w.team.id)]
    assert sorted(names) == ["Live one", "While away"]
    runs = w.app.resync.runs
    await w.mm.drop_websockets()  # and once more: nothing runs twice
    await w.mm.wait_until(lambda: w.app.resync.runs > runs and w.app.listener.connected)
    await delivered(w)
    names = [i.name for i in await w.app.services.incidents.store.list_team(w.team.id)]
    assert sorted(names) == ["Live one", "While away"]


# ---- what counts as talking to warroom --------------------------------------------------


async def test_a_channel_wide_mention_is_not_a_command_and_costs_nothing(w: World) -> None:
    """@here/@channel/@all put warroom in the event's ``mentions`` (5.36 app/notification.go
    addMentionKeywordsForUser: channel mentions are on by default, @here while online), but
    nobody spoke to it: no answer, and no share of the person's rate limit."""
    limiter = w.app.chat.conversation.limiter
    limiter.refill_ms = 10**9  # no refill during the test, however slow the machine
    for i in range(limiter.burst + 2):
        await say(w, w.alice, w.town.id, f"@here deploy {i} is done")
    assert bot_posts(w, dm_channel_id(w, w.alice)) == []
    await say(w, w.alice, w.town.id, "@warroom list")
    assert "faster" not in last_answer(w, w.alice)["message"]


@pytest.mark.parametrize(
    "message",
    [
        "**@warroom** list",  # markdown around the mention: the server reads the text
        "@warroom_ list",  # a trailing `_` ends the name (processText strips .-:_)
        "`@warroom` is our bot; @warroom list",  # a mention in code is no mention
        "@warroom - list",
    ],
)
async def test_a_mention_written_any_way_the_server_reads_it_runs_the_command(
    w: World, message: str
) -> None:
    """Rule: warroom finds its mention the way Mattermost 5.36 does (app/notification.go
    processText: words split at characters a name cannot hold, ``.-:_`` trimmed, markdown
    code not read) and takes the command from the text after it."""
    typed = await slash(w, w.alice, "list", w.town.id)
    await say(w, w.alice, w.town.id, message)
    assert answer_to_mention(w, w.alice, "town-square") == typed


async def test_a_dm_that_starts_with_the_mention_is_the_command_after_it(w: World) -> None:
    """People write `@warroom list` in the DM too, out of habit."""
    typed = await slash(w, w.alice, "list", dm_channel_id(w, w.alice))
    await dm(w, w.alice, "@warroom list")
    assert last_answer(w, w.alice)["message"] == typed


async def test_a_dm_with_only_a_file_gets_the_short_pointer_not_the_manual(w: World) -> None:
    await w.mm.post_file(w.alice, dm_channel_id(w, w.alice), "graph.png", b"\x89PNG")
    await delivered(w)
    answer = last_answer(w, w.alice)["message"]
    assert "didn't catch a command" in answer and "/incident announce" not in answer


async def test_after_the_bot_is_renamed_its_new_mention_is_understood(w: World) -> None:
    """An admin renames the bot (``user_updated``): Mattermost now mentions it by the new
    name only, so warroom must read its name as the server has it, not as it was at start."""
    await w.mm.rename_user(w.admin, w.bot, "incidents")
    await delivered(w)
    typed = await slash(w, w.alice, "list", w.town.id)
    await say(w, w.alice, w.town.id, "@incidents list")
    assert answer_to_mention(w, w.alice, "town-square") == typed
    await dm(w, w.alice, "help")
    assert "`@incidents`" in last_answer(w, w.alice)["message"]


async def test_an_account_that_auto_replies_to_warroom_does_not_loop_with_it(
    tmp_path: Path,
) -> None:
    """Rule: warroom answers at most three messages in a row that are no command; the
    third answer says so, and it stays quiet to such messages until a command comes.
    An integration using a person's account (not marked as a bot) that answers every
    message it gets would otherwise keep a DM going forever at the rate limit's pace."""
    clock = FakeClock()
    async with world(tmp_path, clock=clock) as w:
        await dm(w, w.alice, "hello")
        for _ in range(60):  # five minutes of an auto-responder answering each answer
            clock.advance(seconds=5)
            await dm(w, w.alice, "Auto-reply: I'm away until Monday.")
        answers = bot_posts(w, dm_channel_id(w, w.alice))
        assert len(answers) == 3
        assert "until you send a command" in answers[-1]["message"]
        await dm(w, w.alice, "list")  # a command: answered, and pointers are back
        assert "ongoing incidents" in last_answer(w, w.alice)["message"]
        await dm(w, w.alice, "hello again")
        assert "don't know `hello`" in last_answer(w, w.alice)["message"]
