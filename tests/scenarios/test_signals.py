"""Signals: a message that looks like an incident gets one offer to start one (issue 11)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.scenarios.chatting import bot_posts, say
from tests.scenarios.harness import PLAYBOOKS, World, world

SIGNALS = PLAYBOOKS.replace(
    """    team: acme
    broadcast_channel: ~ops-alerts""",
    """    team: acme
    signal_keywords: ["db down", "outage", "5xx"]
    signal_channels: [~town-square]
    broadcast_channel: ~ops-alerts""",
    1,
)


@pytest.fixture
async def ws(tmp_path: Path) -> AsyncIterator[World]:
    assert SIGNALS != PLAYBOOKS
    async with world(tmp_path, playbooks=SIGNALS) as built:
        yield built


async def test_a_matching_message_gets_one_offer_per_thread_and_playbook(ws: World) -> None:
    """Rule: one offer in the message's thread per thread and playbook, never more."""
    w = ws
    post = await say(w, w.carol, w.town.id, "Looks like the DB   Down again?")
    offers = bot_posts(w, w.town.id)
    assert len(offers) == 1
    offer = offers[0]
    assert offer["root_id"] == post["id"] and "Outage" in offer["message"]
    # more matches in the same thread, and the same message again: no second offer
    await say(w, w.bob, w.town.id, "yes, outage confirmed", root_id=post["id"])
    frame = next(
        e for e in w.mm.events if e["event"] == "posted" and post["id"] in e["data"]["post"]
    )
    w.mm.redeliver(frame)
    await say(w, w.alice, w.town.id, "plain chatter, nothing to see")
    assert len(bot_posts(w, w.town.id)) == 1
    # a new thread may get its own offer, also after a restart of warroom
    await w.restart()
    await say(w, w.alice, w.town.id, "seeing 5xx on checkout")
    assert len(bot_posts(w, w.town.id)) == 2


async def test_the_offer_opens_the_start_dialog_with_the_playbook_and_the_message(
    ws: World,
) -> None:
    w = ws
    post = await say(w, w.bob, w.town.id, "DB down in eu-west")
    offer = bot_posts(w, w.town.id)[0]
    await w.click(w.bob, offer["id"], "Start incident")
    dialog = w.dialog(w.bob)["dialog"]
    elements = {e["name"]: e for e in dialog["elements"]}
    assert elements["playbook"]["default"] == w.playbook_id("Outage", w.bob)
    assert "DB down in eu-west" in elements["description"]["default"]
    assert f"/pl/{post['id']}" in elements["description"]["default"]


async def test_bots_words_and_other_channels_raise_no_offer(ws: World) -> None:
    w = ws
    pager = w.mm.add_user("pagerbot", teams=[w.team.id], bot=True)
    w.mm.seed_member(w.town.id, pager.id)
    await say(w, pager, w.town.id, "OUTAGE detected")
    await say(w, w.carol, w.ops.id, "outage somewhere")
    await say(w, w.carol, w.town.id, "the outages page is fine")  # not the whole word
    assert bot_posts(w, w.town.id) == [] and bot_posts(w, w.ops.id) == []
