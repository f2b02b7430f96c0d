"""Every recorded websocket frame parses into the right model (or is ignored)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from bot.transport.events import (
    AddedToTeam,
    ChannelCreated,
    ChannelDeleted,
    ChannelRestored,
    ChannelUpdated,
    Event,
    Hello,
    PostDeleted,
    Posted,
    PostEdited,
    ReactionAdded,
    ReactionRemoved,
    UserAdded,
    UserRemoved,
    UserUpdated,
    decode_frame,
    parse_frame,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mattermost"


def frames(name: str) -> list[dict[str, Any]]:
    data = json.loads((FIXTURES / name).read_text())
    if isinstance(data, dict) and "frames" in data:
        data = data["frames"]
    return data if isinstance(data, list) else [data]


def wire(frame: dict[str, Any]) -> str:
    """The frame as the server sends it: nested objects as JSON strings."""
    data = dict(frame["data"])
    for key in ("post", "reaction", "dialog", "mentions"):
        if key in data and not isinstance(data[key], str):
            data[key] = json.dumps(data[key])
    return json.dumps({**frame, "data": data})


def parse_one(name: str, index: int = 0) -> Event | None:
    return parse_frame(wire(frames(name)[index]))


def test_hello_header_auth() -> None:
    event = parse_one("ws_hello_header_auth.json")
    assert isinstance(event, Hello)
    assert event.seq == 0
    assert event.connection_id == ""
    assert event.server_version.startswith("5.36.0")
    assert event.channel_id == ""


def test_hello_after_challenge() -> None:
    assert isinstance(parse_one("ws_hello_and_auth_reply_challenge.json"), Hello)


def test_posted_user_message() -> None:
    event = parse_one("ws_posted_user_message_seen_by_bot.json")
    assert isinstance(event, Posted)
    assert event.seq == 11
    assert event.post.id == "neir1e63qpr9uq8t7aqubndsbw"
    assert event.post.message == "Found the culprit: /var/log"
    assert event.channel_id == "a8cahkwxttdp9y1rxwamemi49e"
    assert event.channel_type == "P"
    assert event.channel_name == "disk-full"
    assert event.team_id == "n4fa7edodtgjxy6jm6q3d5hxfw"
    assert event.sender_name == "@alice"
    assert event.mentions == ()


def test_posted_bot_card_keeps_props_and_mentions() -> None:
    event = parse_one("ws_posted_bot_card_seen_by_member.json")
    assert isinstance(event, Posted)
    assert event.post.props["from_bot"] == "true"
    assert event.post.props["attachments"][0]["title"] == "Disk full"
    assert event.mentions == ("5bkg8k9giirftypaxtsx3iy9yc",)


def test_posted_in_channel_command_reply_is_by_user() -> None:
    event = parse_one("ws_posted_in_channel_command_reply.json")
    assert isinstance(event, Posted)
    assert event.post.user_id == "5bkg8k9giirftypaxtsx3iy9yc"
    assert event.post.props["from_webhook"] == "true"


@pytest.mark.parametrize("name", ["ws_post_edited.json", "ws_post_edited_after_action_update.json"])
def test_post_edited(name: str) -> None:
    event = parse_one(name)
    assert isinstance(event, PostEdited)
    assert event.post.id == "oh9jhzn4kpnpx8943ptupu4z7w"
    assert event.post.message == "Incident card (updated)"
    assert event.post.edit_at == 1795823551160


def test_post_deleted() -> None:
    event = parse_one("ws_post_deleted.json")
    assert isinstance(event, PostDeleted)
    assert event.seq == 15
    assert event.post.id == "neir1e63qpr9uq8t7aqubndsbw"
    assert event.log_ids() == {
        "channel_id": "a8cahkwxttdp9y1rxwamemi49e",
        "post_id": "neir1e63qpr9uq8t7aqubndsbw",
    }


def test_reaction_added() -> None:
    event = parse_one("ws_reaction_added.json")
    assert isinstance(event, ReactionAdded)
    assert event.seq == 12
    assert event.reaction.emoji_name == "pushpin"
    assert event.reaction.post_id == "neir1e63qpr9uq8t7aqubndsbw"
    assert event.reaction.user_id == "5bkg8k9giirftypaxtsx3iy9yc"
    assert event.reaction.create_at == 1795823551853
    assert event.channel_id == "a8cahkwxttdp9y1rxwamemi49e"


def test_reaction_removed() -> None:
    event = parse_one("ws_reaction_removed.json")
    assert isinstance(event, ReactionRemoved)
    assert event.seq == 13
    assert event.reaction.emoji_name == "pushpin"
    assert event.channel_id == "a8cahkwxttdp9y1rxwamemi49e"


def test_user_added_takes_channel_from_broadcast() -> None:
    events = [parse_frame(wire(f)) for f in frames("ws_user_added_seen_by_bot.json")]
    assert all(isinstance(e, UserAdded) for e in events)
    second = events[1]
    assert isinstance(second, UserAdded)
    assert second.seq == 6
    assert second.user_id == "uuuk5gh14pn9ic8g4fkp67x4pc"
    assert second.team_id == "n4fa7edodtgjxy6jm6q3d5hxfw"
    assert second.channel_id == "a8cahkwxttdp9y1rxwamemi49e"


def test_user_removed() -> None:
    event = parse_one("ws_user_removed.json")
    assert isinstance(event, UserRemoved)
    assert event.user_id == "x1rxjoknpfy8tdjrnh5oifi8ee"
    assert event.remover_id == "psoff35ztfynzduakcjccdws9e"
    assert event.channel_id == "a8cahkwxttdp9y1rxwamemi49e"


def test_user_removed_sent_to_the_removed_user() -> None:
    raw = json.dumps(
        {
            "event": "user_removed",
            "data": {"channel_id": "c1", "remover_id": "r1"},
            "broadcast": {"channel_id": "", "team_id": "", "user_id": "u1"},
            "seq": 4,
        }
    )
    event = parse_frame(raw)
    assert isinstance(event, UserRemoved)
    assert (event.user_id, event.channel_id, event.remover_id) == ("u1", "c1", "r1")


def test_channel_created() -> None:
    event = parse_one("ws_channel_created_seen.json")
    assert isinstance(event, ChannelCreated)
    assert event.channel_id == "a8cahkwxttdp9y1rxwamemi49e"
    assert event.team_id == "n4fa7edodtgjxy6jm6q3d5hxfw"


@pytest.mark.parametrize(
    "name",
    [
        "ws_ephemeral_message_from_bot.json",
        "ws_ephemeral_message_after_command.json",
        "ws_open_dialog.json",
    ],
)
def test_events_warroom_ignores(name: str) -> None:
    for frame in frames(name):
        decoded = decode_frame(wire(frame))
        assert decoded.event is None
        assert decoded.seq == frame["seq"]  # still counted for gap detection


def test_noise_is_ignored_but_seq_kept() -> None:
    status = frames("ws_resume_after_disconnect.json")[1]
    typing = {
        "event": "typing",
        "data": {"parent_id": "", "user_id": "u1"},
        "broadcast": {"channel_id": "c1", "omit_users": None, "team_id": "", "user_id": ""},
        "seq": 7,
    }
    assert parse_frame(wire(status)) is None
    assert decode_frame(wire(status)).seq == 1
    assert parse_frame(json.dumps(typing)) is None


def test_reply_is_ignored() -> None:
    decoded = decode_frame('{"status":"OK","seq_reply":1}')
    assert decoded.event is None
    assert decoded.seq is None


def test_bytes_frame() -> None:
    raw = wire(frames("ws_reaction_added.json")[0]).encode()
    assert isinstance(parse_frame(raw), ReactionAdded)


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[1, 2]",
        '{"event": "posted", "seq": "x"}',
        "",
    ],
)
def test_malformed_frame_logs_one_warning(raw: str) -> None:
    with capture_logs() as logs:
        assert parse_frame(raw) is None
    assert [entry["log_level"] for entry in logs] == ["warning"]


def test_bad_nested_json_logs_one_warning_and_keeps_seq() -> None:
    frame = frames("ws_posted_user_message_seen_by_bot.json")[0]
    raw = json.dumps({**frame, "data": {**frame["data"], "post": '{"id": "x", trunc'}})
    with capture_logs() as logs:
        decoded = decode_frame(raw)
    assert decoded.event is None
    assert decoded.seq == 11
    assert len(logs) == 1
    assert logs[0]["event"] == "ws_event_malformed"
    assert logs[0]["ws_event"] == "posted"


def test_post_missing_required_fields_is_dropped() -> None:
    raw = json.dumps(
        {"event": "post_edited", "data": {"post": json.dumps({"message": "x"})}, "seq": 3}
    )
    with capture_logs() as logs:
        assert parse_frame(raw) is None
    assert len(logs) == 1


def test_events_are_frozen() -> None:
    event = parse_one("ws_reaction_added.json")
    assert event is not None
    with pytest.raises(ValueError, match="frozen"):
        event.seq = 99  # type: ignore[misc]


def test_added_to_team_names_the_team_and_the_user() -> None:
    frame = (
        '{"event":"added_to_team","data":{"team_id":"'
        + "t" * 26
        + '","user_id":"'
        + "u" * 26
        + '"},"broadcast":{"omit_users":null,"user_id":"'
        + "u" * 26
        + '","channel_id":"","team_id":""},"seq":7}'
    )
    event = parse_frame(frame)
    assert isinstance(event, AddedToTeam)
    assert (event.team_id, event.user_id, event.seq, event.channel_id) == (
        "t" * 26,
        "u" * 26,
        7,
        "",
    )


def _frame(event: str, data: dict[str, Any], broadcast: dict[str, Any], seq: int = 3) -> str:
    return json.dumps({"event": event, "data": data, "broadcast": broadcast, "seq": seq})


def test_channel_updated_decodes_the_channel_json_string() -> None:
    channel = {"id": "c" * 26, "team_id": "t" * 26, "name": "renamed", "type": "P"}
    raw = _frame(
        "channel_updated",
        {"channel": json.dumps(channel)},  # 5.36 app/channel.go UpdateChannel: channel.ToJson()
        {"channel_id": "c" * 26, "team_id": "", "user_id": ""},
    )
    event = parse_frame(raw)
    assert isinstance(event, ChannelUpdated)
    assert (event.channel.name, event.channel_id, event.channel.delete_at) == (
        "renamed",
        "c" * 26,
        0,
    )


def test_channel_deleted_and_restored_name_the_channel_from_the_data() -> None:
    bcast = {"channel_id": "", "team_id": "t" * 26, "user_id": ""}
    deleted = parse_frame(
        _frame("channel_deleted", {"channel_id": "c" * 26, "delete_at": 1234}, bcast)
    )
    assert isinstance(deleted, ChannelDeleted)
    assert (deleted.channel_id, deleted.delete_at) == ("c" * 26, 1234)
    restored = parse_frame(_frame("channel_restored", {"channel_id": "c" * 26}, bcast))
    assert isinstance(restored, ChannelRestored) and restored.channel_id == "c" * 26


def test_user_updated_takes_the_user_as_a_plain_object() -> None:
    user = {"id": "u" * 26, "username": "bob", "delete_at": 99, "roles": "system_user"}
    event = parse_frame(_frame("user_updated", {"user": user}, {"channel_id": "", "team_id": ""}))
    assert isinstance(event, UserUpdated)
    assert event.user.is_deactivated and event.channel_id == ""
    # a JSON string (as other nested objects arrive) is accepted too
    again = parse_frame(_frame("user_updated", {"user": json.dumps(user)}, {}))
    assert isinstance(again, UserUpdated) and again.user.username == "bob"
