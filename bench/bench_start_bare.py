"""`/incident start` beside its own REST calls made bare, against the same double, same run.

Run from the repository root:  .venv/bin/python -m bench.bench_start_bare [--starts 30]

For each start: the start dialog is submitted through the double and timed until the channel
is ready (card pinned, checklist posted, reporter told, the announcement made: warroom's
background work done, the moment its last call is answered). warroom's calls to Mattermost are
recorded as its HTTP client sends them (method, path, body). Then the benchmark sends exactly
those calls itself, in the order warroom sent them, through the same client library (answers
read as JSON), with no warroom logic around them: the same methods, paths and bodies, so the
same work for the server. Only what must differ does: the new channel gets another name of
the same length (names are unique), and the calls on warroom's new channel and posts go to
the bare sequence's own (ids of the same length), since repeated on warroom's they would be
no-ops (adding a member twice, pinning a pinned card).

The bare sequence is always sent one call after the other, even where warroom overlaps
independent calls (posts in different channels, the pin, the invitations): the ratio is
warroom's way of making the calls against the plainest way of making the same calls, so
warroom's own work (SQLite, rendering, the outbox) shows above 1 and the overlap it gains
shows below. One summary line: median and p90 of warroom and of the bare sequence, their
ratio (medians; goal <= 1.15), and the calls each made per start (median).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import string
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.log import configure
from tests.scenarios.harness import World, world

FINISHED: list[float] = []  # when each recorded call was answered
REFUSED: list[str] = []  # bare calls the double refused (e.g. an ephemeral post)
SENT: list[int] = []  # calls each bare sequence sent


@dataclass
class Call:
    """One request as warroom's client sent it, and the id its answer carried (if any)."""

    method: str
    endpoint: str
    options: Any  # the JSON body
    params: Any
    data: Any
    made_id: str = ""  # what the answer's "id" was: a channel or post warroom made


def answer_id(response: Any) -> str:
    """The "id" of a JSON answer (a channel or a post made), else ""."""
    try:
        body = response.json()
    except Exception:  # not JSON: nothing made
        return ""
    return str(body.get("id", "")) if isinstance(body, dict) else ""


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
        call = Call(method, endpoint, options, params, data)
        log.append(call)
        try:
            response = await original(method, endpoint, options, params, data, files)
            call.made_id = answer_id(response)
            return response
        finally:
            FINISHED.append(time.perf_counter())

    client.make_request = recording
    return log, original


def renamed(name: str) -> str:
    """Another channel name of the same length (names are unique; the body keeps its size)."""
    letters = string.ascii_lowercase + string.digits
    return "b" + "".join(random.choice(letters) for _ in range(len(name) - 1))


def swapped(value: Any, ids: dict[str, str]) -> Any:
    """``value`` (a path, or a JSON body's values) with warroom's ids swapped for the bare
    sequence's own (ids have one length, so sizes do not change)."""
    if isinstance(value, str):
        for ours, theirs in ids.items():
            value = value.replace(ours, theirs)
        return value
    if isinstance(value, dict):
        return {k: swapped(v, ids) for k, v in value.items()}
    return value


async def bare(calls: list[Call], send: Callable[..., Awaitable[Any]]) -> float:
    """Send ``calls`` one after the other, as recorded; seconds taken.

    The same work for the server: the channel gets a new name, and the calls that followed
    on warroom's channel and posts go to the bare sequence's own (members added to a new
    channel, its own card pinned; repeated on warroom's they would be no-ops). Each answer is
    read as the client library reads it (JSON)."""
    ids: dict[str, str] = {}
    SENT.append(len(calls))
    began = time.perf_counter()
    for call in calls:
        options = swapped(call.options, ids)
        if call.method == "post" and call.endpoint == "/api/v4/channels":
            options = {**options, "name": renamed(options["name"])}
        try:
            response = await send(
                call.method, swapped(call.endpoint, ids), options, call.params, call.data
            )
        except Exception as exc:  # a refusal costs the server its answer too; go on
            REFUSED.append(f"{call.method} {call.endpoint}: {exc!r}"[:200])
            continue
        made = answer_id(response)
        if call.made_id and made:
            ids[call.made_id] = made
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
                # Read before the clock starts (the double copies every dialog alice has had).
                submission = {"playbook": w.playbook_id("Outage", w.alice), "name": f"Bench {n}"}
                log.clear()
                FINISHED.clear()
                began = time.perf_counter()
                result = await w.mm.submit_dialog(
                    w.alice, dialog, submission, channel_id=w.town.id, team_id=w.team.id
                )
                assert result == {}, result
                await w.settle()
                ready.append(max(FINISHED) - began)  # the last call answered: ready
                made = list(log)
                calls.append(len(made))
                bare_s.append(await bare(made, send))
                await w.settle()
    ours, theirs = statistics.median(ready) * 1000, statistics.median(bare_s) * 1000
    return (
        f"start: dialog submit to channel ready median {ours:.1f} ms p90 {p90(ready):.1f} ms, "
        f"{statistics.median(calls):.0f} REST calls; the same calls made bare one after "
        f"another median {theirs:.1f} ms p90 {p90(bare_s):.1f} ms, "
        f"{statistics.median(SENT):.0f} calls; ratio {ours / theirs:.2f}x (goal <= 1.15x) "
        f"over {starts} starts; bare calls refused {len(REFUSED)}"
    )


def p90(seconds: list[float]) -> float:
    """The 90th percentile (nearest rank), in ms."""
    ranked = sorted(seconds)
    return ranked[min(len(ranked) - 1, int(0.9 * len(ranked)))] * 1000


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
