"""The REST API (issue 14): a person's token, exactly their rights in chat, one error shape.

Rule: nobody sees or changes through the API what they could not in chat — an incident one
may not view is "not found", a change needs the incident channel (or system admin), a team
one is not in does not exist. Personas: alice (commander, in the channel), bob (invited),
carol (in the team, not in the channel), dave (not in the team), admin.
"""

from __future__ import annotations

from typing import Any

from bot.domain.limits import INCIDENT_NAME
from bot.domain.models import TaskState
from bot.errors import PermissionDenied
from bot.render.limits import limit_text
from bot.render.messages import error_text
from tests.scenarios.api_client import call
from tests.scenarios.harness import World, as_read


async def started(w: World, user: Any, name: str, playbook: str = "Outage") -> dict[str, Any]:
    """Start through the API with a playbook named ``playbook``; the incident as answered."""
    books = await call(w, user, "GET", "/playbooks", params={"team": w.team.id})
    assert books.status == 200, books.body
    pb = next(p for p in books.body["items"] if p["title"] == playbook)
    answer = await call(
        w,
        user,
        "POST",
        "/incidents",
        json={"team_id": w.team.id, "playbook_id": pb["id"], "name": name},
    )
    assert answer.status == 201, answer.body
    body: dict[str, Any] = answer.body
    return body


def first_task(incident: dict[str, Any]) -> dict[str, Any]:
    task: dict[str, Any] = incident["stages"][0]["tasks"][0]
    return task


async def test_no_token_or_a_refused_one_is_401_in_the_one_error_shape(w: World) -> None:
    for token in (None, "not-a-token"):
        answer = await call(w, None, "GET", "/incidents", token=token)
        assert answer.status == 401
        assert answer.error["id"] == "unauthenticated"
        assert "Bearer" in answer.error["message"]
        assert answer.headers.get("WWW-Authenticate") == "Bearer"


async def test_a_deactivated_users_token_opens_nothing(w: World) -> None:
    await w.mm.set_active(w.admin, w.bob, active=False)
    answer = await call(w, w.bob, "GET", "/incidents")
    assert answer.status == 401
    assert answer.error["id"] == "unauthenticated"


async def test_start_through_the_api_makes_the_incident_chat_makes(w: World) -> None:
    incident = await started(w, w.alice, "DB down")
    assert incident["name"] == "DB down"
    assert incident["commander_id"] == w.alice.id
    assert incident["status"] == "ongoing"
    assert [s["title"] for s in incident["stages"]] == ["Triage", "Resolution"]
    channel = w.mm.state.channels[incident["channel_id"]]
    assert channel.display_name == "DB down"
    saved = await w.incident_named("DB down")
    assert saved.card_post_id  # the card was posted as after the dialog


async def test_list_shows_each_persona_exactly_what_chat_lets_them_view(w: World) -> None:
    private = await started(w, w.alice, "Private one")
    public = await started(w, w.alice, "Drill one", playbook="Public drill")

    async def ids(user: Any, **params: str) -> list[str]:
        answer = await call(w, user, "GET", "/incidents", params=params or None)
        assert answer.status == 200, answer.body
        return [i["id"] for i in answer.body["items"]]

    assert set(await ids(w.alice)) == {private["id"], public["id"]}
    assert set(await ids(w.admin)) == {private["id"], public["id"]}
    assert await ids(w.carol) == [public["id"]]  # in the team, not in the private channel
    assert await ids(w.dave) == []  # not in the team
    answer = await call(w, w.dave, "GET", "/incidents", params={"team": w.team.id})
    assert answer.status == 404
    assert answer.error["id"] == "team_not_found"


async def test_an_incident_one_may_not_view_is_not_found_whoever_asks(w: World) -> None:
    private = await started(w, w.alice, "Private one")
    for user in (w.carol, w.dave):
        answer = await call(w, user, "GET", f"/incidents/{private['id']}")
        assert answer.status == 404
        assert answer.error["id"] == "incident_not_found"
        unknown = await call(w, user, "GET", "/incidents/" + "x" * 26)
        assert (unknown.status, unknown.error) == (answer.status, answer.error)
    seen = await call(w, w.admin, "GET", f"/incidents/{private['id']}")
    assert seen.status == 200
    assert seen.body["timeline"][0]["kind"] == "created"


