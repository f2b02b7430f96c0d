"""Chat intake: the cheap pre-filter and the safety rules on decoded posted events."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bot.transport.conversation import Intake, addressed
from bot.transport.events import Posted, decode_frame

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mattermost"
BOT = "psoff35ztfynzduakcjccdws9e"  # the recording's bot
ALICE = "5bkg8k9giirftypaxtsx3iy9yc"
TOWN = "a8cahkwxttdp9y1rxwamemi49e"


def recorded(name: str) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return frame


def wire(frame: dict[str, Any]) -> str:
    """As 5.36 sends it: compact JSON, ``data.post`` and ``data.mentions`` as JSON strings."""
    data = dict(frame["data"])
    for key in ("post", "mentions"):
        if key in data and not isinstance(data[key], str):
            data[key] = json.dumps(data[key], separators=(",", ":"))
    return json.dumps({**frame, "data": data}, separators=(",", ":"))


def user_message(message: str = "hello", **post: Any) -> dict[str, Any]:
    frame = copy.deepcopy(recorded("ws_posted_user_message_seen_by_bot.json"))
    frame["data"]["post"].update(message=message, **post)
    return frame


def dm(message: str) -> dict[str, Any]:
    frame = user_message(message, channel_id="d" * 26)
    frame["broadcast"]["channel_id"] = "d" * 26
    frame["data"].update(
        channel_type="D", channel_name=f"{ALICE}__{BOT}", team_id="", mentions=[BOT]
    )
    return frame


def mention(message: str, mentions: list[str]) -> dict[str, Any]:
    frame = user_message(message)
    frame["data"]["mentions"] = mentions
    return frame


def system_post() -> dict[str, Any]:
    return user_message("alice joined", type="system_join_channel")


FORGED = user_message(
    '"channel_type":"D" "mentions":["' + BOT + '"] "seq":99 \\"type\\":\\"system_x'
)

CASES = {
    "chatter": (user_message(), False),
    "forged_text": (FORGED, False),
    "dm": (dm("help"), True),
    "mention_of_the_bot": (mention("@warroom help", [BOT, ALICE]), True),
    "mention_of_someone_else": (mention("@bob look", ["b" * 26]), False),
    "system_post": (system_post(), True),
    "bot_card": (recorded("ws_posted_bot_card_seen_by_member.json"), False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_intake_skips_only_frames_nobody_needs(case: str) -> None:
    """Rule: a skipped frame keeps its seq and is one nobody would act on (no DM, no
    mention of the bot, no system post, not in a watched channel); a user's text can never
    make the intake skip or keep a frame."""
    frame, decoded = CASES[case]
    raw = wire(frame)
    intake = Intake(BOT)
    skipped = intake.skip(raw)
    full = decode_frame(raw)
    assert (skipped is None) == decoded
    if skipped is not None:
        assert skipped.seq == full.seq == frame["seq"] and skipped.event is None
        assert isinstance(full.event, Posted) and addressed(full.event, BOT) is None
        assert not full.event.post.type
    intake.watched = frozenset({TOWN})
    assert intake.skip(raw) is None or frame["broadcast"]["channel_id"] != TOWN


def test_frames_of_another_shape_are_decoded_in_full() -> None:
    intake = Intake(BOT)
    spaced = json.dumps(json.loads(wire(user_message())))  # not the server's compact form
    assert intake.skip(spaced) is None
    assert intake.skip(wire(user_message()).encode()) is None
    hello = recorded("ws_hello_header_auth.json")
    assert intake.skip(json.dumps(hello, separators=(",", ":"))) is None


def event_of(frame: dict[str, Any]) -> Posted:
    event = decode_frame(wire(frame)).event
    assert isinstance(event, Posted)
    return event


def test_only_people_s_new_messages_to_the_bot_are_addressed() -> None:
    message = addressed(event_of(dm("help")), BOT)
    assert message is not None and (message.via, message.team_id) == ("dm", "")
    mentioned = addressed(event_of(mention("@warroom info", [BOT])), BOT)
    assert mentioned is not None and mentioned.via == "mention"
    assert mentioned.team_id == "n4fa7edodtgjxy6jm6q3d5hxfw"
    not_for_us = [
        user_message("@warroom hi"),  # no mention of the bot in `mentions`
        mention("@warroom hi", [BOT]) | {},
        system_post(),
        recorded("ws_posted_bot_card_seen_by_member.json"),
    ]
    not_for_us[1]["data"]["post"]["props"] = {"from_webhook": "true"}
    for frame in not_for_us:
        assert addressed(event_of(frame), BOT) is None
    own = dm("help")
    own["data"]["post"]["user_id"] = BOT
    edited = dm("help")
    edited["data"]["post"]["edit_at"] = 1
    bot_flag = dm("help")
    bot_flag["data"]["post"]["props"] = {"from_bot": "true"}
    other_dm = dm("help")
    other_dm["data"]["channel_name"] = f"{ALICE}__{'b' * 26}"
    other_dm["data"]["mentions"] = ["b" * 26]
    for frame in (own, edited, bot_flag, other_dm):
        assert addressed(event_of(frame), BOT) is None
