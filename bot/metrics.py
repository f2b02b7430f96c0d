"""A few Prometheus counters and gauges, exposed as text at /metrics."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable


class Metrics:
    def __init__(self) -> None:
        self._counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        self._help: dict[str, str] = {}
        self._gauges: dict[str, Callable[[], float]] = {}

    def inc(self, name: str, help: str = "", value: float = 1.0, **labels: str) -> None:
        self._help.setdefault(name, help)
        self._counters[(name, tuple(sorted(labels.items())))] += value

    def gauge(self, name: str, help: str, read: Callable[[], float]) -> None:
        self._help[name] = help
        self._gauges[name] = read

    def value(self, name: str, **labels: str) -> float:
        return self._counters.get((name, tuple(sorted(labels.items()))), 0.0)

    def total(self, name: str) -> float:
        """The sum of a counter over all its labels."""
        return sum(v for (n, _), v in self._counters.items() if n == name)

    def render(self) -> str:
        lines: list[str] = []
        seen: set[str] = set()
        for (name, labels), value in sorted(self._counters.items()):
            if name not in seen:
                seen.add(name)
                lines += [f"# HELP {name} {self._help.get(name, '')}", f"# TYPE {name} counter"]
            label_text = ",".join(f'{k}="{v}"' for k, v in labels)
            lines.append(f"{name}{{{label_text}}} {value}" if label_text else f"{name} {value}")
        for name, read in sorted(self._gauges.items()):
            lines += [
                f"# HELP {name} {self._help[name]}",
                f"# TYPE {name} gauge",
                f"{name} {read()}",
            ]
        return "\n".join(lines) + "\n"
