"""Prometheus metrics of one warroom instance, exposed at ``/metrics``.

Built on ``prometheus_client`` with a registry per instance (tests build many apps in one
process; the library's global default registry would refuse the second set of names).

What is measured, and where it is fed from:

- ``warroom_callback_duration_seconds{kind,name}``: each slash subcommand, button action and
  dialog, from the HTTP edge (bot/transport/http.py);
- ``warroom_callbacks_rejected_total{kind}`` and any counter another module adds with
  :meth:`Metrics.inc`;
- ``warroom_mattermost_request_duration_seconds{group}`` and
  ``warroom_mattermost_request_errors_total{group,error}``: every REST attempt by endpoint
  group (bot/transport/mattermost_client.py, :func:`observe_rest` wiring);
- ``warroom_websocket_reconnects_total``, ``warroom_websocket_events_total{type}``: read from
  the websocket listener at scrape time;
- gauges read at scrape time (:meth:`Metrics.gauge`, :meth:`Metrics.refresh_with`): ongoing
  incidents, pending reminders, background tasks, connection state;
- ``warroom_build_info``, and the library's process, platform and GC collectors.
"""

from __future__ import annotations

import platform
from collections.abc import Awaitable, Callable, Iterable, Mapping
from importlib import metadata

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Callbacks answer within Mattermost's budgets (3 s for a dialog's trigger, 30 s for a
# command); REST calls usually take milliseconds.
CALLBACK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)
REST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def version() -> str:
    """warroom's installed version ("unknown" when run from a tree that is not installed)."""
    try:
        return metadata.version("warroom")
    except metadata.PackageNotFoundError:
        return "unknown"


class _Counts(Collector):
    """Counters kept as plain numbers elsewhere (the websocket listener), read at scrape."""

    def __init__(
        self,
        name: str,
        help: str,
        read: Callable[[], Mapping[str, float] | float],
        label: str = "",
    ) -> None:
        self._name, self._help, self._read, self._label = name, help, read, label

    def collect(self) -> Iterable[Metric]:
        value = self._read()
        family = CounterMetricFamily(
            self._name, self._help, labels=[self._label] if self._label else None
        )
        if isinstance(value, Mapping):
            for key, count in sorted(value.items()):
                family.add_metric([key], count)
        else:
            family.add_metric([], value)
        yield family


class Metrics:
    """The metrics of one app instance; :attr:`registry` is its own registry.

    ``process=False`` leaves out the process/platform/GC collectors (tests that build many
    instances do not need them; the app always has them).
    """

    def __init__(self, *, process: bool = True) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._counters: dict[str, Counter] = {}
        self._refreshers: list[Callable[[], Awaitable[None]]] = []
        self.callbacks = Histogram(
            "warroom_callback_duration_seconds",
            "Time to answer a Mattermost callback, by kind (command, action, dialog) and name"
            " (slash subcommand, button action, dialog)",
            ["kind", "name"],
            buckets=CALLBACK_BUCKETS,
            registry=self.registry,
        )
        self.rest = Histogram(
            "warroom_mattermost_request_duration_seconds",
            "Latency of each Mattermost REST attempt, by endpoint group",
            ["group"],
            buckets=REST_BUCKETS,
            registry=self.registry,
        )
        self.rest_errors = Counter(
            "warroom_mattermost_request_errors",
            "Failed Mattermost REST attempts, by endpoint group and error (HTTP status or"
            " 'network')",
            ["group", "error"],
            registry=self.registry,
        )
        Info("warroom_build", "The running warroom", registry=self.registry).info(
            {"version": version(), "python": platform.python_version()}
        )
        if process:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)

    # ---- counters and gauges any module may add ------------------------------------------
    def inc(self, name: str, help: str = "", value: float = 1.0, **labels: str) -> None:
        """Add ``value`` to counter ``name`` (``_total`` is appended in the exposition if
        missing). The label names of its first use are the counter's label names."""
        base = name.removesuffix("_total")
        counter = self._counters.get(base)
        if counter is None:
            counter = Counter(base, help or base, sorted(labels), registry=self.registry)
            self._counters[base] = counter
        (counter.labels(**labels) if labels else counter).inc(value)

    def value(self, name: str, /, **labels: str) -> float:
        """The current value of a sample (counters: name with ``_total``), 0 when absent."""
        found = self.registry.get_sample_value(name, labels)
        if found is None and not name.endswith("_total"):
            found = self.registry.get_sample_value(name + "_total", labels)
        return found or 0.0

    def total(self, name: str) -> float:
        """The sum of a counter (name with or without ``_total``) over all its labels."""
        sample = name if name.endswith("_total") else name + "_total"
        return sum(
            s.value
            for family in self.registry.collect()
            for s in family.samples
            if s.name == sample
        )

    def gauge(self, name: str, help: str, read: Callable[[], float]) -> None:
        """A gauge whose value is ``read()`` at each scrape."""
        Gauge(name, help, registry=self.registry).set_function(read)

    def counts(
        self,
        name: str,
        help: str,
        read: Callable[[], Mapping[str, float] | float],
        label: str = "",
    ) -> None:
        """A counter kept elsewhere as a number (or a number per ``label`` value)."""
        self.registry.register(_Counts(name, help, read, label))

    def refresh_with(self, refresh: Callable[[], Awaitable[None]]) -> None:
        """Run ``refresh`` (e.g. a database count that sets a gauge) before each scrape."""
        self._refreshers.append(refresh)

    # ---- feeds -------------------------------------------------------------------------
    def observe_callback(self, kind: str, name: str, seconds: float) -> None:
        """One answered callback; ``name`` must come from a bounded set (see http.py)."""
        self.callbacks.labels(kind=kind, name=name).observe(seconds)

    def observe_rest(self, group: str, seconds: float, error: str) -> None:
        """One REST attempt; ``error`` is "" for success, else an HTTP status or "network"."""
        self.rest.labels(group=group).observe(seconds)
        if error:
            self.rest_errors.labels(group=group, error=error).inc()

    async def render(self) -> bytes:
        """The exposition in Prometheus text format, after running the refreshers."""
        for refresh in self._refreshers:
            await refresh()
        return generate_latest(self.registry)
