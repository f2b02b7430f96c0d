"""Callbacks that are not what Mattermost sends get 400 (413 when too large) before any work.

One scenario per kind of malformed request the fault run sent (issue 10, point 6), each
written byte by byte to warroom's real HTTP app, as a forger or a broken proxy would. Each
must cost a counter labelled by endpoint and reason and one log line at most: no call to
Mattermost, no traceback, no error in the logs. Mattermost itself sends slash commands as
``application/x-www-form-urlencoded`` and clicks and dialogs as ``application/json``
(tests/fixtures/mattermost/hook_*.json).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from structlog.testing import capture_logs

from bot.render import messages
from bot.transport.http import REJECTED
from bot.transport.intake import MAX_BODY
from tests.raw_http import RawResponse, raw_post
from tests.scenarios.harness import World

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mattermost"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
JSON_ENDPOINTS = ["action", "dialog"]


def recorded(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())["body"]
    return body


PAYLOADS = {
    "action": recorded("hook_button_action_request"),
    "dialog": recorded("hook_dialog_submission"),
}


def command_form(w: World, **changes: str) -> dict[str, str]:
    """What Mattermost would send for alice's `/incident list` in town square."""
    form = {
        "token": w.settings.command_tokens[0].get_secret_value(),
        "team_id": w.team.id,
        "team_domain": "acme",
        "channel_id": w.town.id,
        "channel_name": "town-square",
        "user_id": w.alice.id,
        "user_name": "alice",
        "command": "/incident",
        "text": "list",
        "trigger_id": "trigger",
        "response_url": "",
    }
    return {**form, **changes}


async def refused(
    w: World,
    caplog: pytest.LogCaptureFixture,
    endpoint: str,
    body: bytes,
    headers: list[tuple[str, str]],
    *,
    reason: str,
    status: int = 400,
) -> RawResponse:
    """Send it; assert the refusal and that it cost only the counter and one log line."""
    await w.settle()
    w.mm.requests.clear()
    before = w.app.metrics.value(REJECTED, endpoint=endpoint, reason=reason)
    with capture_logs() as logs:
        resp = await raw_post(w.app.url, f"/mattermost/{endpoint}", body, headers)
    assert resp.status == status, (resp.status, resp.body[:300])
    assert resp.json() == {"error": messages.malformed_callback()}
    assert w.app.metrics.value(REJECTED, endpoint=endpoint, reason=reason) == before + 1
    assert w.mm.requests == []  # nothing was asked of Mattermost: no work was done
    assert len(logs) <= 1
    assert all(e["log_level"] == "warning" and "exc_info" not in e for e in logs)
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []
    return resp


@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS)
async def test_json_nested_1000_levels_deep(
    w: World, caplog: pytest.LogCaptureFixture, endpoint: str
) -> None:
    deep_context = {**PAYLOADS[endpoint]}
    text = json.dumps(deep_context)[:-1] + ', "context": ' + '{"a": ' * 1000 + "1" + "}" * 1001
    await refused(w, caplog, endpoint, text.encode(), [("Content-Type", JSON)], reason="nesting")
    arrays = b"[" * 1000 + b"]" * 1000
    await refused(w, caplog, endpoint, arrays, [("Content-Type", JSON)], reason="nesting")


async def test_body_that_is_not_utf8(w: World, caplog: pytest.LogCaptureFixture) -> None:
    form = urlencode(command_form(w, text="start café"), encoding="latin-1").encode()
    await refused(w, caplog, "command", form, [("Content-Type", FORM)], reason="encoding")
    raw = urlencode(command_form(w)).encode() + b"&text=caf\xe9"
    await refused(w, caplog, "command", raw, [("Content-Type", FORM)], reason="encoding")
    for endpoint in JSON_ENDPOINTS:
        body = json.dumps({**PAYLOADS[endpoint], "user_name": "é"}, ensure_ascii=False)
        for encoding in ("latin-1", "utf-16"):
            await refused(
                w,
                caplog,
                endpoint,
                body.encode(encoding),
                [("Content-Type", JSON)],
                reason="encoding",
            )


async def test_unknown_or_other_charset(w: World, caplog: pytest.LogCaptureFixture) -> None:
    form = urlencode(command_form(w)).encode()
    for charset in ("x-klingon", "latin-1", ""):
        headers = [("Content-Type", f"{FORM}; charset={charset}")]
        await refused(w, caplog, "command", form, headers, reason="charset")
    for endpoint in JSON_ENDPOINTS:
        body = json.dumps(PAYLOADS[endpoint]).encode()
        headers = [("Content-Type", f"{JSON}; charset=x-klingon")]
        await refused(w, caplog, endpoint, body, headers, reason="charset")


