"""`/incident start` beside its own REST calls made bare, against the same double, same run.

Run from the repository root:  .venv/bin/python -m bench.bench_start_bare [--starts 30]

For each start: the start dialog is submitted through the double and timed until the channel
is ready (card pinned, checklist posted, reporter told: warroom's background work done: the moment its last call is answered);
warroom's calls to Mattermost are recorded as its HTTP client sends them (method, path,
body). Then the benchmark sends the very same calls itself, one after the other, through the
same client library with no warroom logic around them (a channel name gets a suffix, since
names are unique), and times that. One summary line: median time to ready, median bare time,
their ratio (goal <= 1.15: warroom adds little beyond the calls it must make; below 1 when it
makes independent calls concurrently), and the calls per start.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.log import configure
from tests.scenarios.harness import World, world

FINISHED: list[float] = []  # when each recorded call was answered
REFUSED: list[str] = []  # bare calls the double refused (e.g. adding a member twice)
Call = tuple[str, str, Any, Any, Any]  # method, endpoint, options (JSON body), params, data


def record_calls(w: World) -> tuple[list[Call], Callable[..., Awaitable[Any]]]:
    """Record every request warroom's REST client makes; returns the log and the original
    request function (for the bare replay)."""
    client = w.app.services.chat._driver.client  # type: ignore[attr-defined]  # bench only
    original: Callable[..., Awaitable[Any]] = client.make_request
    log: list[Call] = []

    async def recording(
        method: str, endpoint: str, options: Any = None, params: Any = None, data: Any = None,
        files: Any = None, basepath: Any = None,
    ) -> Any:  # fmt: skip
        log.append((method, endpoint, options, params, data))
        try:
            return await original(method, endpoint, options, params, data, files)
        finally:
            FINISHED.append(time.perf_counter())

    client.make_request = recording
    return log, original


async def bare(calls: list[Call], send: Callable[..., Awaitable[Any]], n: int) -> float:
    """Send ``calls`` one after the other as recorded; seconds taken."""
    began = time.perf_counter()
    for method, endpoint, options, params, data in calls:
        if method == "post" and endpoint == "/api/v4/channels" and isinstance(options, dict):
            options = {**options, "name": f"{options['name'][:50]}-bare{n}"}
        try:
            await send(method, endpoint, options, params, data)
        except Exception as exc:  # a refusal costs the server its answer too; go on
            REFUSED.append(f"{method} {endpoint}: {exc!r}"[:200])
    return time.perf_counter() - began


async def run(starts: int) -> str:
    ready: list[float] = []
    bare_s: list[float] = []
    calls: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with world(Path(tmp)) as w:
            await w.listening()
            log, send = record_calls(w)
            for n in range(starts):
                await w.command(w.alice, "start")
                dialog = w.dialog(w.alice)
                log.clear()
                FINISHED.clear()
                began = time.perf_counter()
                result = await w.mm.submit_dialog(
                    w.alice,
                    dialog,
                    {"playbook": w.playbook_id("Outage", w.alice), "name": f"Bench {n}"},
                    channel_id=w.town.id,
                    team_id=w.team.id,
                )
                assert result == {}, result
                await w.settle()
                ready.append(max(FINISHED) - began)  # the last call answered: ready
                made = list(log)
                calls.append(len(made))
                bare_s.append(await bare(made, send, n))
                await w.settle()
    ours, theirs = statistics.median(ready) * 1000, statistics.median(bare_s) * 1000
    return (
        f"start: dialog submit to channel ready median {ours:.1f} ms; the same "
        f"{statistics.median(calls):.0f} REST calls made bare {theirs:.1f} ms; "
        f"ratio {ours / theirs:.2f}x (goal <= 1.15x) over {starts} starts; "
        f"bare calls refused {len(REFUSED)}"
    )


def main(argv: list[str] | None = None) -> str:
    """Run the benchmark; print and return its summary line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--starts", type=int, default=30)
    args = parser.parse_args(argv)
    line = asyncio.run(run(args.starts))
    print(line)
    return line


if __name__ == "__main__":
    configure("warning", "console")  # here, not in main(): tests keep their own logging
    main()
