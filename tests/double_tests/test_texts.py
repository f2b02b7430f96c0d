"""Contract: what the double does to texts, as Mattermost 5.36 does (tests/double/texts.py).

Slack-style parsing: app/command.go (HandleCommandResponsePost, CreateCommandPost),
app/slack.go, model/slack_attachment.go, app/integration_action.go. Mentions:
app/notification.go (getExplicitMentions, processText, checkForMention) over shared/markdown.
"""

from __future__ import annotations

import pytest

from tests.double.texts import Member, find_mentions, text_runs

from .conftest import Seed

USAGE = "`/incident check <stage#> [prev|next]` and `/incident export <name> [add]`"
MANGLED = "`/incident check [next]` and `/incident export <name](stage#> [prev) [add]`"


async def _reply(seed: Seed, body: dict[str, object]) -> dict[str, object]:
    seed.hook.reply_json("/command", body)
    await seed.mm.run_command(seed.alice, seed.town.id, "/incident help")
    last: dict[str, object] = seed.mm.ephemerals(seed.alice.id)[-1]
    return last


async def test_command_text_gets_slack_link_parsing_unless_skipped(seed: Seed) -> None:
    parsed = await _reply(seed, {"text": USAGE})
    assert parsed["message"] == MANGLED
    kept = await _reply(seed, {"text": USAGE, "skip_slack_parsing": True})
    assert kept["message"] == USAGE


async def test_command_text_expands_slack_announcements_unless_skipped(seed: Seed) -> None:
    parsed = await _reply(seed, {"text": f"<!channel> <@{seed.bob.id}>"})
    assert parsed["message"] == "@channel @bob"
    kept = await _reply(seed, {"text": "<!channel>", "skip_slack_parsing": True})
    assert kept["message"] == "<!channel>"


async def test_command_attachments_get_link_parsing_even_when_skipped(seed: Seed) -> None:
    """CreateCommandPost calls ParseSlackAttachment whatever skip_slack_parsing says."""
    attachment = {
        "pretext": "<a|b>",
        "text": "<c|d>",
        "title": "<e|f>",
        "fields": [{"title": "<g|h>", "value": "<i|j>"}],
    }
    post = await _reply(
        seed, {"text": "x", "skip_slack_parsing": True, "attachments": [attachment]}
    )
    att = post["props"]["attachments"][0]  # type: ignore[index]
    assert (att["pretext"], att["text"], att["title"]) == ("[b](a)", "[d](c)", "<e|f>")
    assert att["fields"][0] == {"title": "<g|h>", "value": "[j](i)", "short": False}


async def test_action_ephemeral_text_is_parsed_unless_skipped_and_update_never(
    seed: Seed,
) -> None:
    props = {
        "attachments": [
            {
                "actions": [
                    {
                        "id": "go",
                        "name": "Go",
                        "type": "button",
                        "integration": {"url": seed.hook.url + "/action"},
                    }
                ]
            }
        ]
    }
    post = await seed.mm.user_post(seed.bot, seed.secret.id, "card", props=props)
    seed.hook.reply_json("/action", {"ephemeral_text": "<a|b>", "update": {"message": "<c|d>"}})
    await seed.mm.click(seed.alice, post["id"], "go")
    assert seed.mm.ephemerals(seed.alice.id)[-1]["message"] == "[b](a)"
    assert seed.mm.get_post(post["id"])["message"] == "<c|d>"  # type: ignore[index]
    seed.hook.reply_json("/action", {"ephemeral_text": "<a|b>", "skip_slack_parsing": True})
    await seed.mm.click(seed.alice, post["id"], "go")
    assert seed.mm.ephemerals(seed.alice.id)[-1]["message"] == "<a|b>"


async def test_api_posts_are_never_slack_parsed(seed: Seed) -> None:
    post = await seed.mm.user_post(seed.alice, seed.town.id, "<!channel> <a|b>")
    assert post["message"] == "<!channel> <a|b>"


