"""A checklist for every valid playbook: a stage too long for one post spans several.

Mattermost refuses a post whose props exceed 8,000 characters (the double enforces it as the
5.36 server does, tests/double_tests/test_post_limits.py): before, a stage of a few long
tasks — or the built-in template's first stage of 10 — never got its checklist.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain.limits import STAGE_TITLE, TASK_COMMAND, TASK_TITLE
from bot.domain.models import Incident, TaskState
from bot.render.keys import key_of
from bot.services.checklist_posts import checklist_key
from tests.double.faults import ActThenDrop
from tests.scenarios.harness import PLAYBOOKS, World, world

json_str = json.dumps  # a JSON string is a valid YAML double-quoted scalar
LONG = "Check the <load balancer> & the *primary* [db] before paging — " * 4
LONG_TASKS = "\n".join(
    f"          - title: {json_str(f'{n}. {LONG}'[: TASK_TITLE.most])}\n"
    f"            command: /echo step {n} {'x' * (TASK_COMMAND.most - 20)}\n"
    f"            description: {json_str('Notes ' * 300)}"
    for n in range(1, 7)
)

MANY_LONG_TASKS = "\n".join(
    f"          - title: {json_str(f'{n}. {LONG}'[: TASK_TITLE.most])}\n"
    f"            command: /echo step {n} {'x' * (TASK_COMMAND.most - 20)}"
    for n in range(1, 25)
)


LONG_STAGE = f"""
  - title: Long titles
    team: acme
    invite: ["@bob"]
    members: ["@alice", "@bob"]
    stages:
      - title: {json_str(("Triage & <containment> " * 8)[: STAGE_TITLE.most])}
        tasks:
{LONG_TASKS}
          - title: Short one
      - title: After
        tasks:
          - title: Done
  - title: Rooms in titles
    team: acme
    members: ["@alice", "@bob"]
    stages:
      - title: {json_str(" ".join(f"~room-{n:02}" for n in range(1, 16)))}
        tasks:
{MANY_LONG_TASKS}
"""


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path, PLAYBOOKS + LONG_STAGE) as built:
        yield built


# ---- reading the checklist as people see it ------------------------------------------------


def pages(w: World, incident: Incident) -> list[dict[str, Any]]:
    """The checklist's posts, as stored by Mattermost, in the order warroom keeps them."""
    found = []
    for post_id in incident.checklist_post_ids:
        post = w.mm.get_post(post_id)
        assert post is not None, post_id
        found.append(post)
    return found


def task_rows(w: World, incident: Incident) -> list[tuple[str, dict[str, Any]]]:
    """(post id, attachment) of every task row, across all pages, in order."""
    return [
        (post["id"], a)
        for post in pages(w, incident)
        for a in post["props"]["attachments"]
        if a.get("text", "").startswith("**")
    ]


async def click_row(w: World, user: Any, incident: Incident, number: int, label: str) -> Any:
    post_id, row = task_rows(w, incident)[number - 1]
    action = next(a for a in row["actions"] if a["name"] == label)
    result = await w.mm.click(user, post_id, action["id"])
    await w.settle()
    return result


def edit_at(w: World, post_id: str) -> int:
    post = w.mm.get_post(post_id)
    assert post is not None
    return int(post["edit_at"])


def assert_rows_numbered(w: World, incident: Incident, count: int) -> None:
    rows = task_rows(w, incident)
    assert [r["text"].split("**")[1] for _, r in rows] == [f"{n}." for n in range(1, count + 1)]
    for _, row in rows:
        assert [a["name"] for a in row["actions"]][:2] in (
            ["Check", "Assign"],
            ["Uncheck", "Assign"],
        )


# ---- the cases ----------------------------------------------------------------------------


