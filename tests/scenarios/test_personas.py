"""The permission table, persona by persona, for changing and viewing an incident.

Clicks are replayed straight at warroom with the button's real context, as if Mattermost had
forwarded them: warroom must refuse whoever may not act, whatever the server lets through.
"""

from typing import Any

import aiohttp
import pytest

from tests.scenarios.harness import World


async def click_as(w: World, user: Any, post_id: str, label: str) -> dict[str, Any]:
    post = w.mm.state.posts[post_id]
    action = next(a for a in post["props"]["attachments"][0]["actions"] if a["name"] == label)
    body = {
        "user_id": user.id,
        "user_name": user.username,
        "channel_id": post["channel_id"],
        "post_id": post_id,
        "team_id": w.team.id,
        "trigger_id": "",
        "type": "button",
        "context": action["integration"]["context"],
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(action["integration"]["url"], json=body) as resp,
    ):
        result: dict[str, Any] = await resp.json()
    await w.settle()
    return result


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("admin", True), ("alice", True), ("bob", True), ("carol", False), ("dave", False)],
)
async def test_who_may_restart_an_incident(w: World, persona: str, allowed: bool) -> None:
    incident = await w.start_incident(w.alice, "Disk full")  # private; alice commands, bob invited
    await w.command(w.alice, "end", incident.channel_id)
    await w.submit(w.alice, {}, w.dialog(w.alice))
    result = await click_as(w, getattr(w, persona), incident.card_post_id, "Restart incident")
    restarted = (await w.reload(incident)).is_ongoing
    assert restarted is allowed
    if not allowed:
        assert "Only members of the incident channel" in result["ephemeral_text"]


async def test_outsider_sees_no_playbooks_and_the_server_refuses_his_clicks(w: World) -> None:
    assert await w.app.services.playbooks.usable(w.team.id, w.dave.id) == []
    incident = await w.start_incident(w.carol, "Open drill", playbook="Public drill")
    result = await w.mm.click(w.dave, incident.card_post_id, "end")
    assert result.status == 403
    assert (await w.reload(incident)).is_ongoing
