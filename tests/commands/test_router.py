from bot.commands.incident import post_ref
from bot.commands.router import Reply, split


def test_split_keeps_the_rest_of_the_line() -> None:
    assert split("start  Disk full ") == ("start", ["Disk", "full"], "Disk full")
    assert split("") == ("", [], "")
    assert split("  LIST ") == ("list", [], "")


def test_post_ref_accepts_permalinks_and_ids() -> None:
    pid = "oh9jhzn4kpnpx8943ptupu4z7w"
    assert post_ref(f"https://chat.example.com/acme/pl/{pid}") == pid
    assert post_ref(pid) == pid
    assert post_ref("Disk full") is None


def test_rule_every_command_reply_skips_slack_parsing() -> None:
    """Mattermost rewrites <target|label> in a command reply unless the reply says not to."""
    for reply in (Reply(), Reply("`/incident check <stage#> [prev|next]`", in_channel=True)):
        body = reply.to_json()
        assert body["skip_slack_parsing"] is True
    assert Reply("x").to_json()["text"] == "x"
