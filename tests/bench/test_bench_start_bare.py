"""A smoke run of the start-vs-bare benchmark: two starts, the summary line, no timing asserted."""

from __future__ import annotations

import re

from bench.bench_start_bare import main


def test_the_start_benchmark_replays_warrooms_own_calls_and_prints_one_line() -> None:
    line = main(["--starts", "2"])
    assert "\n" not in line
    found = re.search(r"the same (\d+) REST calls made bare [\d.]+ ms; ratio [\d.]+x", line)
    assert found and int(found.group(1)) > 5, line
