"""A change's lines (bot/services/lines.py): said after the answer, in order, batched, once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import bot.services.effects as effects_module
from bot.domain.models import Incident
from bot.render.keys import keys_of
from tests.double.faults import ActThenDrop, Drop, Gate, Refuse
from tests.scenarios.harness import World, world

POSTS = r"^/api/v4/posts$"


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path) as built:
        yield built


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry at once (the tests wait for the outcome, never for a time)."""
    monkeypatch.setattr(effects_module, "RETRY_DELAYS_S", (0.0, 0.0, 0.0))


def said(w: World, incident: Incident) -> list[tuple[list[str], list[str]]]:
    """Each post of the channel that says change lines: (its keys, its lines), oldest first."""
    return [
        (keys, str(post["message"]).split("\n"))
        for post in w.mm.posts(incident.channel_id)
        if (keys := [k for k in keys_of(post["props"]) if k.startswith("notice:")])
    ]


async def toggle(w: World, incident: Incident, task: int) -> None:
    """``/incident check 1 <task>`` as alice; only the answer is awaited."""
    reply = await w.mm.run_command(w.alice, incident.channel_id, f"check 1 {task}")
    assert not reply.get("text"), reply  # a toggle is answered with nothing


async def test_a_toggle_is_answered_before_its_line_is_posted_and_the_line_arrives_once(
    w: World,
) -> None:
    """The rule: a change is answered once it is committed, not once Mattermost has the line."""
    incident = await w.start_incident(w.alice, "Disk full")
    gate = Gate()
    w.mm.faults.inject("POST", POSTS, gate)
    await toggle(w, incident, 1)
    await gate.reached.wait()  # the line's post is in flight, held by the server
    assert said(w, incident) == []
    assert [e.kind.value for e in await w.app.services.incidents.store.timeline(incident.id)][
        -1
    ] == "task_checked"  # already durable
    gate.opened.set()
    await w.settle()
    [(keys, lines)] = said(w, incident)
    assert len(keys) == 1 and lines == [
        "@alice checked off task 1 **Acknowledge the alert** (Triage)."
    ]


async def test_a_burst_of_toggles_is_said_in_fewer_posts_each_line_once_and_in_order(
    w: World,
) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    gate = Gate()
    w.mm.faults.inject("POST", POSTS, gate)
    tasks = [1, 2, 3, 1, 2, 1]
    for task in tasks:  # all answered while the first line's post is held
        await toggle(w, incident, task)
    gate.opened.set()
    await w.settle()
    posts = said(w, incident)
    keys = [k for post_keys, _ in posts for k in post_keys]
    lines = [line for _, post_lines in posts for line in post_lines]
    assert len(posts) == 2  # the first line alone, then the burst gathered behind it
    assert len(keys) == len(set(keys)) == len(tasks)
    titles = {1: "Acknowledge the alert", 2: "Find the owner", 3: "Announce"}
    state = dict.fromkeys(titles, False)
    expected = []
    for task in tasks:
        state[task] = not state[task]
        verb = "checked off" if state[task] else "unchecked"
        expected.append(f"@alice {verb} task {task} **{titles[task]}** (Triage).")
    assert lines == expected


async def test_a_batched_post_whose_answer_was_lost_is_found_by_every_key_it_carries(
    w: World,
) -> None:
    """Exactly once for batches: the look-up before posting again recognises each key of a
    post that said several lines, so none of them is said twice."""
    incident = await w.start_incident(w.alice, "Disk full")
    gate = Gate()
    w.mm.faults.inject("POST", POSTS, gate)
    w.mm.faults.inject("POST", POSTS, ActThenDrop(), nth=2)  # the burst's post: answer lost
    for task in (1, 2, 3):
        await toggle(w, incident, task)
    gate.opened.set()
    await w.settle()
    await w.app.resync.run()
    await w.settle()
    posts = said(w, incident)
    keys = [k for post_keys, _ in posts for k in post_keys]
    assert len(posts) == 2 and len(keys) == len(set(keys)) == 3
    assert len(posts[1][0]) == 2  # the lost one carried two keys, both found
    pending = [e for e in await w.app.services.incidents.outbox.store.unfinished()]
    assert pending == []


async def test_a_refused_batch_tells_each_author_once_and_the_lines_after_it_still_go_out(
    w: World,
) -> None:
    """Two people toggling in one channel while Mattermost refuses the batched post (the bot
    lost its right to post there, 403): each is told once, no line is posted twice, nothing
    stays pending, and the lines that came after the refusal are posted."""
    incident = await w.start_incident(w.alice, "Disk full")
    gate = Gate()
    w.mm.faults.inject("POST", POSTS, gate)
    w.mm.faults.inject("POST", POSTS, Refuse(403), nth=2)
    await toggle(w, incident, 1)
    await gate.reached.wait()
    for user, task in ((w.alice, 2), (w.bob, 3), (w.alice, 1)):
        reply = await w.mm.run_command(user, incident.channel_id, f"check 1 {task}")
        assert not reply.get("text"), reply
    gate.opened.set()
    await w.settle()
    await toggle(w, incident, 2)
    await w.settle()
    posts = said(w, incident)
    assert [len(keys) for keys, _ in posts] == [1, 1]  # the first, and the one after
    # Once per change: alice made two of the refused ones, bob one.
    assert w.told(w.alice).count("could not say so") == 2, w.told(w.alice)
    assert w.told(w.bob).count("could not say so") == 1, w.told(w.bob)
    assert await w.app.services.incidents.outbox.store.unfinished() == []


async def test_a_change_made_while_the_authors_of_given_up_lines_are_told_is_still_posted(
    w: World,
) -> None:
    """Mattermost fails every try of a line, so the worker gives up and tells its author;
    a change made while that author is being told must not fall between the worker that is
    leaving and the next one: its line is posted (not left pending until a re-sync)."""
    incident = await w.start_incident(w.alice, "Disk full")
    tries = 1 + len(effects_module.RETRY_DELAYS_S)
    w.mm.faults.inject("POST", POSTS, Drop(), times=tries)
    telling = Gate()  # alice is told by direct message, the next post
    w.mm.faults.inject("POST", POSTS, telling, nth=tries + 1)
    await toggle(w, incident, 1)
    await asyncio.wait_for(telling.reached.wait(), 10)  # given up: alice is being told
    await toggle(w, incident, 2)  # Mattermost takes posts again
    telling.opened.set()
    await w.settle()
    assert "could not say so" in w.told(w.alice)
    lines = [line for _, post_lines in said(w, incident) for line in post_lines]
    assert any("task 2" in line for line in lines), lines
