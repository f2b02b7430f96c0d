"""A smoke run of the intake benchmark: tiny sizes, the summary line, no timing asserted."""

from __future__ import annotations

import json
import re

from bench.bench_intake import BOT, intake_once, main, recorded_frames
from bot.transport.conversation import Intake


def test_the_benchmark_finds_every_command_and_prints_one_summary_line() -> None:
    frames = recorded_frames(300)
    for_bot = [f for f in frames if BOT in json.loads(f)["data"].get("mentions", "")]
    assert 0 < len(for_bot) < len(frames)
    intake = Intake(BOT)
    assert [f for f in frames if intake_once(intake, f) is not None] == for_bot
    assert intake.skipped == len(frames) - len(for_bot)
    line = main(["--events", "300", "--dms", "2"])
    assert "\n" not in line
    assert re.search(r"intake: [\d,]+ posted events/s on one core", line)
    assert f"300 frames, {len(for_bot)} commands" in line
    assert "over 2 DMs" in line
