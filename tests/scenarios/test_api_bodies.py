"""Request bodies and queries of the REST API are read as chat's callbacks are, with chat's
limits.

Rule: an API body is refused (400, the one error shape, never a 500) for what a chat callback
is refused for — JSON nested deeper than the callbacks allow, a key given twice, not UTF-8 —
and every body whose fields fit the limits of chat is read (no 413 below them). A query
parameter, like a callback field, may be given once.
"""

from __future__ import annotations

import json

from bot.domain.limits import IMPORT_FILE
from tests.scenarios.api_client import call
from tests.scenarios.harness import World
from tests.scenarios.test_api import started


async def test_a_body_chat_would_refuse_is_a_400_in_the_error_shape(w: World) -> None:
    incident = await started(w, w.alice, "DB down")
    path = f"/incidents/{incident['id']}/status-updates"
    for raw in (
        b'{"message": ' + b"[" * 5000 + b"]" * 5000 + b"}",  # deeper than Python's recursion
        b'{"message": "Checkout is back.", "message": "Checkout is down."}',  # which one?
        b'{"message": "Checkout is back.", "reminder_seconds": NaN}',
        b"\xff\xfe",
    ):
        answer = await call(w, w.alice, "POST", path, data=raw)
        assert answer.status == 400, (raw[:40], answer.body)
        assert answer.error["id"] == "not_json"
    detail = await call(w, w.alice, "GET", f"/incidents/{incident['id']}")
    assert detail.body["status_updates"] == []  # nothing was posted


async def test_a_playbook_import_as_long_as_chat_takes_is_read(w: World) -> None:
    """An import text at chat's limit, sent by a client that escapes every non-ASCII
    character (json.dumps does), is read and judged on its content: not a 413."""
    text = "# " + "é" * (IMPORT_FILE.most - 2)
    body = json.dumps({"team_id": w.team.id, "text": text}).encode()
    assert len(body) > 1024 * 1024
    answer = await call(w, w.alice, "POST", "/playbooks/import", data=body)
    assert answer.status == 400, answer.body
    assert answer.error["field"] == "text"  # read, then found to hold no playbook
    over = json.dumps({"team_id": w.team.id, "text": "x" * 13 * IMPORT_FILE.most}).encode()
    answer = await call(w, w.alice, "POST", "/playbooks/import", data=over)
    assert answer.status == 413
    assert answer.error["id"] == "too_large"
    assert "too large" in answer.error["message"]


async def test_a_query_parameter_given_twice_is_refused_not_half_read(w: World) -> None:
    """``status=ongoing&status=ended`` is not an "or": it is refused, like a repeated key."""
    ended = await started(w, w.alice, "Old one")
    await call(w, w.alice, "POST", f"/incidents/{ended['id']}/end")
    await started(w, w.alice, "New one")
    answer = await call(w, w.alice, "GET", "/incidents?status=ongoing&status=ended")
    assert answer.status == 400, answer.body
    assert answer.error["id"] == "invalid_field"
    assert answer.error["field"] == "status"
    assert answer.error["message"] == "This field is given more than once."


async def test_every_operation_with_a_body_describes_the_413_it_can_answer(w: World) -> None:
    """What the edge answers for any operation with a body (too large) is in its description."""
    document = (await call(w, w.alice, "GET", "/openapi.json")).body
    with_body = [
        (path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if "requestBody" in op
    ]
    assert with_body
    incident = await started(w, w.alice, "DB down")
    huge = b'{"x": "' + b"x" * (13 * IMPORT_FILE.most) + b'"}'
    for path, method, op in with_body:
        real = path.replace("{incident_id}", incident["id"]).replace("{task_id}", "t")
        answer = await call(
            w, w.alice, method.upper(), real.replace("{playbook_id}", "p"), data=huge
        )
        assert answer.status == 413, (path, answer.body)
        assert "413" in op["responses"], op["operationId"]
        assert op["responses"]["413"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/ErrorOut"
        )
