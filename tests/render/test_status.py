"""The status dialog, posts and broadcast as Mattermost sees them."""

from __future__ import annotations

from typing import Any

from bot.domain.models import Incident
from bot.render import status
from bot.render.views import Names

INCIDENT = Incident(
    id="i" * 26,
    team_id="t" * 26,
    channel_id="c" * 26,
    channel_name="disk-full",
    name="Disk [full]",
    reporter_id="a" * 26,
    commander_id="a" * 26,
    created_at=0,
)
NAMES = Names({"a" * 26: "alice", "b" * 26: "bob"})


class FakeButtons:
    def button(self, **kw: Any) -> dict[str, Any]:
        return {"id": kw["action_id"], "name": kw["label"], "params": kw.get("params")}

    def user_select(self, **kw: Any) -> dict[str, Any]:
        raise AssertionError("not used")


def test_dialog_golden() -> None:
    dialog = status.status_dialog(
        url="http://w/dialog",
        state="signed",
        incident=INCIDENT,
        message="Impact: x",
        reminder_seconds=1800,
        choices=[0, 900, 1800],
    )
    assert dialog == {
        "url": "http://w/dialog",
        "dialog": {
            "callback_id": "status",
            "title": "Update status",
            "introduction_text": "Posted in the incident channel of **Disk \\[full\\]** as coming"
            " from you, and copied to its broadcast channel if it has one.",
            "submit_label": "Post update",
            "notify_on_cancel": False,
            "state": "signed",
            "elements": [
                {
                    "display_name": "Status update",
                    "name": "message",
                    "type": "textarea",
                    "max_length": 3000,
                    "default": "Impact: x",
                    "help_text": "Markdown. Where things stand, what is next.",
                },
                {
                    "display_name": "Reminder for next update",
                    "name": "reminder",
                    "type": "select",
                    "options": [
                        {"text": "No reminder", "value": "0"},
                        {"text": "15 minutes", "value": "900"},
                        {"text": "30 minutes", "value": "1800"},
                    ],
                    "default": "1800",
                },
            ],
        },
    }


def test_a_long_prefill_is_cut_to_what_the_textarea_takes() -> None:
    dialog = status.status_dialog(
        url="u", state="s", incident=INCIDENT, message="x" * 5000, reminder_seconds=0, choices=[0]
    )
    assert len(dialog["dialog"]["elements"][0]["default"]) == 3000


def test_the_update_text_is_read_back_from_the_post_with_or_without_the_heading() -> None:
    post = status.update_post(NAMES, "b" * 26, "Line one\n\nLine two")
    assert post == "##### :speech_balloon: Status update by @bob\n\nLine one\n\nLine two"
    assert status.body_of(post) == "Line one\n\nLine two"
    edited = post.replace("Line two", "Line 2")
    assert status.body_of(edited) == "Line one\n\nLine 2"
    assert status.body_of("All rewritten") == "All rewritten"


def test_broadcast_heading_links_the_update() -> None:
    text = status.broadcast(
        INCIDENT, NAMES, author_id="b" * 26, link="http://mm/acme/pl/p", now=90 * 60_000,
        message="**Fixed**",
    )  # fmt: skip
    assert text == (
        "#### [Disk \\[full\\]](http://mm/acme/pl/p)\n"
        "Status update by @bob · 1h 30m · Ongoing\n\n**Fixed**"
    )


def test_reminder_post_mentions_the_commander_and_carries_its_id() -> None:
    text, props = status.reminder_post(INCIDENT, NAMES, FakeButtons(), 42)
    assert text == "@alice, a status update for **Disk \\[full\\]** is due."
    assert props[status.REMINDER_MARK] == "42"
    actions = props["attachments"][0]["actions"]
    assert [(a["id"], a["name"]) for a in actions] == [
        ("update", "Update status"),
        ("dismiss", "Dismiss"),
    ]
    assert actions[1]["params"] == {"r": 42}


def test_broadcast_golden_mentions_defused_markdown_kept() -> None:
    """The broadcast copy: the name as a link label, the update as markdown, no mentions."""
    incident = INCIDENT.model_copy(update={"name": "@channel db_down [eu]"})
    text = status.broadcast(
        incident,
        NAMES,
        author_id="b" * 26,
        link="http://mm/acme/pl/p",
        now=60_000,
        message="**Impact:** ~12%, ask @alice or see https://wiki.example/a_b",
    )
    assert text == (
        "#### [@\u2060channel db_down \\[eu\\]](http://mm/acme/pl/p)\n"
        "Status update by @bob · 1m · Ongoing\n\n"
        "**Impact:** ~12%, ask @\u2060alice or see https://wiki.example/a_b"
    )


def test_last_update_golden_is_markdown_with_mentions_defused() -> None:
    assert status.last_update("**Impact:** @here", "@bob", 0) == (
        "**Impact:** @\u2060here\n— @bob, 1970-01-01 00:00 UTC"
    )


def test_the_update_post_keeps_the_writers_mentions_in_the_incident_channel() -> None:
    assert status.update_post(NAMES, "b" * 26, "@here back") == (
        "##### :speech_balloon: Status update by @bob\n\n@here back"
    )