@pytest.mark.parametrize("endpoint", ["command", *JSON_ENDPOINTS])
async def test_multipart_without_a_boundary(
    w: World, caplog: pytest.LogCaptureFixture, endpoint: str
) -> None:
    body = b"--x\r\nContent-Disposition: form-data; name=token\r\n\r\nabc\r\n--x--\r\n"
    headers = [("Content-Type", "multipart/form-data")]
    await refused(w, caplog, endpoint, body, headers, reason="content_type")


async def test_wrong_content_types(w: World, caplog: pytest.LogCaptureFixture) -> None:
    """A body that would be read is still refused under a type Mattermost does not send it as."""
    form = urlencode(command_form(w)).encode()
    for ctype in (JSON, "text/plain", "multipart/form-data; boundary=x", None):
        headers = [("Content-Type", ctype)] if ctype else []
        await refused(w, caplog, "command", form, headers, reason="content_type")
    for endpoint in JSON_ENDPOINTS:
        body = json.dumps(PAYLOADS[endpoint]).encode()
        for ctype in (FORM, "text/plain", "application/json-patch+json", None):
            headers = [("Content-Type", ctype)] if ctype else []
            await refused(w, caplog, endpoint, body, headers, reason="content_type")
    assert w.mm.ephemerals(w.alice.id) == []  # the well-formed command was never run


@pytest.mark.parametrize("endpoint", ["command", *JSON_ENDPOINTS])
async def test_huge_bodies(w: World, caplog: pytest.LogCaptureFixture, endpoint: str) -> None:
    media = FORM if endpoint == "command" else JSON
    huge = b"x" * (MAX_BODY + 1)
    await refused(
        w, caplog, endpoint, huge, [("Content-Type", media)], reason="too_large", status=413
    )


@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS)
async def test_json_that_is_not_an_object(
    w: World, caplog: pytest.LogCaptureFixture, endpoint: str
) -> None:
    for body in (b"[]", json.dumps([PAYLOADS[endpoint]]).encode(), b'"x"', b"1", b"null"):
        await refused(w, caplog, endpoint, body, [("Content-Type", JSON)], reason="not_object")


async def test_duplicate_fields(w: World, caplog: pytest.LogCaptureFixture) -> None:
    """A field given twice: the token check and the command would not read the same one."""
    form = urlencode([*command_form(w).items(), ("team_id", "x" * 26)]).encode()
    await refused(w, caplog, "command", form, [("Content-Type", FORM)], reason="duplicate")
    for endpoint in JSON_ENDPOINTS:
        text = json.dumps(PAYLOADS[endpoint])[:-1] + f', "user_id": "{w.bob.id}"}}'
        await refused(
            w, caplog, endpoint, text.encode(), [("Content-Type", JSON)], reason="duplicate"
        )
    assert w.mm.ephemerals(w.alice.id) == []


async def test_missing_fields(w: World, caplog: pytest.LogCaptureFixture) -> None:
    """With a valid token, a command without its channel is not Mattermost's either."""
    form = command_form(w)
    del form["channel_id"]
    body = urlencode(form).encode()
    await refused(w, caplog, "command", body, [("Content-Type", FORM)], reason="fields")
    for endpoint in JSON_ENDPOINTS:
        for missing in ("user_id", "callback_id" if endpoint == "dialog" else "post_id"):
            payload = {k: v for k, v in PAYLOADS[endpoint].items() if k != missing}
            body = json.dumps(payload).encode()
            await refused(w, caplog, endpoint, body, [("Content-Type", JSON)], reason="fields")
    assert w.mm.ephemerals(w.alice.id) == []


async def test_a_flood_of_one_kind_logs_one_line(w: World) -> None:
    """A hundred malformed requests: a hundred counts, one log line."""
    with capture_logs() as logs:
        for _ in range(100):
            resp = await raw_post(
                w.app.url, "/mattermost/action", b"[" * 1000, [("Content-Type", JSON)]
            )
            assert resp.status == 400
    assert w.app.metrics.value(REJECTED, endpoint="action", reason="nesting") == 100
    # Only the lines about callbacks: the start-up re-sync may log meanwhile.
    about = [e for e in logs if "endpoint" in e or str(e["event"]).startswith("callback")]
    assert [e["event"] for e in about] == ["callback_refused"]
    assert (about[0]["endpoint"], about[0]["reason"]) == ("action", "nesting")


async def test_what_mattermost_sends_is_still_answered(w: World) -> None:
    """The same requests, well formed, reach warroom: a command, a click, a dialog."""
    reply = await w.command(w.alice, "help")
    assert "/incident start" in str(reply)
    incident = await w.start_incident(w.alice, "Disk full")
    await w.click(w.alice, incident.card_post_id, "Update status")
    assert w.mm.dialogs(w.alice.id)[-1]["dialog"]["callback_id"]
    assert w.app.metrics.total(REJECTED) == 0