async def test_a_viewer_outside_the_channel_may_not_change_it(w: World) -> None:
    public = await started(w, w.alice, "Drill one", playbook="Public drill")
    answer = await call(w, w.carol, "POST", f"/incidents/{public['id']}/end")
    assert answer.status == 403
    assert answer.error["id"] == "not_channel_member"
    assert answer.error["message"] == error_text(PermissionDenied("not_channel_member"))
    assert (await w.app.services.incidents.get(public["id"])).is_ongoing


async def test_end_and_restart_as_a_member(w: World) -> None:
    incident = await started(w, w.alice, "DB down")
    ended = await call(w, w.alice, "POST", f"/incidents/{incident['id']}/end")
    assert ended.status == 200, ended.body
    assert ended.body["status"] == "ended"
    assert ended.body["ended_at"] is not None
    assert any("ended" in as_read(m) for m in w.messages(incident["channel_id"]))
    again = await call(w, w.alice, "POST", f"/incidents/{incident['id']}/end")
    assert again.status == 409
    assert again.error["id"] == "already_ended"
    restarted = await call(w, w.bob, "POST", f"/incidents/{incident['id']}/restart")
    assert restarted.status == 200
    assert restarted.body["status"] == "ongoing"


async def test_commander_status_update_and_severity(w: World) -> None:
    incident = await started(w, w.alice, "DB down")
    path = f"/incidents/{incident['id']}"
    moved = await call(w, w.alice, "POST", path + "/commander", json={"username": "@bob"})
    assert moved.status == 200, moved.body
    assert moved.body["commander_id"] == w.bob.id
    not_in = await call(w, w.alice, "POST", path + "/commander", json={"username": "carol"})
    assert not_in.status == 400
    assert not_in.error == {
        "id": "not_in_channel",
        "message": not_in.error["message"],
        "field": "commander",
    }
    nobody = await call(w, w.alice, "POST", path + "/commander", json={"username": "zed"})
    assert nobody.status == 400
    assert nobody.error["field"] == "username"

    update = await call(
        w, w.bob, "POST", path + "/status-updates", json={"message": "Checkout is down."}
    )
    assert update.status == 201, update.body
    assert update.body["author_id"] == w.bob.id
    assert any("Checkout is down." in m for m in w.messages(incident["channel_id"]))
    shown = await call(w, w.alice, "GET", path)
    assert [u["message"] for u in shown.body["status_updates"]] == ["Checkout is down."]

    levels = w.app.services.severity_levels()
    sev = await call(w, w.alice, "POST", path + "/severity", json={"level": levels[0].lower()})
    assert sev.status == 200
    assert sev.body["severity"] == levels[0]
    bad = await call(w, w.alice, "POST", path + "/severity", json={"level": "nope"})
    assert bad.status == 400
    assert bad.error["id"] == "unknown_severity"
    assert levels[0] in bad.error["message"]


async def test_tasks_check_state_assign_add_remove(w: World) -> None:
    incident = await started(w, w.alice, "DB down")
    path = f"/incidents/{incident['id']}"
    task = first_task(incident)
    done = await call(w, w.bob, "POST", f"{path}/tasks/{task['id']}/check", json={"done": True})
    assert done.status == 200, done.body
    assert first_task(done.body)["state"] == TaskState.DONE
    assert first_task(done.body)["done_by"] == w.bob.id
    state = await call(
        w, w.bob, "POST", f"{path}/tasks/{task['id']}/state", json={"state": "in_progress"}
    )
    assert first_task(state.body)["state"] == "in_progress"
    assigned = await call(
        w, w.alice, "POST", f"{path}/tasks/{task['id']}/assign", json={"username": "bob"}
    )
    assert first_task(assigned.body)["assignee_id"] == w.bob.id
    added = await call(w, w.alice, "POST", f"{path}/tasks", json={"stage": 1, "title": "Tell"})
    assert added.status == 201
    new = added.body["stages"][1]["tasks"][-1]
    assert new["title"] == "Tell"
    removed = await call(w, w.alice, "DELETE", f"{path}/tasks/{new['id']}")
    assert removed.status == 200
    assert [t["title"] for t in removed.body["stages"][1]["tasks"]] == ["Confirm recovery"]
    last = removed.body["stages"][1]["tasks"][0]
    refused = await call(w, w.alice, "DELETE", f"{path}/tasks/{last['id']}")
    assert refused.status == 409
    assert refused.error["id"] == "last_task"
    gone = await call(w, w.alice, "POST", f"{path}/tasks/nosuch/check", json={})
    assert gone.status == 404
    kinds = [e["kind"] for e in (await call(w, w.alice, "GET", path)).body["timeline"]]
    assert "task_checked" in kinds and "task_state_changed" in kinds


