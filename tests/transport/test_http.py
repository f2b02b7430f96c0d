"""The HTTP edge: rate-limited refusals, and random malformed callbacks fed through the real
app (a property test)."""

from __future__ import annotations

import json
import logging
import string
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from bot.commands.router import CommandRequest, Reply
from bot.interactions.router import ActionResponse
from bot.render import messages
from bot.transport.http import REJECTED, RefusalLog, _late_reply
from bot.transport.intake import MAX_BODY
from tests.raw_http import raw_post
from tests.scenarios.harness import World, world

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mattermost"


def test_refusals_log_one_line_per_endpoint_and_reason_per_window() -> None:
    now = [0.0]
    refusals = RefusalLog(every=60.0, clock=lambda: now[0])
    with capture_logs() as logs:
        for _ in range(5):
            refusals.note("action", "nesting")
        refusals.note("action", "syntax")
        refusals.note("dialog", "nesting")
        now[0] += 61
        refusals.note("action", "nesting")
    lines = [(e["endpoint"], e["reason"], e["unlogged"]) for e in logs]
    assert lines == [
        ("action", "nesting", 0),
        ("action", "syntax", 0),
        ("dialog", "nesting", 0),
        ("action", "nesting", 4),  # the next line says how many were not logged
    ]
    assert all(e["log_level"] == "warning" and "exc_info" not in e for e in logs)


# ---- the property test ----------------------------------------------------------------------
def _recorded(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())["body"]
    return body


FORM = {**_recorded("hook_slash_command_request"), "token": "forged"}
JSON_BODIES = [
    _recorded(name)
    for name in (
        "hook_button_action_request",
        "hook_select_action_request",
        "hook_dialog_submission",
        "hook_dialog_cancelled",
    )
]
HEADER_TEXT = string.ascii_letters + string.digits + " ;=/-+_.,\"'"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@st.composite
def json_mutants(draw: st.DrawFn) -> bytes:
    """A recorded payload with fields dropped, replaced, repeated, re-encoded or nested."""
    body = dict(draw(st.sampled_from(JSON_BODIES)))
    keys = sorted(body)
    for key in draw(st.lists(st.sampled_from(keys), max_size=3)):
        body.pop(key, None)
    for key in draw(st.lists(st.sampled_from(keys), max_size=2)):
        body[key] = draw(json_values)
    text = json.dumps(body, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()) and keys:
        key = draw(st.sampled_from(keys))
        text = text[:-1] + f', "{key}": {json.dumps(draw(json_values))}' + "}"
    depth = draw(st.sampled_from([0, 0, 40, 1000]))
    text = '{"context": ' * depth + text + "}" * depth
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "latin-1", "cp1252"]))
    return text.encode(encoding, errors="replace")


@st.composite
def form_mutants(draw: st.DrawFn) -> bytes:
    """The recorded slash-command form (forged token) with fields dropped, changed or repeated."""
    pairs = [(k, str(v)) for k, v in sorted(FORM.items())]
    keys = sorted(FORM)
    drop = set(draw(st.lists(st.sampled_from(keys), max_size=3)))
    pairs = [(k, v) for k, v in pairs if k not in drop]
    for key in draw(st.lists(st.sampled_from(keys), max_size=2)):
        pairs.append((key, draw(st.text(max_size=30))))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "latin-1", "utf-16"]))
    raw = urlencode(pairs, encoding=encoding, errors="replace").encode()
    return raw + draw(st.sampled_from([b"", b"&text=%FF", b"&text=\xff\xfe", b"&&=&"]))


