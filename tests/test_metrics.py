"""bot/metrics.py: Prometheus metrics of one warroom instance."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics


async def families(metrics: Metrics) -> dict[str, str]:
    """Metric family name -> its type, as a Prometheus server parses the exposition."""
    text = (await metrics.render()).decode()
    return {f.name: f.type for f in text_string_to_metric_families(text)}


async def test_each_instance_has_its_own_registry() -> None:
    one, two = Metrics(), Metrics()
    one.inc("warroom_callbacks_rejected_total", "Callbacks refused", kind="command")
    assert one.value("warroom_callbacks_rejected_total", kind="command") == 1
    assert two.value("warroom_callbacks_rejected_total", kind="command") == 0


async def test_counters_are_counters_and_levels_are_gauges() -> None:
    """Rule: what only grows is exposed as a counter, what goes up and down as a gauge."""
    metrics = Metrics()
    metrics.inc("warroom_callbacks_rejected_total", "Callbacks refused", kind="action")
    metrics.counts("warroom_websocket_reconnects", "Reconnects", lambda: 3)
    metrics.counts("warroom_websocket_events", "Events", lambda: {"posted": 2}, label="type")
    metrics.gauge("warroom_background_tasks", "Tasks", lambda: 1)
    metrics.observe_callback("command", "start", 0.2)
    metrics.observe_rest("posts", 0.01, "")
    metrics.observe_rest("posts", 0.02, "503")
    kinds = await families(metrics)
    assert kinds["warroom_callbacks_rejected"] == "counter"
    assert kinds["warroom_websocket_reconnects"] == "counter"
    assert kinds["warroom_websocket_events"] == "counter"
    assert kinds["warroom_mattermost_request_errors"] == "counter"
    assert kinds["warroom_background_tasks"] == "gauge"
    assert kinds["warroom_callback_duration_seconds"] == "histogram"
    assert kinds["warroom_mattermost_request_duration_seconds"] == "histogram"
    assert kinds["warroom_build_info"] == "gauge"  # info metrics are gauges in text format
    assert kinds["process_cpu_seconds"] == "counter"
    assert metrics.value("warroom_mattermost_request_errors_total", group="posts", error="503") == 1
    assert metrics.value("warroom_mattermost_request_duration_seconds_count", group="posts") == 2
    assert metrics.value("warroom_websocket_events_total", type="posted") == 2


async def test_refreshers_run_before_each_scrape() -> None:
    metrics = Metrics(process=False)
    seen: list[int] = []

    async def refresh() -> None:
        seen.append(len(seen))

    metrics.refresh_with(refresh)
    await metrics.render()
    await metrics.render()
    assert seen == [0, 1]
