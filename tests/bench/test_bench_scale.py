"""A smoke run of the scale benchmark: a tiny size, the summary line, no timing asserted."""

from __future__ import annotations

import re

from bench.bench_scale import main


def test_the_scale_benchmark_runs_warroom_in_its_own_process_and_prints_one_line() -> None:
    line = main(["--incidents", "40", "--reads", "3"])
    assert "\n" not in line
    assert line.startswith(
        "scale 40 incidents (20 ongoing, 30 events each, 40 reminders), warroom in its own"
        " process: "
    )
    for read in ("list", "info", "stats 30", "timeline", "help"):
        assert re.search(rf"{read} p50 [\d.]+ ms p99 [\d.]+ ms", line)
    # warroom's own time per command, from the log of the process it runs in.
    assert re.search(r"warroom's own p50/p99 \(its log\): list [\d.]+/[\d.]+ ms", line)
    assert "Mattermost requests while reading: 0;" in line
    # Read from /proc/<pid>/status of the warroom process (VmRSS, VmHWM), never 0.
    assert re.search(r"warroom RSS [1-9]\d* MB before the reads, [1-9]\d* MB after", line)
    assert re.search(r"start to ready [\d.]+ s .*members listed [\d.]+ s, re-sync done", line)
    # Seeded in steady state: the cards and checklists show what warroom would send.
    assert line.endswith("(0 posts sent or updated by then)")
