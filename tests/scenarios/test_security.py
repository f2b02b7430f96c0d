"""Forged, replayed, malformed and oversized callbacks get a fixed answer and change nothing."""

import json

import aiohttp

from tests.scenarios.harness import World


async def post(
    url: str,
    *,
    data: object = None,
    json_body: object = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as session:
        kwargs: dict[str, object] = {"headers": headers or {}}
        if data is not None:
            kwargs["data"] = data
        if json_body is not None:
            kwargs["json"] = json_body
        if raw is not None:
            kwargs["data"] = raw
        async with session.post(url, **kwargs) as resp:  # type: ignore[arg-type]
            text = await resp.text()
            if resp.content_type != "application/json":
                return resp.status, {"raw": text}
            return resp.status, (json.loads(text) if text else {})


async def test_wrong_command_token_is_refused(w: World) -> None:
    form = {
        "token": "forged",
        "team_id": w.team.id,
        "channel_id": w.town.id,
        "user_id": w.alice.id,
        "text": "list",
    }
    status, body = await post(w.app.url + "/mattermost/command", data=form)
    assert status == 200
    assert "does not recognise this slash command's token" in str(body["text"])


async def test_forged_and_tampered_button_contexts_are_refused(w: World) -> None:
    incident = await w.start_incident(w.alice, "Disk full")
    base = {
        "user_id": w.alice.id,
        "channel_id": incident.channel_id,
        "post_id": incident.card_post_id,
        "team_id": w.team.id,
        "trigger_id": "x",
        "type": "button",
    }
    for context in ({}, {"token": "garbage"}, {"token": "a.b"}):
        status, body = await post(
            w.app.url + "/mattermost/action", json_body={**base, "context": context}
        )
        assert status == 200 and "expired" in str(body["ephemeral_text"])
    assert (await w.reload(incident)).is_ongoing
    # a token minted with another key
    from bot.interactions.signing import Signer

    forged = Signer(b"x" * 32).sign("restart", expires_at=2**62, incident_id=incident.id)
    _, body = await post(
        w.app.url + "/mattermost/action", json_body={**base, "context": {"token": forged}}
    )
    assert "expired" in str(body["ephemeral_text"])


async def test_dialog_state_for_another_user_is_refused(w: World) -> None:
    await w.command(w.alice, "start")
    stolen = w.dialog(w.alice)
    result = await w.mm.submit_dialog(
        w.bob,
        stolen,
        {"playbook": w.playbook_id("Outage"), "name": "Stolen"},
        channel_id=w.town.id,
        team_id=w.team.id,
    )
    assert "error" in result
    assert w.mm.channel_by_name(w.team.id, "stolen") is None


async def test_malformed_and_oversized_bodies(w: World) -> None:
    status, body = await post(
        w.app.url + "/mattermost/action",
        raw=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert status == 200 and "ephemeral_text" in body
    status, body = await post(
        w.app.url + "/mattermost/dialog", json_body={"callback_id": "start", "user_id": "../../etc"}
    )
    assert status == 200 and "error" in body
    status, _ = await post(w.app.url + "/mattermost/dialog", raw=b"x" * (300 * 1024))
    assert status == 413
    long_text = {
        "token": "t",
        "team_id": w.team.id,
        "channel_id": w.town.id,
        "user_id": w.alice.id,
        "text": "x" * 5000,
    }
    status, body = await post(w.app.url + "/mattermost/command", data=long_text)
    assert "does not recognise" in str(body["text"])  # token checked before anything else


async def test_health_ready_and_metrics(w: World) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(w.app.url + "/healthz") as resp:
            assert resp.status == 200
        async with session.get(w.app.url + "/readyz") as resp:
            assert resp.status == 200
        await w.command(w.alice, "help")
        async with session.get(w.app.url + "/metrics") as resp:
            text = await resp.text()
    assert "warroom_commands_total" in text
