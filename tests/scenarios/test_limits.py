"""Issue 9, kind 5: one limit per value, Mattermost's own where the value ends up in Mattermost,
checked the same way on every path (playbooks.yaml, dialogs, the command line, imports)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.domain import limits
from bot.render.limits import limit_text
from bot.render.messages import unexpected_error
from tests.double.channels import valid_channel_name
from tests.scenarios.harness import PLAYBOOKS, World, world

TITLE_150 = "T" * 150
LONG_TASK = f"""
  - title: Long titles
    team: acme
    members: ["@alice", "@bob"]
    stages:
      - title: Only
        tasks:
          - title: "{TITLE_150}"
"""


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path, PLAYBOOKS + LONG_TASK) as built:
        yield built


# ---- case 1: every acceptable name yields a channel -------------------------------------------


@pytest.mark.parametrize("name", ["Q!", "🔥 5", "Авария 1", "数据库故障 2"])
async def test_names_whose_url_name_would_be_too_short_still_start_an_incident(
    w: World, name: str
) -> None:
    incident = await w.start_incident(w.alice, name)
    channel = w.mm.state.channels[incident.channel_id]
    assert channel.display_name == name
    assert valid_channel_name(channel.name) and len(channel.name) != 26
    again = await w.start_incident(w.bob, name)  # the same name again: a clash suffix
    assert w.mm.state.channels[again.channel_id].name.startswith(channel.name + "-")


# ---- case 2: a playbook task title is editable in an incident ------------------------------


async def test_a_150_character_playbook_task_can_be_edited_in_an_incident(w: World) -> None:
    incident = await w.start_incident(w.alice, "Long", playbook="Long titles")
    await w.command(w.alice, "task edit 1 1", incident.channel_id)
    dialog = w.dialog(w.alice)
    title = next(e for e in dialog["dialog"]["elements"] if e["name"] == "title")
    assert title["default"] == TITLE_150 and title["max_length"] >= 150
    answer = await w.submit(
        w.alice, {"title": TITLE_150[:-1] + "!", "description": "", "command": ""}, dialog
    )
    assert answer == {}
    assert (await w.reload(incident)).stages[0].tasks[0].title == TITLE_150[:-1] + "!"


# ---- case 3: import checks like the editor, and takes a byte order mark ---------------------

EXPORT: dict[str, Any] = {
    "title": "Escalation",
    "checklists": [
        {"title": "Later", "items": [{"title": "Write the review"}]},
        {"title": "Now", "items": [{"title": "Call the customer", "command": "/echo hi"}]},
    ],
}


async def test_an_imported_playbook_saves_unchanged_in_the_editor_and_a_bom_is_fine(
    w: World,
) -> None:
    data = b"\xef\xbb\xbf" + json.dumps(EXPORT).encode()
    await w.mm.post_file(w.alice, w.town.id, "escalation.json", data)
    reply = (await w.command(w.alice, "playbook import"))["text"]
    assert "Imported **Escalation**" in reply, reply
    await w.command(w.alice, "playbook edit Escalation")
    dialog = w.dialog(w.alice)
    assert dialog["dialog"]["callback_id"] == "pb_edit"
    defaults = {e["name"]: e.get("default", "") for e in dialog["dialog"]["elements"]}
    assert await w.submit(w.alice, defaults, dialog) == {}  # what import took, the editor keeps


async def test_import_refuses_what_the_editor_refuses_in_the_same_words(w: World) -> None:
    too_long = dict(EXPORT, checklists=[{"title": "S", "items": [{"title": "x" * 151}]}])
    await w.mm.post_file(w.alice, w.town.id, "long.json", json.dumps(too_long).encode())
    reply = (await w.command(w.alice, "playbook import"))["text"]
    await w.command(w.alice, "playbook create")
    editor = await w.submit(
        w.alice, {"title": "Long", "stages": "## S\n- " + "x" * 151, "reminder": "0"}
    )
    said = "A task title must be 1 to 150 characters."
    assert said in reply and said in editor["errors"]["stages"]


async def test_import_refuses_a_stage_without_tasks_as_the_editor_does(w: World) -> None:
    """Every stage has at least one task, on every path: import, the editor, playbooks.yaml."""
    empty = dict(EXPORT, checklists=[*EXPORT["checklists"], {"title": "Soon", "items": []}])
    await w.mm.post_file(w.alice, w.town.id, "empty.json", json.dumps(empty).encode())
    reply = (await w.command(w.alice, "playbook import"))["text"]
    assert "checklists[2].items: A stage needs at least one task." in reply
    assert "Nothing was imported" in reply
    assert "Escalation" not in (await w.command(w.alice, "playbook list"))["text"]
    await w.command(w.alice, "playbook create")
    editor = await w.submit(
        w.alice, {"title": "Soon", "stages": "## Now\n- Call\n## Soon", "reminder": "0"}
    )
    assert editor["errors"]["stages"] == "Line 3: A stage needs at least one task."


# ---- case 4 and the rule: over-limit input is answered with the limit, on every path ---------

Path_ = Callable[[World], Awaitable[str]]


async def _command(w: World, text: str, *, in_incident: bool = False) -> str:
    channel = (await w.start_incident(w.alice, "Limits")).channel_id if in_incident else None
    return str((await w.command(w.alice, text, channel))["text"])


async def _dialog(w: World, open_with: str, fields: dict[str, Any], field: str) -> str:
    channel = None
    if open_with.startswith(("task", "update")):
        channel = (await w.start_incident(w.alice, "Limits")).channel_id
    await w.command(w.alice, open_with, channel)
    dialog = w.dialog(w.alice)
    if dialog["dialog"]["callback_id"] == "start":
        fields = {"playbook": w.playbook_id("Outage"), **fields}
    answer = await w.submit(w.alice, fields, dialog)
    return str(answer.get("errors", {}).get(field) or answer.get("error") or answer)


async def _import(w: World, export: dict[str, Any]) -> str:
    await w.mm.post_file(w.alice, w.town.id, "pb.json", json.dumps(export).encode())
    return str((await w.command(w.alice, "playbook import"))["text"])


def _yaml_reload(body: str) -> Path_:
    async def run(w: World) -> str:
        w.settings.playbooks_file.write_text(PLAYBOOKS + body)
        return str((await w.command(w.admin, "playbook reload"))["text"])

    return run


def _task_yaml(**task: str) -> str:
    fields = "\n".join(f"            {k}: {json.dumps(v)}" for k, v in task.items())
    return f"""
  - title: Too long
    team: acme
    stages:
      - title: S
        tasks:
          - title: ok
{fields}
""".replace("          - title: ok\n            title:", "          - title:")


X = "x"
PATHS: dict[str, tuple[limits.Limit, Path_]] = {
    "command: task add title": (
        limits.TASK_TITLE,
        lambda w: _command(w, "task add 1 " + X * 4500, in_incident=True),
    ),
    "command: the text itself": (
        limits.COMMAND_TEXT,
        lambda w: _command(w, "task add 1 " + X * 17_000),
    ),
    "command: start with a name": (limits.INCIDENT_NAME, lambda w: _command(w, "start " + X * 65)),
    "dialog: start name": (
        limits.INCIDENT_NAME,
        lambda w: _dialog(w, "start", {"name": X * 65}, "name"),
    ),
    "dialog: start description": (
        limits.INCIDENT_DESCRIPTION,
        lambda w: _dialog(w, "start", {"name": "ok", "description": X * 1025}, "description"),
    ),
    "dialog: task title": (
        limits.TASK_TITLE,
        lambda w: _dialog(w, "task add 1", {"title": X * 151}, "title"),
    ),
    "dialog: task command": (
        limits.TASK_COMMAND,
        lambda w: _dialog(w, "task add 1", {"title": "t", "command": "/" + X * 150}, "command"),
    ),
    "dialog: task description": (
        limits.TASK_DESCRIPTION,
        lambda w: _dialog(w, "task add 1", {"title": "t", "description": X * 3001}, "description"),
    ),
    "dialog: status update": (
        limits.STATUS_MESSAGE,
        lambda w: _dialog(w, "update", {"message": X * 3001, "reminder": "0"}, "message"),
    ),
    "dialog: playbook title": (
        limits.PLAYBOOK_TITLE,
        lambda w: _dialog(w, "playbook create", {"title": X * 129, "reminder": "0"}, "title"),
    ),
    "dialog: playbook description": (
        limits.PLAYBOOK_DESCRIPTION,
        lambda w: _dialog(
            w, "playbook create", {"title": "t", "description": X * 3001}, "description"
        ),
    ),
    "dialog: playbook stages": (
        limits.STAGES_TEXT,
        lambda w: _dialog(w, "playbook create", {"title": "t", "stages": "## S\n" * 700}, "stages"),
    ),
    "dialog: playbook stage title": (
        limits.STAGE_TITLE,
        lambda w: _dialog(w, "playbook create", {"title": "t", "stages": "## " + X * 151}, "stages"),
    ),
    "dialog: playbook invite": (
        limits.DIALOG_TEXT,
        lambda w: _dialog(w, "playbook create", {"title": "t", "invite": "@a " * 60}, "invite"),
    ),
    "dialog: playbook status template": (
        limits.STATUS_TEMPLATE,
        lambda w: _dialog(
            w, "playbook create", {"title": "t", "status_template": X * 3001}, "status_template"
        ),
    ),
    "dialog: import paste": (
        limits.IMPORT_PASTE,
        lambda w: _dialog(w, "playbook import", {"export": X * 3001}, "export"),
    ),
    "import: task title": (
        limits.TASK_TITLE,
        lambda w: _import(w, {"title": "t", "checklists": [{"title": "s", "items": [{"title": X * 151}]}]}),
    ),
    "import: task command": (
        limits.TASK_COMMAND,
        lambda w: _import(
            w,
            {"title": "t", "checklists": [{"title": "s", "items": [{"title": "t", "command": "/" + X * 150}]}]},
        ),
    ),
    "import: playbook title": (
        limits.PLAYBOOK_TITLE,
        lambda w: _import(w, {"title": X * 129, "checklists": []}),
    ),
    "yaml: task title": (limits.TASK_TITLE, _yaml_reload(_task_yaml(title=X * 151))),
    "yaml: task command": (limits.TASK_COMMAND, _yaml_reload(_task_yaml(command="/" + X * 150))),
    "yaml: task description": (
        limits.TASK_DESCRIPTION,
        _yaml_reload(_task_yaml(description=X * 3001)),
    ),
}  # fmt: skip


@pytest.mark.parametrize("path", list(PATHS))
async def test_over_limit_input_is_answered_with_the_limit_on_every_path(
    w: World, path: str
) -> None:
    """Rule: every path with a length limit answers over-limit input with a specific message
    that names the limit (the number from bot/domain/limits.py), never a generic error."""
    limit, run = PATHS[path]
    answer = await run(w)
    assert unexpected_error() not in answer, answer
    assert limit_text(limit).split(" (")[0].rstrip(".") in answer, answer


async def test_a_limit_message_never_sends_you_where_the_same_limit_holds(w: World) -> None:
    """Rule: advice in a limit message must work. The dialog's answer to an over-long playbook
    description may point to `playbooks.yaml` only if `playbooks.yaml` takes that text."""
    description = X * (limits.PLAYBOOK_DESCRIPTION.most + 1)
    answer = await _dialog(
        w, "playbook create", {"title": "t", "description": description}, "description"
    )
    assert "3000" in answer, answer
    if "playbooks.yaml" in answer:
        body = (
            f"\n  - title: Long\n    team: acme\n    description: {description}\n    stages: []\n"
        )
        reloaded = await _yaml_reload(body)(w)
        assert "refused" not in reloaded, (answer, reloaded)
