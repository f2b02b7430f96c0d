"""What an operator sees of a running warroom: metrics fed by real traffic, and logs that
tie one callback's lines together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
import structlog
from structlog.testing import LogCapture

from bot.commands import dispatch
from bot.transport import http
from tests.scenarios.harness import World, world


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path) as built:
        yield built


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[MutableMapping[str, Any]]]:
    """Every event dict the HTTP edge and the command dispatcher log meanwhile, context
    variables merged. Their loggers are replaced by fresh ones: a logger another test's
    ``bot.log.configure`` cached keeps that test's level and processors."""
    capture = LogCapture()
    old = structlog.get_config()
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, capture],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        cache_logger_on_first_use=False,
    )
    for module in (http, dispatch):
        monkeypatch.setattr(module, "log", structlog.get_logger(module.__name__))
    try:
        yield capture.entries
    finally:
        structlog.configure(**old)


async def test_traffic_feeds_callback_and_rest_metrics_by_name_and_group(w: World) -> None:
    metrics = w.app.metrics
    await w.command(w.alice, "info")
    await w.command(w.alice, "no-such-thing")
    incident = await w.start_incident(w.alice, "Disk full")
    assert (
        metrics.value("warroom_callback_duration_seconds_count", kind="command", name="info") == 1
    )
    assert (
        metrics.value("warroom_callback_duration_seconds_count", kind="command", name="unknown")
        == 1
    )
    assert (
        metrics.value("warroom_callback_duration_seconds_count", kind="dialog", name="start") >= 1
    )
    assert metrics.value("warroom_mattermost_request_duration_seconds_count", group="channels") > 0
    assert metrics.value("warroom_mattermost_request_duration_seconds_count", group="posts") > 0
    text = (await metrics.render()).decode()
    assert "warroom_incidents_ongoing 1.0" in text
    assert "warroom_reminders_pending " in text
    assert "warroom_outbox_depth 0.0" in text  # every post of the start is finished
    assert incident.status == "ongoing"


async def test_one_request_id_ties_a_callbacks_log_lines_with_who_and_where(
    w: World, logs: list[MutableMapping[str, Any]]
) -> None:
    """Rule: every log line a callback causes carries its request id and the ids of the
    user, channel and team it came from."""
    await w.command(w.alice, "list")
    await w.command(w.bob, "list")
    answered = [e for e in logs if e["event"] == "command_answered"]
    assert [e["subcommand"] for e in answered] == ["list", "list"]  # one line each, with it
    ids = {e["request_id"] for e in answered}
    assert len(ids) == 2  # one per callback, never leaked into the next
    first = answered[0]
    assert (first["user_id"], first["channel_id"], first["team_id"]) == (
        w.alice.id,
        w.town.id,
        w.team.id,
    )
    same = [e for e in logs if e.get("request_id") == first["request_id"]]
    assert all(e["user_id"] == w.alice.id for e in same)


async def test_a_reload_never_replaces_usable_playbooks_with_an_unusable_file(
    w: World, tmp_path: Path
) -> None:
    before = [p.title for p in await w.app.services.playbooks.usable(w.team.id, w.alice.id)]
    for text, problem in (
        ("", "the file is empty"),
        ("playbooks:\n  - titel: Bare\n    team: acme\n", "did you mean `title`?"),
    ):
        (tmp_path / "playbooks.yaml").write_text(text)
        reply = await w.command(w.admin, "playbook reload")
        assert problem in reply["text"]
        after = [p.title for p in await w.app.services.playbooks.usable(w.team.id, w.alice.id)]
        assert after == before
