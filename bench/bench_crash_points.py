"""Every kill point, not only the sample the test suite runs (about 2 s per point).

Run from the repository root:  .venv/bin/python -m bench.bench_crash_points [pytest args]

Runs tests/scenarios/test_crash_points.py with ``WARROOM_CRASH_ALL=1``: for each point of
``bot/crashpoints.py`` a real ``warroom run`` is SIGKILLed there, warroom starts again on the
same database, and the end state is checked (no orphan or second channel, reporter in the
channel and told, every post exactly once, timeline complete, one reminder).
"""

from __future__ import annotations

import os
import sys

import pytest


def main(args: list[str]) -> int:
    os.environ["WARROOM_CRASH_ALL"] = "1"
    return int(pytest.main(["-q", "tests/scenarios/test_crash_points.py", *args]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
