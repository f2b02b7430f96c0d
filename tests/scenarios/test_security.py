"""Forged, replayed, malformed and oversized callbacks get a fixed answer and change nothing."""

import json
from typing import Any

import aiohttp
from pydantic import SecretStr

from bot.domain.limits import COMMAND_TEXT
from bot.render import messages
from bot.render.limits import too_long
from bot.store.db import Database
from bot.store.installation import InstallationStore
from bot.transport.http import REJECTED
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
    from bot.domain.signing import Signer

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
    assert status == 400 and body == {"error": messages.malformed_callback()}
    status, body = await post(
        w.app.url + "/mattermost/dialog", json_body={"callback_id": "start", "user_id": "../../etc"}
    )
    assert status == 400 and body == {"error": messages.malformed_callback()}
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


async def test_a_command_too_long_to_read_is_answered_not_refused(w: World) -> None:
    """Mattermost sends what a person typed, however long: the person is told, clearly."""
    text = "start " + "x" * 17_000  # more than Mattermost's message box takes (16383)
    reply = await w.command(w.alice, text)
    assert reply["text"] == too_long(COMMAND_TEXT, len(text))
    assert w.mm.dialogs(w.alice.id) == []


def _second_team(w: World) -> tuple[Any, Any]:
    beta = w.mm.add_team("beta")
    for user in (w.bob, w.bot):
        w.mm.add_team_member(beta.id, user.id)
    hall = w.mm.add_channel(beta.id, "hall", private=False, members=[w.bob.id, w.bot.id])
    return beta, hall


async def _forge_for(w: World, token: str, team: Any, channel: Any) -> dict[str, object]:
    """What someone who read acme's command token could send, claiming to be bob in beta."""
    form = {
        "token": token,
        "team_id": team.id,
        "channel_id": channel.id,
        "user_id": w.bob.id,
        "command": "/incident",
        "text": "list",
    }
    status, body = await post(
        w.app.url + "/mattermost/command", data=form, headers={"Authorization": f"Token {token}"}
    )
    assert status == 200
    return body


async def test_a_configured_team_token_works_only_from_its_team(w: World) -> None:
    """`WARROOM_COMMAND_TOKENS=<team id>:<token>`: acme's token opens acme only."""
    token = w.settings.command_tokens[0].get_secret_value()
    beta, hall = _second_team(w)
    await w.restart(command_tokens=[SecretStr(f"{w.team.id}:{token}")])
    reply = await w.command(w.alice, "list")
    assert reply["text"] != messages.unknown_command_token()
    assert "You have no ongoing incidents" in str(reply["text"])
    body = await _forge_for(w, token, beta, hall)
    assert body["text"] == messages.unknown_command_token()
    assert w.app.metrics.value(REJECTED, endpoint="command", reason="token") == 1


async def test_a_token_stored_by_setup_works_only_from_its_team(w: World) -> None:
    """`warroom setup` stores team id -> token; each is accepted from that team only."""
    token = w.settings.command_tokens[0].get_secret_value()
    beta, hall = _second_team(w)
    await w.stop_app()
    db = Database(w.settings.db_path)
    await db.open()
    try:
        store = InstallationStore(db)
        installation = await store.load()
        installation.command_tokens = {w.team.id: token}
        await store.save(installation)
    finally:
        await db.close()
    w.settings = w.settings.model_copy(update={"command_tokens": []})
    await w.start_app()
    reply = await w.command(w.alice, "list")
    assert "You have no ongoing incidents" in str(reply["text"])
    body = await _forge_for(w, token, beta, hall)
    assert body["text"] == messages.unknown_command_token()


async def test_health_ready_and_metrics(w: World) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(w.app.url + "/healthz") as resp:
            assert resp.status == 200
        async with session.get(w.app.url + "/readyz") as resp:
            assert resp.status == 200
        await w.command(w.alice, "help")
        async with session.get(w.app.url + "/metrics") as resp:
            text = await resp.text()
    assert 'warroom_callback_duration_seconds_count{kind="command",name="help"} 1.0' in text
