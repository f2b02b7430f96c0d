"""Playbooks through the REST API: the rules of ``/incident playbook …`` exactly.

Rule: authors are team members; only a playbook's members change it; playbooks.yaml ones
are read-only; every stage has a task; what one may not see is not found.
"""

from __future__ import annotations

from typing import Any

from tests.scenarios.api_client import call
from tests.scenarios.harness import World

STAGES = [
    {"title": "Triage", "tasks": [{"title": "Page the owner", "command": "/echo paging"}]},
    {"title": "Fix", "tasks": [{"title": "Roll back"}]},
]


async def created(w: World, user: Any, title: str = "Deploy gone wrong") -> dict[str, Any]:
    answer = await call(
        w,
        user,
        "POST",
        "/playbooks",
        json={"team_id": w.team.id, "title": title, "stages": STAGES, "reminder_minutes": 30},
    )
    assert answer.status == 201, answer.body
    body: dict[str, Any] = answer.body
    return body


async def test_create_update_delete_by_members_only(w: World) -> None:
    pb = await created(w, w.alice)
    assert pb["source"] == "chat"
    assert pb["stages"][0] == {"title": "Triage", "tasks": ["Page the owner"]}
    listed = await call(w, w.alice, "GET", "/playbooks", params={"team": w.team.id})
    assert pb["id"] in [p["id"] for p in listed.body["items"]]

    change = {"title": "Deploy rollback", "stages": STAGES[:1], "private": False}
    hidden = await call(w, w.carol, "PUT", f"/playbooks/{pb['id']}", json=change)
    assert hidden.status == 404  # carol is no member: she does not see it
    updated = await call(w, w.alice, "PUT", f"/playbooks/{pb['id']}", json=change)
    assert updated.status == 200, updated.body
    assert updated.body["title"] == "Deploy rollback"
    assert updated.body["private_channel"] is False

    deleted = await call(w, w.alice, "DELETE", f"/playbooks/{pb['id']}")
    assert deleted.status == 200
    assert (await call(w, w.alice, "GET", f"/playbooks/{pb['id']}")).status == 404


async def test_the_stage_rule_and_the_file_playbooks_hold(w: World) -> None:
    empty = [{"title": "Triage", "tasks": []}]
    answer = await call(
        w, w.alice, "POST", "/playbooks",
        json={"team_id": w.team.id, "title": "Bare", "stages": empty},
    )  # fmt: skip
    assert answer.status == 400
    assert answer.error["field"] == "stages.0"
    assert answer.error["message"].startswith("stages[0].tasks:")
    listed = await call(w, w.alice, "GET", "/playbooks", params={"team": w.team.id})
    outage = next(p for p in listed.body["items"] if p["title"] == "Outage")
    refused = await call(
        w, w.alice, "PUT", f"/playbooks/{outage['id']}", json={"title": "X", "stages": STAGES}
    )
    assert refused.status == 403
    assert refused.error["id"] == "playbook_from_file"
    outsider = await call(
        w, w.dave, "POST", "/playbooks",
        json={"team_id": w.team.id, "title": "Mine", "stages": STAGES},
    )  # fmt: skip
    assert outsider.status == 404
    assert outsider.error["id"] == "team_not_found"


async def test_export_then_import_gives_the_same_playbook(w: World) -> None:
    pb = await created(w, w.alice)
    exported = await call(w, w.alice, "GET", f"/playbooks/{pb['id']}/export")
    assert exported.status == 200
    assert "Deploy gone wrong" in exported.body["yaml"]
    await call(w, w.alice, "DELETE", f"/playbooks/{pb['id']}")
    imported = await call(
        w, w.bob, "POST", "/playbooks/import",
        json={"team_id": w.team.id, "text": exported.body["yaml"]},
    )  # fmt: skip
    assert imported.status == 201, imported.body
    assert imported.body["playbook"]["title"] == "Deploy gone wrong"
    assert imported.body["playbook"]["stages"] == pb["stages"]
    assert imported.body["playbook"]["reminder_minutes"] == 30
    junk = await call(
        w, w.bob, "POST", "/playbooks/import", json={"team_id": w.team.id, "text": "{oops"}
    )
    assert junk.status == 400
    assert junk.error["field"] == "text"
    assert "Nothing was imported." in junk.error["message"]
