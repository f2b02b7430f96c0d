import pytest
from pydantic import ValidationError

from bot.settings import Settings


def test_environment_is_read_with_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARROOM_COMMAND_TOKENS", "abc, def,")
    monkeypatch.setenv("WARROOM_MATTERMOST_URL", "https://chat.example.com/")
    monkeypatch.setenv("WARROOM_LISTEN_PORT", "9000")
    settings = Settings()
    assert [t.get_secret_value() for t in settings.command_tokens] == ["abc", "def"]
    assert settings.mattermost_url == "https://chat.example.com"
    assert settings.listen_port == 9000
    assert "abc" not in repr(settings)  # secrets stay out of logs
    monkeypatch.setenv("WARROOM_COMMAND_TOKENS", '["x,y", "z"]')
    assert [t.get_secret_value() for t in Settings().command_tokens] == ["x,y", "z"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WARROOM_MATTERMOST_URL", "chat.example.com"),
        ("WARROOM_MATTERMOST_URL", "https://chat.example.com/mattermost"),
        ("WARROOM_PUBLIC_URL", "ftp://x"),
        ("WARROOM_PUBLIC_URL", "https://warroom.example.com/" + "x" * 500),
        ("WARROOM_LISTEN_PORT", "70000"),
        ("WARROOM_LOG_LEVEL", "loud"),
        ("WARROOM_START_EMOJI", "no spaces please"),
    ],
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_run_commands_default_to_none_and_are_triggers(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().run_commands == []
    monkeypatch.setenv("WARROOM_RUN_COMMANDS", "/Echo, jira,,echo")
    assert Settings().run_commands == ["echo", "jira"]
    monkeypatch.setenv("WARROOM_RUN_COMMANDS", '["two words"]')
    with pytest.raises(ValidationError):
        Settings()


def test_command_tokens_may_name_their_team(monkeypatch: pytest.MonkeyPatch) -> None:
    """`<team id>:<token>` binds a token to its team; a plain token (the old format) is
    accepted from any team."""
    team = "n4fa7edodtgjxy6jm6q3d5hxfw"
    monkeypatch.setenv("WARROOM_COMMAND_TOKENS", f"{team}:tok1, tok2")
    settings = Settings()
    assert settings.command_token_entries() == [(team, "tok1"), (None, "tok2")]
    assert "tok1" not in repr(settings)


@pytest.mark.parametrize(
    "entry", ["acme:secret-tok", "N4FA7EDODTGJXY6JM6Q3D5HXFW:secret-tok", ":x"]
)
def test_a_command_token_with_a_bad_team_id_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, entry: str
) -> None:
    monkeypatch.setenv("WARROOM_COMMAND_TOKENS", entry)
    with pytest.raises(ValidationError, match="team id") as caught:
        Settings()
    assert "secret-tok" not in str(caught.value)
