"""The OpenAPI description holds: a property-based API tester (schemathesis) against warroom
running on the Mattermost double. Rule: for any request the description allows (and many it
does not), warroom never answers 500, and every answer matches the description — its status
is one the operation lists and its body the schema of that status.

Bounded for CI: a few examples per operation, derandomized (the same requests every run).
"""

from __future__ import annotations

import asyncio
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.transport.api.openapi import openapi
from tests.scenarios.api_client import call
from tests.scenarios.harness import World

MAX_EXAMPLES = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def use_real_ids(case: Any, real: dict[str, str]) -> None:
    """Put ids that exist into ``case`` (a random id is almost always "not found", which
    would leave the handlers behind the lookups untested)."""
    for key in ("incident_id", "task_id", "playbook_id"):
        if case.path_parameters and key in case.path_parameters:
            case.path_parameters[key] = real[key]
    if case.query and "team" in case.query:
        case.query["team"] = real["team_id"]
    if isinstance(case.body, dict):
        for key in ("team_id", "playbook_id"):
            if key in case.body:
                case.body[key] = real[key]


def exercise(base_url: str, token: str, real: dict[str, str]) -> list[str]:
    """Run every operation's examples, half of them on ids that exist (``real``: team_id,
    incident_id, task_id, playbook_id); the failures, one line each (empty when none)."""
    schema = schemathesis.openapi.from_dict(openapi())
    failures: list[str] = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):  # the description itself is broken
            failures.append(f"invalid operation: {result!r}")
            continue
        operation = result.ok()

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), existing=st.booleans())
        def run(case: Any, existing: bool) -> None:
            if existing:
                use_real_ids(case, real)
            response = case.call(
                base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # one line per failing operation, all operations run
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:2000]}")
    return failures


async def test_every_answer_matches_the_description_and_none_is_a_500(w: World) -> None:
    books = await call(w, w.alice, "GET", "/playbooks", params={"team": w.team.id})
    pb = books.body["items"][0]["id"]
    start = {"team_id": w.team.id, "playbook_id": pb, "name": "Seeded"}
    seeded = await call(w, w.alice, "POST", "/incidents", json=start)
    assert seeded.status == 201
    real = {
        "team_id": w.team.id,
        "playbook_id": pb,
        "incident_id": seeded.body["id"],
        "task_id": seeded.body["stages"][1]["tasks"][0]["id"],
    }
    failures = await asyncio.to_thread(exercise, f"{w.app.url}/api/v1", w.alice.token, real)
    assert failures == [], "\n".join(failures)
