"""A smoke run of the export-walk benchmark: small channels, one line per size, no timing asserted."""

from __future__ import annotations

import re

import pytest

from bench.bench_export_memory import main


def test_the_export_benchmark_walks_every_message_and_prints_a_line_per_size(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main((300, 700))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert re.match(r"\s*300 messages: .* peak .* KiB, doc .* MB", lines[0])
    assert re.match(r"\s*700 messages: ", lines[1])