async def test_an_incident_from_the_builtin_template_gets_its_whole_checklist(w: World) -> None:
    await w.command(w.bob, "playbook create")
    form = {
        "title": "Database down",
        "start_from": "template",
        "description": "",
        "stages": "",
        "private": True,
        "broadcast": "",
        "reminder": "0",
        "status_template": "",
        "invite": "",
        "team_wide": False,
    }
    assert await w.submit(w.bob, form) == {}
    incident = await w.start_incident(w.bob, "Primary db gone", playbook="Database down")
    incident = await w.reload(incident)
    assert len(incident.stages[0].tasks) == 10
    assert incident.checklist_post_ids, "no checklist was posted"
    assert_rows_numbered(w, incident, 10)
    assert pages(w, incident)[-1]["props"]["attachments"][-1]["fallback"] == "Stage actions"
    assert (await click_row(w, w.bob, incident, 10, "Check")).status == 200
    assert (await w.reload(incident)).stages[0].tasks[9].state is TaskState.DONE


async def test_a_stage_of_seven_tasks_with_long_titles_gets_its_checklist(w: World) -> None:
    incident = await w.reload(await w.start_incident(w.alice, "Slow site", playbook="Long titles"))
    assert incident.checklist_post_ids, "no checklist was posted"
    assert_rows_numbered(w, incident, 7)
    rows = task_rows(w, incident)
    assert "Check the <load balancer> & the *primary*" in rows[0][1]["text"]  # as written
    assert "Info" in [a["name"] for a in rows[0][1]["actions"]]
    for number in (1, 7):
        assert (await click_row(w, w.bob, incident, number, "Check")).status == 200
    saved = await w.reload(incident)
    assert [t.state for t in saved.stages[0].tasks].count(TaskState.DONE) == 2
    assert "2/7 done" in pages(w, saved)[0]["props"]["attachments"][0]["text"]


async def test_channel_mentions_in_a_stage_title_do_not_push_a_continued_page_over_the_limit(
    w: World,
) -> None:
    """A continued page names its stage in the message; Mattermost adds a
    ``props.channel_mentions`` entry for every ``~name`` of a public channel there (5.36
    app/post.go FillInPostProps), which counts towards the 8,000-rune props limit."""
    for n in range(1, 16):
        w.mm.add_channel(
            w.team.id, f"room-{n:02}", display_name=f"Room {n:02} " + "w" * 56, members=[]
        )
    incident = await w.reload(
        await w.start_incident(w.alice, "Crowded", playbook="Rooms in titles")
    )
    assert len(incident.checklist_post_ids) > 2
    assert_rows_numbered(w, incident, 24)
    later = pages(w, incident)[1]
    assert "channel_mentions" not in later["props"]
    assert "room-01" in later["message"].replace("\u2060", "")  # reads as written
    assert (await click_row(w, w.alice, incident, 24, "Check")).status == 200
    assert (await w.reload(incident)).stages[0].tasks[23].state is TaskState.DONE


async def test_task_add_grows_a_stage_past_30_tasks_and_every_row_stays_clickable(
    w: World,
) -> None:
    incident = await w.start_incident(w.alice, "Growing")
    for n in range(4, 33):
        title = f"Task {n}: verify <replica> {n} & its *backups* " * 2
        await w.command(w.alice, f"task add 1 {title.strip()}", incident.channel_id)
    incident = await w.reload(incident)
    assert len(incident.stages[0].tasks) == 32
    assert len(incident.checklist_post_ids) > 1
    assert_rows_numbered(w, incident, 32)
    second_page = incident.checklist_post_ids[1]
    on_second = [n for n, (post, _) in enumerate(task_rows(w, incident), 1) if post == second_page]
    assert on_second, "the second page shows no task"
    # Clicks on a later page work like clicks on the first, and only the pages whose
    # content changed are sent again (the first shows the progress).
    edited = {p: w.mm.get_post(p)["edit_at"] for p in incident.checklist_post_ids}  # type: ignore[index]
    assert (await click_row(w, w.bob, incident, on_second[0], "Check")).status == 200
    changed = {
        p
        for p in incident.checklist_post_ids
        if w.mm.get_post(p)["edit_at"] != edited[p]  # type: ignore[index]
    }
    assert changed == {incident.checklist_post_ids[0], second_page}
    assert (await click_row(w, w.bob, incident, 32, "Check")).status == 200
    saved = await w.reload(incident)
    done = [n for n, t in enumerate(saved.stages[0].tasks, 1) if t.state is TaskState.DONE]
    assert done == [on_second[0], 32]
    assert task_rows(w, saved)[31][1]["text"].startswith("**32.** ☑")
    # Every page passed Mattermost's limits: each is a stored post, none was refused.
    assert all(w.mm.get_post(p) for p in saved.checklist_post_ids)


