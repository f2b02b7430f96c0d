"""How long `/incident start` takes, end to end, against the Mattermost test double.

Run from the repository root:  .venv/bin/python -m bench.bench_start [--starts 50]

Reports, per start: the time until the dialog closes (what the user waits for), the time
until the channel is fully set up (card pinned, checklist posted, reporter told), and the
REST calls warroom made. Compare the calls with the recorded cost of the real server's own
work on loopback (tests/fixtures/mattermost/_timings_loopback.json): warroom cannot be faster
than the calls it must make, and the independent ones run concurrently.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from bot.log import configure
from tests.scenarios.harness import world

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "mattermost"


async def measure(count: int) -> None:
    """Start ``count`` incidents one after another and print the figures."""
    closed: list[float] = []
    ready: list[float] = []
    calls: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with world(Path(tmp)) as w:
            for n in range(count):
                await w.command(w.alice, "start")
                dialog = w.dialog(w.alice)
                before = len(w.mm.requests)
                started = time.perf_counter()
                result = await w.mm.submit_dialog(
                    w.alice,
                    dialog,
                    {"playbook": w.playbook_id("Outage", w.alice), "name": f"Bench {n}"},
                    channel_id=w.town.id,
                    team_id=w.team.id,
                )
                closed.append(time.perf_counter() - started)
                assert result == {}, result
                await w.settle()
                ready.append(time.perf_counter() - started)
                calls.append(len(w.mm.requests) - before)
    server = json.loads((FIXTURES / "_timings_loopback.json").read_text())
    floor = server["create_channel_ms"] + server["add_member_ms"] + 3 * server["create_post_ms"]

    def ms(values: list[float], q: float) -> float:
        return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000

    print(f"starts: {count}")
    print(
        f"dialog closed   median {statistics.median(closed) * 1000:7.1f} ms   p95 {ms(closed, 0.95):7.1f} ms"
    )
    print(
        f"fully set up    median {statistics.median(ready) * 1000:7.1f} ms   p95 {ms(ready, 0.95):7.1f} ms"
    )
    print(f"REST calls per start: median {statistics.median(calls)}  (max {max(calls)})")
    print(f"real 5.36 server's own cost for the unavoidable sequential calls: ~{floor:.0f} ms")


def main(argv: list[str] | None = None) -> None:
    """Parse ``argv`` (default: the command line) and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=50, help="incidents started")
    asyncio.run(measure(parser.parse_args(argv).starts))


if __name__ == "__main__":
    configure("warning", "console")  # here, not in main(): tests keep their own logging
    main()
