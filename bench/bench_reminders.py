"""Reminder scheduler under load: memory, start-up (re-arm) time, idle cost, lateness.

Run: ``python -m bench.bench_reminders [--reminders 10000] [--window 2.0] [--latency-ms 2]``

1. Creates N ongoing incidents and N pending reminders (due in one to two hours) in a real
   SQLite database in a temporary directory.
2. Starts the scheduler as warroom does after a restart and times the re-arm (until it
   sleeps), with tracemalloc on; then measures the CPU it uses while idle for 2 s.
3. Makes all N reminders fall due within ``--window`` seconds and lets them fire through a
   fake chat that takes ``--latency-ms`` per post and records when each post was made;
   reports how late the posts were against their due times.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

from bot.clock import SystemClock
from bot.log import configure
from bot.scheduler.scheduler import ReminderScheduler
from bot.scheduler.timer import SystemTimer
from bot.store.db import Database
from bot.store.reminders import Reminder, ReminderState, ReminderStore

IDLE_SECONDS = 2.0


@dataclass
class RecordingChat:
    """Stands in for Mattermost: a post takes ``latency`` seconds and is timestamped."""

    clock: SystemClock
    latency: float
    expected: int = 0
    lateness_ms: list[int] = field(default_factory=list)
    all_posted: asyncio.Event = field(default_factory=asyncio.Event)

    async def post(self, reminder: Reminder) -> str | None:
        await asyncio.sleep(self.latency)
        self.lateness_ms.append(self.clock.now_ms() - reminder.due_at)
        if len(self.lateness_ms) >= self.expected:
            self.all_posted.set()
        return f"post{reminder.id}"

    async def find(self, reminder: Reminder) -> str | None:
        return None

    async def remove(self, reminder: Reminder) -> None:
        return None

    async def failed(self, reminder: Reminder) -> None:
        return None


async def seed(db: Database, n: int, now: int) -> None:
    incidents = [
        (f"{i:026d}", "t" * 26, f"c{i:025d}", f"Incident {i}", "ongoing", "u" * 26, "p", now, "{}")
        for i in range(n)
    ]
    reminders = [(f"{i:026d}", f"c{i:025d}", now + 3_600_000 + i * 360, now) for i in range(n)]
    async with db.transaction() as tx:
        await tx.conn.executemany(
            "INSERT INTO incidents (id, team_id, channel_id, name, status, commander_id,"
            " playbook_id, created_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            incidents,
        )
        await tx.conn.executemany(
            "INSERT INTO reminders (incident_id, channel_id, due_at, created_at)"
            " VALUES (?, ?, ?, ?)",
            reminders,
        )


def percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(n: int, window: float, latency_ms: float, idle: float = IDLE_SECONDS) -> None:
    clock = SystemClock()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.db")
        await db.open()
        started = time.perf_counter()
        await seed(db, n, clock.now_ms())
        print(
            f"seeded {n} incidents and {n} pending reminders in {time.perf_counter() - started:.2f} s"
        )

        chat = RecordingChat(clock, latency_ms / 1000, expected=n)
        store = ReminderStore(db)
        scheduler = ReminderScheduler(
            db=db, store=store, clock=clock, timer=SystemTimer(clock), poster=chat
        )
        tracemalloc.start()
        base, _ = tracemalloc.get_traced_memory()
        started = time.perf_counter()
        task = asyncio.create_task(scheduler.run(), name="reminders")
        await scheduler.caught_up()
        rearm = time.perf_counter() - started
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"re-arm (start until asleep):        {rearm * 1000:8.1f} ms")
        print(f"Python memory held after re-arm:    {(current - base) / 1024:8.1f} KiB")
        print(f"Python memory peak during re-arm:   {(peak - base) / 1024:8.1f} KiB")

        cpu = time.process_time()
        await asyncio.sleep(idle)
        idle_cpu = time.process_time() - cpu
        print(f"CPU used while idle for {idle:.1f} s:     {idle_cpu * 1000:8.1f} ms")

        first_due = clock.now_ms() + 1000
        span = int(window * 1000)
        async with db.transaction() as tx:
            await tx.conn.execute(
                "UPDATE reminders SET due_at = ? + (id * ?) / ? WHERE state = 'pending'",
                (first_due, span, n),
            )
        scheduler.wake()
        started = time.perf_counter()
        await asyncio.wait_for(chat.all_posted.wait(), timeout=120)
        took = time.perf_counter() - started
        await scheduler.caught_up()  # the last posts recorded
        late = chat.lateness_ms
        print(
            f"fired {len(late)} reminders due within {window:.1f} s"
            f" (chat latency {latency_ms:g} ms each) in {took:.2f} s"
        )
        print(
            f"lateness ms: p50 {percentile(late, 0.5)}  p95 {percentile(late, 0.95)}"
            f"  p99 {percentile(late, 0.99)}  max {max(late)}"
            f"  mean {statistics.fmean(late):.0f}"
        )
        print(f"posted rows: {await store.count(ReminderState.POSTED)}")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of the process:            {rss:8.1f} MiB")

        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await db.close()


def main(argv: list[str] | None = None) -> None:
    """Parse ``argv`` (default: the command line) and run; prints the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=2.0, help="seconds they fall due in")
    parser.add_argument("--latency-ms", type=float, default=2.0, help="fake chat post time")
    parser.add_argument("--idle", type=float, default=IDLE_SECONDS, help="seconds idle measured")
    args = parser.parse_args(argv)
    asyncio.run(run(args.reminders, args.window, args.latency_ms, args.idle))


if __name__ == "__main__":
    configure("warning")  # here, not in main(): tests keep their own logging
    main()
