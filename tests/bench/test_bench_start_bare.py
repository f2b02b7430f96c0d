"""A smoke run of the start-vs-bare benchmark: two starts, the summary line, no timing asserted."""

from __future__ import annotations

import re

from bench.bench_start_bare import main


def test_the_start_benchmark_replays_warrooms_own_calls_and_prints_one_line() -> None:
    line = main(["--starts", "2"])
    assert "\n" not in line
    found = re.search(
        r"median [\d.]+ ms p90 [\d.]+ ms, (\d+) REST calls; the same calls made bare one after"
        r" another median [\d.]+ ms p90 [\d.]+ ms, (\d+) calls; ratio [\d.]+x",
        line,
    )
    assert found and int(found.group(1)) > 5, line
    assert found.group(1) == found.group(2), line  # the bare sequence is warroom's own calls
