"""A smoke run of the start benchmark: two starts, its figures printed, no timing asserted."""

from __future__ import annotations

import pytest

from bench.bench_start import main


def test_the_start_benchmark_starts_incidents_and_reports_their_calls(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["--starts", "2"])
    out = capsys.readouterr().out
    assert "starts: 2" in out
    assert "dialog closed   median" in out
    assert "REST calls per start: median" in out