async def test_bodies_are_checked_with_the_limits_and_words_of_chat(w: World) -> None:
    books = await call(w, w.alice, "GET", "/playbooks", params={"team": w.team.id})
    pb = books.body["items"][0]["id"]
    too_long = "x" * (INCIDENT_NAME.most + 1)
    answer = await call(
        w,
        w.alice,
        "POST",
        "/incidents",
        json={"team_id": w.team.id, "playbook_id": pb, "name": too_long},
    )
    assert answer.status == 400
    assert answer.error == {
        "id": INCIDENT_NAME.reason,
        "message": limit_text(INCIDENT_NAME),
        "field": "name",
    }
    extra = await call(
        w,
        w.alice,
        "POST",
        "/incidents",
        json={"team_id": w.team.id, "playbook_id": pb, "name": "ok", "color": "red"},
    )
    assert extra.status == 400
    assert extra.error["field"] == "color"
    not_json = await call(w, w.alice, "POST", "/incidents", data=b"[1")
    assert not_json.status == 400
    assert not_json.error["id"] == "not_json"


async def test_a_playbook_one_may_not_use_is_refused(w: World) -> None:
    security = w.app.services.playbooks
    books = await security.usable(w.team.id, w.alice.id)
    sec = next(p for p in books if p.title == "Security")
    answer = await call(
        w,
        w.carol,
        "POST",
        "/incidents",
        json={"team_id": w.team.id, "playbook_id": sec.id, "name": "Breach"},
    )
    assert answer.status == 400
    assert answer.error["id"] == "playbook_not_usable"
    assert (await call(w, w.carol, "GET", f"/playbooks/{sec.id}")).status == 404
    seen = await call(w, w.alice, "GET", f"/playbooks/{sec.id}")
    assert seen.status == 200
    assert seen.body["stages"] == [{"title": "Contain", "tasks": ["Rotate credentials"]}]


async def test_cursor_pagination_walks_every_incident_once(w: World) -> None:
    for n in range(5):
        await started(w, w.alice, f"Incident {n}")
    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        params = {"limit": "2", "sort": "name"}
        if cursor:
            params["cursor"] = cursor
        page = await call(w, w.alice, "GET", "/incidents", params=params)
        assert page.status == 200, page.body
        seen += [i["name"] for i in page.body["items"]]
        cursor = page.body["next_cursor"]
        if not cursor:
            break
    assert seen == [f"Incident {n}" for n in range(5)]
    bad = await call(w, w.alice, "GET", "/incidents", params={"cursor": "garbage!"})
    assert bad.status == 400
    assert bad.error["field"] == "cursor"


async def test_filters(w: World) -> None:
    one = await started(w, w.alice, "One")
    await started(w, w.alice, "Two")
    await call(w, w.alice, "POST", f"/incidents/{one['id']}/end")
    ended = await call(w, w.alice, "GET", "/incidents", params={"status": "ended"})
    assert [i["name"] for i in ended.body["items"]] == ["One"]
    mine = await call(w, w.alice, "GET", "/incidents", params={"commander": w.bob.id})
    assert mine.body["items"] == []
    window = await call(
        w, w.alice, "GET", "/incidents", params={"ended_after": str(one["created_at"])}
    )
    assert [i["name"] for i in window.body["items"]] == ["One"]
    wrong = await call(w, w.alice, "GET", "/incidents", params={"status": "paused"})
    assert wrong.status == 400
    assert wrong.error["field"] == "status"


async def test_stats_count_what_the_caller_may_view(w: World) -> None:
    await started(w, w.alice, "Private one")
    alice = await call(w, w.alice, "GET", "/stats", params={"team": w.team.id})
    carol = await call(w, w.carol, "GET", "/stats", params={"team": w.team.id})
    assert alice.status == carol.status == 200
    assert alice.body["total"]["started"] == 1
    assert carol.body["total"]["started"] == 0


async def test_unknown_routes_and_methods_answer_in_the_error_shape(w: World) -> None:
    missing = await call(w, w.alice, "GET", "/nothing-here")
    assert missing.status == 404
    assert missing.error["id"] == "route_not_found"
    wrong = await call(w, w.alice, "PUT", "/incidents")
    assert wrong.status == 405
    assert wrong.error["id"] == "method_not_allowed"


async def test_openapi_description_is_served(w: World) -> None:
    answer = await call(w, None, "GET", "/openapi.json")
    assert answer.status == 200
    assert answer.body["openapi"] == "3.1.0"
    assert "/incidents/{incident_id}/tasks/{task_id}/check" in answer.body["paths"]