# ---- mentions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "mentioned", "flag"),
    [
        ("@channel db down", {"admin", "bob"}, "channel"),
        ("@ALL hands", {"admin", "bob"}, "all"),
        ("(@here)", set(), "here"),  # @here reaches members online only: nobody is
        ("ping @bob.", {"bob"}, ""),
        ("ping:@bob", {"bob"}, ""),
        ("a.@channel", {"admin", "bob"}, "channel"),
        ("_@channel", {"admin", "bob"}, "channel"),
        ("\\@channel escaped", {"admin", "bob"}, "channel"),
        ("&#64;channel entity", {"admin", "bob"}, "channel"),
        ("[@channel](http://x)", {"admin", "bob"}, "channel"),
        ("`@channel` in code", set(), ""),
        ("```\n@channel\n```", set(), ""),
        ("see https://x.example/@channel", set(), ""),
        ("see https://my_host/@channel", {"admin", "bob"}, "channel"),
        ("[see https://x.example/@channel", {"admin", "bob"}, "channel"),
        ("[https://x.example/@channel](http://y)", {"admin", "bob"}, "channel"),
        ("[docs](https://x.example/@channel)", set(), ""),
        ("xhttps://x.example/@channel", {"admin", "bob"}, "channel"),
        ("ops@channel.example", set(), ""),
        ("@\u2060channel with a word joiner", set(), ""),
        ("@\u2060bob with a word joiner", set(), ""),
        ("@alice (the sender)", set(), ""),
    ],
)
async def test_posts_notify_whom_the_server_would(
    seed: Seed, message: str, mentioned: set[str], flag: str
) -> None:
    post = await seed.mm.user_post(seed.alice, seed.town.id, message)
    found = seed.mm.notified(post["id"])
    names = {seed.mm.state.users[i].username for i in found.user_ids}
    assert names == mentioned
    assert {k for k in ("here", "channel", "all") if getattr(found, k)} == (
        {flag} if flag else set()
    )


async def test_attachment_pretext_and_text_mention_but_fields_and_titles_do_not(
    seed: Seed,
) -> None:
    quiet = {"attachments": [{"title": "@channel", "fields": [{"title": "x", "value": "@bob"}]}]}
    post = await seed.mm.user_post(seed.alice, seed.town.id, "", props=quiet)
    assert seed.mm.notified(post["id"]).user_ids == set()
    loud = {"attachments": [{"pretext": "@bob", "text": "@admin"}]}
    post = await seed.mm.user_post(seed.alice, seed.town.id, "", props=loud)
    assert seed.mm.notified(post["id"]).user_ids == {seed.bob.id, seed.admin.id}


async def test_here_reaches_only_members_online(seed: Seed) -> None:
    members = [Member("a", "amy", online=True), Member("b", "ben", online=False)]
    found = find_mentions("@here", {}, members=members, sender_id="x", allow_channel_mentions=True)
    assert found.here and found.user_ids == {"a"}
    found = find_mentions("@all", {}, members=members, sender_id="x", allow_channel_mentions=True)
    assert found.all and found.user_ids == {"a", "b"}


def test_text_runs_follow_the_servers_markdown() -> None:
    runs = text_runs("a `b` c\n    lazy line\n\n    indented code\n> quote @x\n- [l](http://t/@y)")
    assert [r.strip() for r in runs] == ["a", "c", "lazy line", "quote @x", "l"]


async def test_channel_mentions_in_the_message_add_props_that_count_towards_the_limit(
    seed: Seed,
) -> None:
    """5.36 app/post.go FillInPostProps: each ``~name`` of a public channel of the team in
    the message (not in attachments) adds ``props.channel_mentions[name]`` on create and on
    every edit; a private or unknown channel adds nothing; the props limit counts them."""
    made = await seed.rest.call(
        seed.bot,
        "POST",
        "/posts",
        {
            "channel_id": seed.secret.id,
            "message": "see ~town-square, ~secret and ~nowhere; a~town-square is no mention",
            "props": {"attachments": [{"text": "~town-square"}]},
        },
    )
    assert made.status == 201
    assert made.body["props"]["channel_mentions"] == {
        "town-square": {"display_name": seed.town.display_name, "team_name": seed.team.name}
    }
    post_id = made.body["id"]
    edited = await seed.rest.call(
        seed.bot, "PUT", f"/posts/{post_id}/patch", {"message": "no mention now"}
    )
    assert "channel_mentions" not in edited.body["props"]
    # props just under the limit without the mention are refused with it
    filler = "x" * (8000 - len('{"from_bot":"true","k":""}'))
    fits = await seed.rest.call(
        seed.bot,
        "POST",
        "/posts",
        {"channel_id": seed.secret.id, "message": "plain", "props": {"k": filler}},
    )
    assert fits.status == 201
    refused = await seed.rest.call(
        seed.bot,
        "POST",
        "/posts",
        {"channel_id": seed.secret.id, "message": "~town-square", "props": {"k": filler}},
    )
    assert (refused.status, refused.body["id"]) == (400, "model.post.is_valid.props.app_error")
