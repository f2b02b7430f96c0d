"""How fast warroom's chat intake takes ``posted`` frames, and how soon a DM is answered.

Run from the repository root:  .venv/bin/python -m bench.bench_intake [--events N] [--dms K]

1. Intake, on one core: N ``posted`` frames in the recorded 5.36 wire form (compact JSON,
   ``data.post`` a JSON string; built from tests/fixtures/mattermost/
   ws_posted_user_message_seen_by_bot.json) — mostly channel chatter, some DMs to the bot
   and some @mentions of it — go through exactly what the websocket listener does with
   each (:meth:`Intake.skip`, else ``decode_frame``) and then the chat filter
   (``addressed`` and the command text). Reported as events per second (goal: 20,000/s)
   and as a ratio to a baseline measured in the same run on the same frames: a bare
   ``json.loads`` of each frame (no nested decode, no model).
2. Latency, in the double: K direct messages ("list") from a person, from the moment the
   person posts (the double stores the post and emits its frame in the same call) until
   warroom's reply post exists in the double: an upper bound of frame to reply.

Prints one summary line.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.commands.language import dm_text, mention_text
from bot.log import configure
from bot.transport.conversation import Intake, addressed
from bot.transport.events import Posted, decode_frame

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "mattermost"
BOT = "psoff35ztfynzduakcjccdws9e"  # the recording's bot
GOAL = 20_000
ALPHABET = "abcdefghijkmnopqrstuwxyz13456789"


def _id(rand: random.Random) -> str:
    return "".join(rand.choice(ALPHABET) for _ in range(26))


def recorded_frames(count: int, *, addressed_share: float = 0.1, seed: int = 7) -> list[str]:
    """``count`` posted frames in wire form; ``addressed_share`` of them are for the bot
    (half DMs, half mentions), the rest ordinary chatter in team channels."""
    rand = random.Random(seed)
    base = json.loads((FIXTURES / "ws_posted_user_message_seen_by_bot.json").read_text())
    frames = []
    for seq in range(count):
        frame: dict[str, Any] = copy.deepcopy(base)
        data, post = frame["data"], frame["data"]["post"]
        frame["seq"] = seq + 1
        post["id"] = _id(rand)
        words = rand.randint(3, 30)
        post["message"] = " ".join(
            rand.choice(("disk", "full", "ok", "ship", "it")) for _ in range(words)
        )
        roll = rand.random()
        if roll < addressed_share / 2:
            data.update(channel_type="D", channel_name=f"{post['user_id']}__{BOT}", team_id="")
            data["mentions"] = json.dumps([BOT], separators=(",", ":"))
            post["message"] = "list"
        elif roll < addressed_share:
            data["mentions"] = json.dumps([BOT], separators=(",", ":"))
            post["message"] = "@warroom info"
        data["post"] = json.dumps(post, separators=(",", ":"))
        frames.append(json.dumps(frame, separators=(",", ":")))
    return frames


def intake_once(intake: Intake, raw: str) -> str | None:
    """What the listener and the chat filter do with one frame: the command text, if any."""
    frame = intake.skip(raw) or decode_frame(raw)
    event = frame.event
    if not isinstance(event, Posted):
        return None
    message = addressed(event, BOT)
    if message is None:
        return None
    if message.via == "dm":
        return dm_text(message.message, "warroom")
    return mention_text(message.message, "warroom")


def measure_intake(frames: list[str]) -> tuple[float, float, int]:
    """(intake events/s, baseline events/s, commands found), best of three rounds."""
    intake = Intake(BOT)
    best_intake = best_base = float("inf")
    found = 0
    for _ in range(3):
        started = time.perf_counter()
        for raw in frames:
            json.loads(raw)
        best_base = min(best_base, time.perf_counter() - started)
        started = time.perf_counter()
        found = sum(1 for raw in frames if intake_once(intake, raw) is not None)
        best_intake = min(best_intake, time.perf_counter() - started)
    return len(frames) / best_intake, len(frames) / best_base, found


async def measure_latency(dms: int) -> list[float]:
    """Milliseconds from the person's DM (stored, its frame emitted) to warroom's reply post."""
    from tests.scenarios.chatting import dm_channel_id
    from tests.scenarios.harness import world

    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with world(Path(tmp)) as w:
            w.app.chat.conversation.limiter.burst = dms + 1  # measure answers, not refusals
            channel = dm_channel_id(w, w.alice)

            def answers() -> int:
                return sum(1 for p in w.mm.posts(channel) if p["user_id"] == w.bot.id)

            for _ in range(dms):
                started = time.perf_counter()
                await w.mm.user_post(w.alice, channel, "list")
                await w.mm.wait_until(
                    lambda: answers() > len(latencies), within=10.0, interval=0.0005
                )
                latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def summary(rate: float, base: float, found: int, events: int, latencies: list[float]) -> str:
    ordered = sorted(latencies) or [0.0]
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    verdict = "meets" if rate >= GOAL else "MISSES"
    return (
        f"intake: {rate:,.0f} posted events/s on one core ({verdict} the {GOAL:,}/s goal;"
        f" {rate / base:.2f}x the rate of a bare json.loads of the frames, {base:,.0f}/s;"
        f" {events:,} frames, {found:,} commands) | DM->reply in the double:"
        f" median {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms over {len(latencies)} DMs"
    )


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--dms", type=int, default=50)
    args = parser.parse_args(argv)
    frames = recorded_frames(args.events)
    rate, base, found = measure_intake(frames)
    latencies = asyncio.run(measure_latency(args.dms)) if args.dms else []
    line = summary(rate, base, found, len(frames), latencies)
    print(line)
    return line


if __name__ == "__main__":
    configure("warning", "console")  # here, not in main(): tests keep their own logging
    main(sys.argv[1:])
