"""A smoke run of the re-sync benchmark: a tiny size, the summary line, no timing asserted."""

from __future__ import annotations

from bench.bench_resync import main


def test_the_resync_benchmark_sends_only_changed_posts_and_prints_one_line() -> None:
    line = main(["--incidents", "6", "--changed", "2"])
    assert "\n" not in line
    assert "resync: 6 ongoing incidents; unchanged: 0 post calls" in line
    assert "2 changed: 2 post calls" in line
    assert "every post sent (every re-sync before issue 12): 12 calls" in line
    assert "after a restart: 0 post calls" in line
