"""The interactive checklist: every button, the check/stage/task commands, who may, and races."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain.models import Incident, Playbook, TaskState, TimelineEvent
from tests.double.errors import MattermostHTTPError
from tests.double.faults import ActThenDrop, ActThenFail, FaultKind
from tests.scenarios.harness import PLAYBOOKS, World, world

OPEN_OUTAGE = """
  - title: Open outage
    team: acme
    private: false
    team_wide: true
    stages:
      - title: Look
        tasks:
          - title: Look around
      - title: Fix
        tasks:
          - title: Patch
"""


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path, PLAYBOOKS + OPEN_OUTAGE) as built:
        yield built


# ---- helpers ----------------------------------------------------------------------------


def checklist(w: World, incident: Incident) -> list[dict[str, Any]]:
    post = w.mm.get_post(incident.checklist_post_id)
    assert post is not None
    attachments: list[dict[str, Any]] = post["props"]["attachments"]
    return attachments


def task_row(w: World, incident: Incident, number: int) -> dict[str, Any]:
    """The attachment of task ``number`` (1-based) of the active stage."""
    return checklist(w, incident)[number]


def labels(attachment: dict[str, Any]) -> list[str]:
    return [a["name"] for a in attachment.get("actions", [])]


def action_id(w: World, incident: Incident, number: int, label: str) -> str:
    for action in task_row(w, incident, number)["actions"]:
        if action["name"] == label or action["id"].startswith(label):
            return str(action["id"])
    raise AssertionError(f"no {label} on task {number}")


def stage_action(w: World, incident: Incident, label: str) -> str:
    for action in checklist(w, incident)[-1]["actions"]:
        if action["name"] == label:
            return str(action["id"])
    raise AssertionError(f"no stage button {label}")


async def click(
    w: World, user: Any, incident: Incident, action: str, option: str | None = None
) -> Any:
    result = await w.mm.click(user, incident.checklist_post_id, action, selected_option=option)
    await w.settle()
    return result


async def click_task(
    w: World, user: Any, incident: Incident, number: int, label: str, option: str | None = None
) -> Any:
    return await click(w, user, incident, action_id(w, incident, number, label), option)


async def at_once(w: World, incident: Incident, *clicks: tuple[Any, ...]) -> list[int]:
    """Click ``(user, action id[, option])`` all at the same time; the HTTP statuses."""
    post = incident.checklist_post_id
    results = await asyncio.gather(
        *(
            w.mm.click(c[0], post, c[1], selected_option=c[2] if len(c) > 2 else None)
            for c in clicks
        )
    )
    await w.settle()
    return [r.status for r in results]


async def events(w: World, incident: Incident, kind: str = "") -> list[TimelineEvent]:
    found = await w.app.services.incidents._store.timeline(incident.id)
    return [e for e in found if not kind or e.kind.value == kind]


def lines(w: World, incident: Incident, needle: str) -> list[str]:
    """The lines of the channel's posts that say ``needle`` (changes made in a burst are
    said in one post, a line each)."""
    return [
        line for m in w.messages(incident.channel_id) for line in m.split("\n") if needle in line
    ]


async def expect_replies(w: World, channel_id: str, cases: dict[str, str], usage: str) -> None:
    """Each command (run by bob) is answered with its expected error and the usage line."""
    for text, expected in cases.items():
        reply = (await w.command(w.bob, text, channel_id))["text"]
        assert expected in reply, (text, reply)
        assert usage in reply, (text, reply)


async def task(w: World, incident: Incident, stage: int, number: int) -> Any:
    return (await w.reload(incident)).stages[stage - 1].tasks[number - 1]


# ---- the post ---------------------------------------------------------------------------


async def test_checklist_has_a_row_of_buttons_per_task_and_stage_buttons(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    rows = checklist(w, incident)
    assert rows[0]["title"] == "Stage 1/2: Triage" and rows[0]["text"] == "0/3 done"
    assert labels(rows[1]) == ["Check", "Assign"]
    assert labels(rows[2]) == ["Check", "Assign", "Info"]
    assert labels(rows[3]) == ["Check", "Assign", "Run"]
    assert "**1.** ☐ Acknowledge the alert" in rows[1]["text"]
    assert "has notes" in rows[2]["text"] and "`/echo incident under way`" in rows[3]["text"]
    assert rows[1]["actions"][1]["data_source"] == "users"
    assert labels(rows[-1]) == ["Next stage", "End incident"]
    assert "Next: Resolution" in rows[-1]["text"]
    ids = [a["id"] for r in rows for a in r.get("actions", [])]
    assert len(ids) == len(set(ids)) and all(i.isalnum() for i in ids)


# ---- check / uncheck --------------------------------------------------------------------


async def test_check_and_uncheck_buttons(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    result = await click_task(w, w.bob, incident, 1, "Check")
    assert result.status == 200
    first = await task(w, incident, 1, 1)
    assert first.state is TaskState.DONE and first.done_by == w.bob.id
    assert lines(w, incident, "@bob checked off task 1 **Acknowledge the alert** (Triage).")
    assert labels(task_row(w, incident, 1))[0] == "Uncheck"
    assert "☑" in task_row(w, incident, 1)["text"]
    assert w.card_field(incident, "Stage") == "1/2 Triage (1/3 done)"
    assert checklist(w, incident)[0]["text"] == "1/3 done"
    checked = await events(w, incident, "task_checked")
    assert [(e.actor_id, e.data["title"]) for e in checked] == [(w.bob.id, "Acknowledge the alert")]

    await click_task(w, w.alice, incident, 1, "Uncheck")
    assert (await task(w, incident, 1, 1)).state is TaskState.OPEN
    assert lines(w, incident, "@alice unchecked task 1 **Acknowledge the alert** (Triage).")
    assert labels(task_row(w, incident, 1))[0] == "Check"
    assert w.card_field(incident, "Stage") == "1/2 Triage (0/3 done)"
    assert [e.actor_id for e in await events(w, incident, "task_unchecked")] == [w.alice.id]


# ---- assign -----------------------------------------------------------------------------


async def test_assign_menu_changes_the_assignee_and_refuses_outsiders(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await click_task(w, w.bob, incident, 2, "Assign", option=w.alice.id)
    assert (await task(w, incident, 1, 2)).assignee_id == w.alice.id
    assert lines(
        w, incident, "@bob changed the assignee of task 2 **Find the owner** from nobody to @alice."
    )
    assert labels(task_row(w, incident, 2))[1] == "@alice"
    assert "@alice" in task_row(w, incident, 2)["text"]

    await click_task(w, w.alice, incident, 2, "assign", option=w.bob.id)
    assert lines(w, incident, "from @alice to @bob.")
    assigned = await events(w, incident, "task_assigned")
    assert [(e.actor_id, e.data["from"], e.data["to"]) for e in assigned] == [
        (w.bob.id, "", w.alice.id),
        (w.alice.id, w.alice.id, w.bob.id),
    ]
    # the same assignee again changes nothing
    await click_task(w, w.alice, incident, 2, "assign", option=w.bob.id)
    assert len(await events(w, incident, "task_assigned")) == 2

    await click_task(w, w.alice, incident, 2, "assign", option=w.carol.id)
    assert "not a member of the incident channel" in w.ephemeral(w.alice)
    await click_task(w, w.alice, incident, 2, "assign", option=w.bot.id)
    assert "bot can't be assigned" in w.ephemeral(w.alice)
    assert (await task(w, incident, 1, 2)).assignee_id == w.bob.id
    assert len(await events(w, incident, "task_assigned")) == 2


# ---- info and run -----------------------------------------------------------------------


async def test_info_shows_the_description_to_the_clicker_only(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    before = len(w.messages(incident.channel_id))
    await click_task(w, w.bob, incident, 2, "Info")
    assert "Check the service catalogue." in w.ephemeral(w.bob)
    assert "**2.** Find the owner" in w.ephemeral(w.bob)
    assert "catalogue" not in w.told(w.alice)
    assert len(w.messages(incident.channel_id)) == before


async def test_run_executes_an_allowed_command_as_the_bot_and_records_it(w: World) -> None:
    await w.restart(run_commands=["echo"])
    incident = await w.start_incident(w.alice, "Disk full")
    await click_task(w, w.bob, incident, 3, "Run")
    posts = w.mm.posts(incident.channel_id)
    echoed = [p for p in posts if p["message"] == "incident under way"]
    assert echoed and echoed[0]["user_id"] == w.bot.id
    assert lines(
        w,
        incident,
        "@bob ran `/echo incident under way` for task 3 **Announce** (as the warroom bot).",
    )
    ran = await task(w, incident, 1, 3)
    assert ran.last_run_at is not None
    runs = await events(w, incident, "command_run")
    assert [(e.actor_id, e.data["command"]) for e in runs] == [
        (w.bob.id, "/echo incident under way")
    ]
    assert "last run" in task_row(w, incident, 3)["text"]


async def test_a_failing_command_is_reported_to_the_clicker(w: World) -> None:
    await w.restart(run_commands=["echo", "nosuch"])
    incident = await w.start_incident(w.alice, "Disk full")
    await w.command(w.alice, "task edit 1 3", incident.channel_id)
    dialog = w.dialog(w.alice)
    assert await w.submit(w.alice, {"title": "Announce", "command": "/nosuch thing"}, dialog) == {}
    await click_task(w, w.bob, incident, 3, "Run")
    assert "`/nosuch thing` did not run: Mattermost doesn't know this command" in w.told(w.bob)
    assert await events(w, incident, "command_run") == []
    assert (await task(w, incident, 1, 3)).last_run_at is None


@pytest.mark.parametrize(
    ("status", "error_id", "said"),
    [
        (403, "api.context.permissions.app_error", "did not run: Mattermost refused to run it"),
        # a 500 may come after the server acted: not known, so never "did not run"
        (500, "api.command.execute_command.failed.app_error", "may have run: Mattermost's"),
    ],
)
async def test_a_server_error_running_the_command_is_reported(
    w: World, status: int, error_id: str, said: str
) -> None:
    await w.restart(run_commands=["echo"])
    incident = await w.start_incident(w.alice, "Disk full")
    w.mm.fail_next("POST", r"/commands/execute$", status, error_id)
    await click_task(w, w.bob, incident, 3, "Run")
    assert f"`/echo incident under way` {said}" in w.told(w.bob)
    assert await events(w, incident, "command_run") == []
    assert not lines(w, incident, "incident under way")


@pytest.mark.parametrize("fault", [ActThenDrop(), ActThenFail()], ids=["lost", "failed after"])
async def test_a_run_whose_outcome_is_unknown_never_says_it_did_not_run(
    w: World, fault: FaultKind
) -> None:
    """Rule (README, Under crashes): when Mattermost may have acted, warroom says it does not
    know, never "did not run": here the command did run, and "did not run" would invite a
    second click and a second run."""
    await w.restart(run_commands=["echo"])
    incident = await w.start_incident(w.alice, "Disk full")
    w.mm.faults.inject("POST", r"/commands/execute$", fault)
    await click_task(w, w.bob, incident, 3, "Run")
    assert [m for m in w.messages(incident.channel_id) if m == "incident under way"]  # it ran
    told = w.told(w.bob)
    assert "did not run" not in told and "Nothing was recorded" not in told
    assert "`/echo incident under way` may have run" in told
    assert "check the channel before you click **Run** again" in told


# ---- stages -----------------------------------------------------------------------------


async def test_next_stage_asks_while_tasks_are_open_then_moves(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await click(w, w.bob, incident, stage_action(w, incident, "Next stage"))
    confirm = w.dialog(w.bob)
    assert confirm["dialog"]["callback_id"] == "stagenext"
    assert "3 open task(s)" in confirm["dialog"]["introduction_text"]
    assert (await w.reload(incident)).active_stage == 0
    assert await w.submit(w.bob, {}, confirm) == {}
    moved = await w.reload(incident)
    assert moved.active_stage == 1
    assert lines(
        w, incident, "@bob moved the incident from stage 1 **Triage** to stage 2 **Resolution**."
    )
    assert w.card_field(incident, "Stage") == "2/2 Resolution (0/1 done)"
    rows = checklist(w, incident)
    assert rows[0]["title"] == "Stage 2/2: Resolution"
    assert labels(rows[-1]) == ["Previous stage", "End incident"]
    changed = await events(w, incident, "stage_changed")
    assert [(e.actor_id, e.data["from"], e.data["to"]) for e in changed] == [(w.bob.id, 0, 1)]
    # the confirmation can't be replayed
    assert (await w.submit(w.bob, {}, confirm)).get("error")

    await click(w, w.alice, incident, stage_action(w, incident, "Previous stage"))
    assert (await w.reload(incident)).active_stage == 0
    assert lines(w, incident, "@alice moved the incident from stage 2 **Resolution** to stage 1")


async def test_next_stage_without_open_tasks_moves_at_once(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    for n in (1, 2, 3):
        await w.command(w.bob, f"check 1 {n}", incident.channel_id)
    await click(w, w.bob, incident, stage_action(w, incident, "Next stage"))
    assert w.mm.dialogs(w.bob.id) == []
    assert (await w.reload(incident)).active_stage == 1


async def test_ended_incident_checklist_offers_restart(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await click(w, w.bob, incident, stage_action(w, incident, "End incident"))
    await w.submit(w.bob, {}, w.dialog(w.bob))
    assert labels(checklist(w, incident)[-1]) == ["Next stage", "Restart incident"]
    # members may still work the checklist of an ended incident
    await click_task(w, w.bob, incident, 1, "Check")
    assert (await task(w, incident, 1, 1)).state is TaskState.DONE
    await click(w, w.bob, incident, stage_action(w, incident, "Restart incident"))
    assert (await w.reload(incident)).is_ongoing


# ---- commands ---------------------------------------------------------------------------


async def test_check_command_toggles_and_reports_precise_errors(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    ch = incident.channel_id
    assert (await w.command(w.bob, "check 1 2", ch))["text"] == ""
    assert (await task(w, incident, 1, 2)).state is TaskState.DONE
    assert lines(w, incident, "@bob checked off task 2 **Find the owner**")
    assert "☑" in task_row(w, incident, 2)["text"]
    await w.command(w.bob, "check 1 2", ch)
    assert (await task(w, incident, 1, 2)).state is TaskState.OPEN
    await w.command(w.bob, "check 2 1", ch)  # a task of another stage
    assert (await task(w, incident, 2, 1)).state is TaskState.DONE
    cases = {
        "check": "An argument is missing.",
        "check 1": "An argument is missing.",
        "check 1 2 3": "Too many arguments.",
        "check one 2": "That is not a number: `one`.",
        "check 1 -2": "That is not a number: `-2`.",
        "check 3 1": "There is no such stage. This incident has stages 1–2.",
        "check 0 1": "There is no such stage.",
        "check 1 4": "There is no such task. Stage 1 has tasks 1–3.",
        "check 2 2": "There is no such task. Stage 2 has 1 task.",
    }
    await expect_replies(w, ch, cases, "Usage: `/incident check <stage#> <task#>`")
    assert len(await events(w, incident, "task_checked")) == 2


async def test_stage_command_moves_with_the_same_confirmation_rule(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    ch = incident.channel_id
    assert "already the first stage" in (await w.command(w.bob, "stage prev", ch))["text"]
    assert "missing" in (await w.command(w.bob, "stage", ch))["text"]
    assert "`next` or `prev`" in (await w.command(w.bob, "stage sideways", ch))["text"]
    assert "Too many" in (await w.command(w.bob, "stage next now", ch))["text"]
    assert (await w.command(w.bob, "stage next", ch))["text"] == ""
    assert w.dialog(w.bob)["dialog"]["callback_id"] == "stagenext"
    await w.submit(w.bob, {}, w.dialog(w.bob))
    assert (await w.reload(incident)).active_stage == 1
    assert lines(w, incident, "@bob moved the incident from stage 1 **Triage** to stage 2")
    assert w.card_field(incident, "Stage") == "2/2 Resolution (0/1 done)"
    assert "already the last stage" in (await w.command(w.bob, "stage next", ch))["text"]
    await w.command(w.bob, "stage prev", ch)
    assert (await w.reload(incident)).active_stage == 0
    assert lines(w, incident, "@bob moved the incident from stage 2 **Resolution** to stage 1")
    assert checklist(w, incident)[0]["title"] == "Stage 1/2: Triage"
    assert w.card_field(incident, "Stage") == "1/2 Triage (0/3 done)"
    assert len(await events(w, incident, "stage_changed")) == 2


async def test_an_incident_without_stages_says_so(w: World) -> None:
    """A chat playbook saved before every playbook needed a stage still starts incidents."""
    legacy = Playbook(
        id="legacyplaybook00000000000a", title="Old drill", team_id=w.team.id,
        private_channel=False, team_wide=True, source="chat", member_ids=(w.alice.id,),
    )  # fmt: skip
    await w.app.services.playbooks._store.upsert(legacy, 0)
    incident = await w.start_incident(w.alice, "Drill", playbook="Old drill")
    assert incident.stages == ()
    ch = incident.channel_id
    assert "no stages" in checklist(w, incident)[0]["text"]
    assert labels(checklist(w, incident)[-1]) == ["End incident"]
    for text in ("check 1 1", "stage next", "stage prev", "task add 1 x", "task remove 1 1"):
        assert "This incident has no stages." in (await w.command(w.alice, text, ch))["text"]


async def test_task_add_edit_remove_move(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    ch = incident.channel_id
    assert (await w.command(w.bob, "task add 1 Page the DBA", ch))["text"] == ""
    assert [t.title for t in (await w.reload(incident)).stages[0].tasks][-1] == "Page the DBA"
    assert lines(w, incident, "@bob added task 4 **Page the DBA** to stage 1 **Triage**.")
    assert "Page the DBA" in task_row(w, incident, 4)["text"]
    assert w.card_field(incident, "Stage") == "1/2 Triage (0/4 done)"

    await w.command(w.bob, "task move 1 4 1", ch)
    titles = [t.title for t in (await w.reload(incident)).stages[0].tasks]
    assert titles == ["Page the DBA", "Acknowledge the alert", "Find the owner", "Announce"]
    assert lines(
        w, incident, "@bob moved task 4 **Page the DBA** of stage 1 **Triage** to position 1."
    )
    assert "**1.** ☐ Page the DBA" in task_row(w, incident, 1)["text"]

    await w.command(w.alice, "task edit 1 1", ch)
    dialog = w.dialog(w.alice)
    assert dialog["dialog"]["callback_id"] == "taskedit"
    defaults = {e["name"]: e["default"] for e in dialog["dialog"]["elements"]}
    assert defaults == {"title": "Page the DBA", "description": "", "command": ""}
    bad = await w.submit(w.alice, {"title": "", "command": "echo"}, dialog)
    assert set(bad["errors"]) == {"title", "command"}  # every field at fault, at once
    bad = await w.submit(w.alice, {"title": "Page the DBA", "command": "echo hi"}, dialog)
    assert "starts with /" in bad["errors"]["command"]
    ok = await w.submit(
        w.alice,
        {"title": "Page the DBA on call", "description": "Use the rota.", "command": "/echo dba"},
        dialog,
    )
    assert ok == {}
    edited = await task(w, incident, 1, 1)
    assert (edited.title, edited.description, edited.command) == (
        "Page the DBA on call",
        "Use the rota.",
        "/echo dba",
    )
    assert lines(w, incident, "@alice edited task 1 **Page the DBA on call** of stage 1")
    assert labels(task_row(w, incident, 1)) == ["Check", "Assign", "Run", "Info"]

    await w.command(w.bob, "task remove 1 1", ch)
    titles = [t.title for t in (await w.reload(incident)).stages[0].tasks]
    assert titles == ["Acknowledge the alert", "Find the owner", "Announce"]
    assert lines(w, incident, "@bob removed task 1 **Page the DBA on call** from stage 1")
    assert "**1.** ☐ Acknowledge the alert" in task_row(w, incident, 1)["text"]
    assert len(checklist(w, incident)) == 5  # header, three tasks, stage buttons
    edits = await events(w, incident, "task_edited")
    assert [e.data["op"] for e in edits] == ["added", "moved", "edited", "removed"]
    assert all(e.actor_id in (w.alice.id, w.bob.id) for e in edits)


async def test_the_last_task_of_a_stage_is_renamed_not_removed(w: World) -> None:
    """Every stage keeps at least one task, in a running incident as in its playbook."""
    incident = await w.start_incident(w.alice, "Disk full")
    ch = incident.channel_id
    refused = (await w.command(w.bob, "task remove 2 1", ch))["text"]
    assert "only task of its stage" in refused and "`/incident task edit`" in refused
    current = await w.reload(incident)
    assert [t.title for t in current.stages[1].tasks] == ["Confirm recovery"]
    assert await events(w, incident, "task_edited") == []
    assert lines(w, incident, "removed task") == []
    assert (await w.command(w.bob, "task add 2 Watch the graphs", ch))["text"] == ""
    assert (await w.command(w.bob, "task remove 2 1", ch))["text"] == ""
    titles = [t.title for t in (await w.reload(incident)).stages[1].tasks]
    assert titles == ["Watch the graphs"]
    assert lines(w, incident, "@bob removed task 1 **Confirm recovery** from stage 2")


async def test_task_assign_command_assigns_and_unassigns(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    ch = incident.channel_id
    assert (await w.command(w.alice, "task assign 1 3 @bob", ch))["text"] == ""
    assert (await task(w, incident, 1, 3)).assignee_id == w.bob.id
    assert lines(
        w, incident, "@alice changed the assignee of task 3 **Announce** from nobody to @bob."
    )
    await w.command(w.alice, "task assign 1 3 nobody", ch)
    assert (await task(w, incident, 1, 3)).assignee_id == ""
    assert lines(w, incident, "from @bob to nobody.")
    assert labels(task_row(w, incident, 3))[1] == "Assign"
    assert "no user `@zed`" in (await w.command(w.alice, "task assign 1 3 @zed", ch))["text"]
    assert "not a member" in (await w.command(w.alice, "task assign 1 3 @carol", ch))["text"]
    assert len(await events(w, incident, "task_assigned")) == 2


async def test_task_state_sets_in_progress_and_skipped(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    ch = incident.channel_id
    await w.command(w.bob, "task state 1 1 progress", ch)
    assert (await task(w, incident, 1, 1)).state is TaskState.IN_PROGRESS
    assert (
        "◐" in task_row(w, incident, 1)["text"]
        and "_in progress_" in task_row(w, incident, 1)["text"]
    )
    await w.command(w.bob, "task state 1 2 skipped", ch)
    skipped = await task(w, incident, 1, 2)
    assert skipped.state is TaskState.SKIPPED and skipped.done_by == w.bob.id
    assert lines(w, incident, "@bob set task 2 **Find the owner** to skipped (was open).")
    assert w.card_field(incident, "Stage") == "1/2 Triage (1/3 done)"
    assert labels(task_row(w, incident, 2))[0] == "Uncheck"
    changes = await events(w, incident, "task_state_changed")
    assert [(e.data["from"], e.data["to"]) for e in changes] == [
        ("open", "in_progress"),
        ("open", "skipped"),
    ]
    await w.command(w.bob, "task state 1 2 skipped", ch)  # already skipped: nothing happens
    assert len(await events(w, incident, "task_state_changed")) == 2


async def test_clicks_follow_their_task_through_moves_and_removals(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    ch = incident.channel_id
    announce = action_id(w, incident, 3, "Check")
    owner = action_id(w, incident, 2, "Check")
    await w.command(w.bob, "task move 1 3 1", ch)
    await w.command(w.bob, "task remove 1 3", ch)  # "Find the owner", now third
    # a click from a checklist rendered before the move still checks "Announce"
    assert (await click(w, w.alice, incident, announce)).status == 200
    current = await w.reload(incident)
    assert [(t.title, t.state) for t in current.stages[0].tasks] == [
        ("Announce", TaskState.DONE),
        ("Acknowledge the alert", TaskState.OPEN),
    ]
    assert lines(w, incident, "@alice checked off task 1 **Announce** (Triage).")
    # the removed task's button is gone: the server finds nothing to call
    assert (await click(w, w.alice, incident, owner)).status == 404
    assert len(await events(w, incident, "task_checked")) == 1
    # an edit dialog for a task removed meanwhile says so and changes nothing
    await w.command(w.alice, "task edit 1 2", ch)
    dialog = w.dialog(w.alice)
    await w.command(w.bob, "task remove 1 2", ch)
    reply = await w.submit(w.alice, {"title": "Ack it"}, dialog)
    assert "no longer exists" in reply["error"]
    assert [t.title for t in (await w.reload(incident)).stages[0].tasks] == ["Announce"]


async def test_task_add_without_a_title_opens_the_dialog(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await w.command(w.bob, "task add 2", incident.channel_id)
    dialog = w.dialog(w.bob)
    assert dialog["dialog"]["title"] == "Add task"
    await w.submit(w.bob, {"title": "Write it up", "description": "", "command": ""}, dialog)
    assert [t.title for t in (await w.reload(incident)).stages[1].tasks] == [
        "Confirm recovery",
        "Write it up",
    ]
    # the playbook is untouched: a new incident gets the original tasks
    other = await w.start_incident(w.alice, "Disk full again")
    assert [t.title for t in other.stages[1].tasks] == ["Confirm recovery"]


async def test_task_command_errors(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    ch = incident.channel_id
    cases = {
        "task": "An argument is missing.",
        "task frob 1": "Say `add`, `edit`, `remove`, `move`, `state` or `assign`.",
        "task assign 1 1": "An argument is missing.",
        "task assign 1 1 <b>": "That is not a username",
        "task state 1 1 later": "Say `open`, `progress`, `done` or `skipped`.",
        "task state 1 1": "An argument is missing.",
        "task add": "An argument is missing.",
        "task add x title": "That is not a number: `x`.",
        "task add 9 title": "There is no such stage.",
        "task add 1 " + "x" * 151: "A task title must be 1 to 150 characters.",
        "task edit 1": "An argument is missing.",
        "task edit 1 2 3": "Too many arguments.",
        "task remove 1 7": "There is no such task. Stage 1 has tasks 1–3.",
        "task move 1 1": "An argument is missing.",
        "task move 1 1 4": "There is no such position. Stage 1 has tasks 1–3.",
        "task move 1 1 x": "That is not a number: `x`.",
    }
    await expect_replies(w, ch, cases, "Usage: `/incident task")
    assert await events(w, incident, "task_edited") == []


async def test_help_lists_the_checklist_commands(w: World) -> None:
    text = (await w.command(w.alice, "help"))["text"]
    for usage in (
        "/incident check <stage#> <task#>",
        "/incident stage next|prev",
        "/incident task",
    ):
        assert usage in text
    assert "as the warroom bot" in text


# ---- who may ----------------------------------------------------------------------------


async def test_non_members_are_refused_before_anything_changes(w: World) -> None:
    private = await w.start_incident(w.alice, "Disk full")
    # the server itself refuses clicks from someone who cannot read a private channel
    refused = await click_task(w, w.carol, private, 1, "Check")
    assert refused.status == 403
    assert (await task(w, private, 1, 1)).state is TaskState.OPEN
    # a public incident channel: carol can read it but has not joined, dave is not in the team;
    # the server refuses her clicks too (read_channel is a channel-member permission, 5.36
    # api4/integration_action.go), so warroom is never called
    public = await w.start_incident(w.alice, "Open trouble", playbook="Open outage")
    assert w.carol.id not in w.mm.channel_members(public.channel_id)
    for label, option in (("Check", None), ("Assign", w.alice.id)):
        assert (await click_task(w, w.carol, public, 1, label, option)).status == 403
    assert (await click(w, w.carol, public, stage_action(w, public, "Next stage"))).status == 403
    assert w.ephemeral(w.carol) == ""
    assert w.mm.dialogs(w.carol.id) == []
    outsider = await click_task(w, w.dave, public, 1, "Check")
    assert outsider.status == 403
    # the server refuses slash commands in a channel the user is not in
    for text in ("check 1 1", "stage next", "task add 1 x"):
        with pytest.raises(MattermostHTTPError) as refusal:
            await w.command(w.carol, text, public.channel_id)
        assert refusal.value.status == 403
    current = await w.reload(public)
    assert current.stages[0].tasks[0].state is TaskState.OPEN
    assert current.stages[0].tasks[0].assignee_id == ""
    assert current.active_stage == 0 and len(current.stages[0].tasks) == 1
    kinds = {e.kind.value for e in await events(w, public)}
    assert kinds == {"created"}
    # a system admin may, without joining
    await click_task(w, w.admin, public, 1, "Check")
    assert (await task(w, public, 1, 1)).state is TaskState.DONE


# ---- races ------------------------------------------------------------------------------


async def test_double_click_on_check_applies_once(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    check = action_id(w, incident, 1, "Check")
    statuses = await at_once(w, incident, (w.bob, check), (w.bob, check), (w.alice, check))
    assert set(statuses) <= {200, 404} and statuses[0] == 200
    assert (await task(w, incident, 1, 1)).state is TaskState.DONE
    assert len(await events(w, incident, "task_checked")) == 1
    assert await events(w, incident, "task_unchecked") == []
    assert len(lines(w, incident, "checked off task 1")) == 1
    assert labels(task_row(w, incident, 1))[0] == "Uncheck"
    # the old "Check" is gone from the post: a late click can't uncheck it
    late = await w.mm.click(w.bob, incident.checklist_post_id, check)
    assert late.status == 404
    assert (await task(w, incident, 1, 1)).state is TaskState.DONE


async def test_concurrent_clicks_on_different_tasks_all_apply(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    statuses = await at_once(
        w,
        incident,
        (w.alice, action_id(w, incident, 1, "Check")),
        (w.bob, action_id(w, incident, 2, "Check")),
        (w.admin, action_id(w, incident, 3, "Check")),
        (w.bob, action_id(w, incident, 3, "assign"), w.alice.id),
    )
    assert statuses == [200, 200, 200, 200]
    current = await w.reload(incident)
    assert [t.state for t in current.stages[0].tasks] == [TaskState.DONE] * 3
    assert current.stages[0].tasks[2].assignee_id == w.alice.id
    checked = await events(w, incident, "task_checked")
    assert sorted(e.data["position"] for e in checked) == [0, 1, 2]
    assert len(await events(w, incident, "task_assigned")) == 1
    assert len(lines(w, incident, "checked off task")) == 3
    assert w.card_field(incident, "Stage") == "1/2 Triage (3/3 done)"
    assert [labels(task_row(w, incident, n))[0] for n in (1, 2, 3)] == ["Uncheck"] * 3
    assert labels(task_row(w, incident, 3))[1] == "@alice"


async def test_double_click_on_run_runs_once_and_run_again_later_works(w: World) -> None:
    await w.restart(run_commands=["echo"])
    incident = await w.start_incident(w.alice, "Disk full")
    run = action_id(w, incident, 3, "Run")
    assert await at_once(w, incident, (w.bob, run), (w.bob, run)) == [200, 200]
    assert len(lines(w, incident, "incident under way")) == 2  # the output and the line
    assert len(await events(w, incident, "command_run")) == 1
    assert "running already" in w.told(w.bob)
    # the stale button is gone; the new one runs it again
    assert (await w.mm.click(w.bob, incident.checklist_post_id, run)).status == 404
    await click_task(w, w.alice, incident, 3, "Run")
    assert len(await events(w, incident, "command_run")) == 2


async def test_double_click_on_next_stage_moves_once(w: World) -> None:
    incident = await w.start_incident(w.alice, "Three stages", playbook="Open outage")
    await w.command(w.alice, "check 1 1", incident.channel_id)
    await w.command(w.alice, "check 2 1", incident.channel_id)
    nxt = stage_action(w, incident, "Next stage")
    await at_once(w, incident, (w.alice, nxt), (w.alice, nxt))
    assert (await w.reload(incident)).active_stage == 1
    assert len(await events(w, incident, "stage_changed")) == 1
    assert len(lines(w, incident, "moved the incident")) == 1


async def test_two_confirmations_of_next_stage_move_once(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    await click(w, w.alice, incident, stage_action(w, incident, "Next stage"))
    await click(w, w.bob, incident, stage_action(w, incident, "Next stage"))
    await asyncio.gather(
        w.submit(w.alice, {}, w.dialog(w.alice)), w.submit(w.bob, {}, w.dialog(w.bob))
    )
    assert (await w.reload(incident)).active_stage == 1
    assert len(await events(w, incident, "stage_changed")) == 1
