"""A smoke run of the toggle benchmark: a tiny rate, the summary line, no timing asserted."""

from __future__ import annotations

import re

from bench.bench_toggles import main


def test_the_toggle_benchmark_records_every_answered_toggle_and_prints_one_line() -> None:
    line = main(["--rate", "20", "--seconds", "0.5", "--incidents", "2"])
    assert "\n" not in line
    assert re.search(r"toggles: [\d,]+/s answered of 20/s offered", line)
    assert "warroom in its own process" in line
    # 10 offered and the 2 that captured the double's requests, one per incident
    assert "refused 0; durable: 12 of 12 toggles recorded after kill -9" in line
    assert "lines: 12 of 12 posted exactly once (0 more than once)" in line