async def test_a_shrinking_stage_gives_back_its_pages_and_the_resync_repairs_a_deleted_one(
    w: World,
) -> None:
    incident = await w.reload(await w.start_incident(w.alice, "Shrink", playbook="Long titles"))
    first = incident.checklist_post_ids
    assert len(first) > 1
    # Someone deletes the second page by hand; the re-sync posts it (and those after) again.
    await w.mm.delete_post(w.admin, first[1])
    await w.app.resync.run()
    await w.settle()
    repaired = await w.reload(incident)
    assert repaired.checklist_post_id == first[0] and first[1] not in repaired.checklist_post_ids
    assert len(repaired.checklist_post_ids) == len(first)
    assert_rows_numbered(w, repaired, 7)
    # Moving on to a short stage removes the pages it no longer needs.
    for number in range(1, 8):
        await click_row(w, w.bob, repaired, number, "Check")
    await w.command(w.bob, "stage next", incident.channel_id)
    moved = await w.reload(incident)
    assert moved.active_stage == 1 and moved.checklist_post_ids == (first[0],)
    assert all(w.mm.get_post(p) is None for p in repaired.checklist_post_ids[1:])
    assert_rows_numbered(w, moved, 1)
    # Moving back grows it again: new posts at the end, under keys that may post again.
    await w.command(w.bob, "stage prev", incident.channel_id)
    back = await w.reload(incident)
    assert back.active_stage == 0 and len(back.checklist_post_ids) == len(first)
    assert back.checklist_post_ids[0] == first[0]
    assert_rows_numbered(w, back, 7)


async def test_a_lost_answer_to_a_page_post_never_posts_the_page_twice(w: World) -> None:
    incident = await w.reload(await w.start_incident(w.alice, "Lost", playbook="Long titles"))
    first = incident.checklist_post_ids
    assert len(first) > 1
    await w.mm.delete_post(w.admin, first[1])  # gone: the re-sync posts it again…
    lost = w.mm.faults.inject("POST", r"^/api/v4/posts$", ActThenDrop())  # …answer lost
    await w.app.resync.run()
    assert lost.fired == 1
    await w.app.resync.run()  # the next one finds the post it made instead of posting again
    await w.settle()
    repaired = await w.reload(incident)
    assert len(repaired.checklist_post_ids) == len(first)
    second = checklist_key(incident.id, 1)
    made = [p["id"] for p in w.mm.posts(incident.channel_id) if key_of(p["props"]) == second]
    assert made == [repaired.checklist_post_ids[1]]
    assert_rows_numbered(w, repaired, 7)


async def test_a_page_deleted_while_warroom_was_away_comes_back_with_its_next_change(
    w: World,
) -> None:
    """The re-sync does not look for pages deleted while warroom was not listening (that
    would be one read per page of every ongoing incident, docs/mattermost-objects.md): such a
    page comes back, with those after it, when what it shows next changes."""
    incident = await w.reload(await w.start_incident(w.alice, "Gap", playbook="Long titles"))
    first = incident.checklist_post_ids
    on_second = [n for n, (p, _) in enumerate(task_rows(w, incident), 1) if p == first[1]]
    runs = w.app.resync.runs
    await w.mm.drop_websockets()
    gone = w.mm.state.posts[first[1]]
    gone["delete_at"] = gone["update_at"] = gone["update_at"] + 1  # no event reaches warroom
    await w.mm.wait_until(lambda: w.app.resync.runs > runs and w.app.listener.connected)
    await w.settle()
    assert w.mm.get_post(first[1]) is None
    assert (await w.reload(incident)).checklist_post_ids == first  # not looked for
    await w.command(w.bob, f"check 1 {on_second[0]}", incident.channel_id)
    await w.settle()
    repaired = await w.reload(incident)
    assert repaired.checklist_post_id == first[0] and first[1] not in repaired.checklist_post_ids
    assert len(repaired.checklist_post_ids) == len(first)
    assert_rows_numbered(w, repaired, 7)
