"""A smoke run of the start-vs-bare benchmark: warroom, the double and the bare sequence each
in its own process, two starts, the summary line; no timing asserted."""

from __future__ import annotations

import re

from bench.bench_start_bare import main


def test_the_start_benchmark_replays_warrooms_own_calls_from_its_own_process() -> None:
    line = main(["--starts", "2"])
    assert "\n" not in line
    found = re.search(
        r"median [\d.]+ ms p90 [\d.]+ ms, (\d+) REST calls in (\d+) sequential round trips, "
        r"warroom in its own process; the same calls made bare one after another from a "
        r"process of their own median [\d.]+ ms p90 [\d.]+ ms, (\d+) calls; ratio [\d.]+x",
        line,
    )
    assert found and int(found.group(1)) > 5, line
    assert 0 < int(found.group(2)) <= int(found.group(1)), line
    assert found.group(1) == found.group(3), line  # the bare sequence is warroom's own calls
    assert re.search(r"CPU per start warroom [\d.]+ ms, bare [\d.]+ ms", line), line
    assert line.endswith("bare calls refused 0"), line  # each replayed call did its work
