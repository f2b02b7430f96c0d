"""Task toggles at a sustained rate: `/incident check 1 1` offered N times a second.

Run from the repository root:  .venv/bin/python -m bench.bench_toggles [--rate 1000]
[--seconds 5] [--incidents 5]

Starts a few incidents through the double, then sends `/incident check 1 1` (a toggle) in
their channels at ``--rate`` per second for ``--seconds``, each as its own request through
the double into warroom's real aiohttp app, and prints one summary line: the rate answered,
p50/p99 from the command sent to warroom's answer (goal p99 <= 20 ms), and whether every
answered toggle is durable (one timeline event each in the database, read back after the
run). Baselines: the rate against the offered one, p99 against the 20 ms goal.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bot.domain.models import EventKind, Incident
from bot.log import configure
from tests.scenarios.harness import World, world


async def toggles(w: World, incidents: list[Incident], rate: int, seconds: float) -> str:
    latencies: list[float] = []
    failed = 0

    async def one(incident: Incident) -> None:
        nonlocal failed
        began = time.perf_counter()
        reply = await w.mm.run_command(w.alice, incident.channel_id, "check 1 1")
        latencies.append((time.perf_counter() - began) * 1000)
        if reply.get("text"):  # a toggle is answered with nothing; anything else is a refusal
            failed += 1

    total = int(rate * seconds)
    pending: list[asyncio.Task[None]] = []
    began = time.perf_counter()
    for n in range(total):
        due = began + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(one(incidents[n % len(incidents)])))
    await asyncio.gather(*pending)
    elapsed = time.perf_counter() - began
    events = 0
    for incident in incidents:
        for event in await w.app.services.incidents.store.timeline(incident.id):
            if event.kind in (EventKind.TASK_CHECKED, EventKind.TASK_UNCHECKED):
                events += 1
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    answered = (total - failed) / elapsed
    return (
        f"toggles: {answered:,.0f}/s answered of {rate:,}/s offered ({answered / rate:.2f}x) "
        f"for {seconds:g} s over {len(incidents)} incidents; p50 {p50:.1f} ms p99 {p99:.1f} ms "
        f"({p99 / 20:.2f}x the 20 ms goal); refused {failed}; durable: {events} of "
        f"{total - failed} toggles recorded"
    )


async def run(rate: int, seconds: float, count: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        async with world(Path(tmp)) as w:
            await w.listening()
            incidents = [await w.start_incident(w.alice, f"Toggle {n}") for n in range(count)]
            await w.settle()
            return await toggles(w, incidents, rate, seconds)


def main(argv: list[str] | None = None) -> str:
    """Run the benchmark; print and return its summary line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--incidents", type=int, default=5)
    args = parser.parse_args(argv)
    line = asyncio.run(run(args.rate, args.seconds, args.incidents))
    print(line)
    return line


if __name__ == "__main__":
    configure("warning", "console")  # here, not in main(): tests keep their own logging
    main()
