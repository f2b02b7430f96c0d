"""A smoke run of the reminder benchmark: a tiny size, every reminder fired once, no timing asserted."""

from __future__ import annotations

import pytest

from bench.bench_reminders import main


def test_the_reminder_benchmark_fires_every_pending_reminder_and_reports(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["--reminders", "40", "--window", "0.2", "--latency-ms", "0", "--idle", "0.1"])
    out = capsys.readouterr().out
    assert "re-arm (start until asleep):" in out
    assert "fired 40 reminders due within 0.2 s" in out
    assert "posted rows: 40" in out