noise = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=100).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.integers(min_value=30, max_value=3000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(min_value=30, max_value=3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.just(b"x" * (MAX_BODY + 1)),
)
other_types = st.one_of(
    st.sampled_from(
        [
            "application/json; charset=utf-8",
            "application/x-www-form-urlencoded; charset=UTF-8",
            "application/json; charset=latin-1",
            "application/x-www-form-urlencoded; charset=x-klingon",
            "application/json; charset=",
            "multipart/form-data",
            "multipart/form-data; boundary=xyz",
            "text/plain",
            "application/octet-stream",
            "APPLICATION/JSON",
            "application/json; boundary=x",
        ]
    ),
    st.text(alphabet=HEADER_TEXT, max_size=40),
)
ENDPOINTS = {
    "command": ("application/x-www-form-urlencoded", form_mutants()),
    "action": ("application/json", json_mutants()),
    "dialog": ("application/json", json_mutants()),
}


@st.composite
def callbacks(draw: st.DrawFn) -> tuple[str, bytes, list[tuple[str, str]]]:
    """(endpoint, body, headers): mostly near what Mattermost sends, sometimes far from it."""
    endpoint = draw(st.sampled_from(sorted(ENDPOINTS)))
    media_type, mutants = ENDPOINTS[endpoint]
    body = draw(st.one_of(mutants, mutants, noise))
    types = draw(
        st.one_of(
            st.just([media_type]),
            st.just([media_type]),
            st.lists(other_types, min_size=1, max_size=1),
            st.lists(st.just(media_type) | other_types, min_size=0, max_size=2),
        )
    )
    headers = [("Content-Type", t) for t in types]
    encoding = draw(st.sampled_from([None] * 6 + ["gzip", "deflate", "br", "identity", "x-bogus"]))
    headers += [("Content-Encoding", encoding)] if encoding else []
    auth = draw(st.sampled_from([None, None, "Token forged", "Token other", "Bearer x"]))
    headers += [("Authorization", auth)] if auth else []
    return endpoint, body, headers


@pytest.fixture
async def idle(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path) as built:
        await built.settle()
        yield built


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(request=callbacks())
async def test_random_malformed_callbacks_get_a_fixed_answer_before_any_work(
    idle: World, caplog: pytest.LogCaptureFixture, request: tuple[str, bytes, list[tuple[str, str]]]
) -> None:
    """The rule, for any body and headers (no valid token or signature among them): the
    answer is 400 (413 over the size cap) or the fixed answer to a forged callback; never a
    5xx, never a traceback or an error in the logs, never a call to Mattermost."""
    w = idle
    endpoint, body, headers = request
    w.mm.requests.clear()
    rejected = w.app.metrics.total(REJECTED)
    traced = len([r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR])
    with capture_logs() as logs:
        resp = await raw_post(w.app.url, f"/mattermost/{endpoint}", body, headers)
    assert resp.status in (200, 400, 413), (resp.status, resp.body[:300])
    if resp.status == 200:
        answer = resp.json()
        assert answer in (
            Reply(messages.unknown_command_token()).to_json(),
            ActionResponse(ephemeral_text=messages.bad_callback()).to_json(),
            {"error": messages.field_error("stale_dialog")},
            {},  # a well-formed cancelled dialog: Mattermost just closes it
        ), answer
    elif resp.headers.get("content-type", "").startswith("application/json"):
        assert resp.json() == {"error": messages.malformed_callback()}
        assert w.app.metrics.total(REJECTED) > rejected
    else:  # refused by aiohttp's HTTP parser (e.g. Content-Type twice), counted as bad_http
        assert w.app.metrics.total(REJECTED) > rejected
    assert w.mm.requests == []
    assert [e for e in logs if e["log_level"] in ("error", "critical") or "exc_info" in e] == []
    assert len([r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]) == traced
    assert traced == 0


# ---- a slow command's late reply (issue 9, kind 6) ------------------------------------------
ID = "a" * 26


class _Notifier:
    def __init__(self) -> None:
        self.told: list[tuple[str, str, str]] = []

    async def tell(self, user_id: str, channel_id: str, message: str, props: Any = None) -> None:
        self.told.append((user_id, channel_id, message))


async def test_a_late_reply_mattermost_will_not_take_reaches_the_caller_privately() -> None:
    """Kind 6: a slow command's answer is never lost when its response_url cannot be used."""
    notifier = _Notifier()
    req = CommandRequest(token="t", team_id=ID, channel_id=ID, user_id=ID, response_url="nope")

    async def work() -> Reply:
        return Reply("Imported **Escalation**")

    await _late_reply(SimpleNamespace(notifier=notifier), work(), req)  # type: ignore[arg-type]
    assert notifier.told and notifier.told[0][:2] == (ID, ID)
    assert "Imported **Escalation**" in notifier.told[0][2]
