"""Status updates and reminders: the dialog, the posts, the broadcast copy, their sentences."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.limits import STATUS_MESSAGE
from bot.domain.models import Incident
from bot.render.format import channel_link, duration, markdown, name, timestamp
from bot.render.limits import limit_text
from bot.render.messages import status_word
from bot.render.views import ButtonMaker, Names

MESSAGE_MAX = STATUS_MESSAGE.most
# The props key that marks a reminder post with its reminder's id (found again after a kill).
REMINDER_MARK = "warroom_reminder"
_HEADING = "##### :speech_balloon: Status update by "

REMINDER_LABELS: dict[int, str] = {
    0: "No reminder",
    10: "10 seconds (testing)",
    15 * 60: "15 minutes",
    30 * 60: "30 minutes",
    60 * 60: "60 minutes",
    4 * 3600: "4 hours",
    24 * 3600: "24 hours",
}

_FIELD_ERRORS = {
    "message_required": "Write the update.",
    "message_too_long": limit_text(STATUS_MESSAGE),
    "bad_reminder": "Choose one of the listed reminders.",
}


def field_error(reason: str) -> str:
    return _FIELD_ERRORS.get(reason, "Not valid.")


def status_dialog(
    *,
    url: str,
    state: str,
    incident: Incident,
    message: str,
    reminder_seconds: int,
    choices: Sequence[int],
) -> dict[str, Any]:
    options = [{"text": REMINDER_LABELS[s], "value": str(s)} for s in choices]
    return {
        "url": url,
        "dialog": {
            "callback_id": "status",
            "title": "Update status",
            "introduction_text": (
                f"Posted in the incident channel of **{name(incident.name)}** as coming"
                " from you, and copied to its broadcast channel if it has one."
            ),
            "submit_label": "Post update",
            "notify_on_cancel": False,
            "state": state,
            "elements": [
                {
                    "display_name": "Status update",
                    "name": "message",
                    "type": "textarea",
                    "max_length": MESSAGE_MAX,
                    "default": message[:MESSAGE_MAX],
                    "help_text": "Markdown. Where things stand, what is next.",
                },
                {
                    "display_name": "Reminder for next update",
                    "name": "reminder",
                    "type": "select",
                    "options": options,
                    "default": str(reminder_seconds),
                },
            ],
        },
    }


def update_post(names: Names, author_id: str, message: str) -> str:
    """The update as posted in the incident channel (a bot posts it: the author is named).

    The person wrote it for this channel, so it is posted as written (mentions included).
    """
    return f"{_HEADING}{names.at(author_id)}\n\n{message}"


def body_of(post_message: str) -> str:
    """The update written in a status post, without the heading warroom put above it."""
    if post_message.startswith(_HEADING):
        _, _, rest = post_message.partition("\n")
        return rest.strip("\n")
    return post_message


def last_update(message: str, author: str, at: int) -> str:
    """What the summary card and ``info`` show as the last status update (markdown)."""
    return f"{markdown(message)}\n— {author}, {timestamp(at)}"


def broadcast(
    incident: Incident, names: Names, *, author_id: str, link: str, now: int, message: str
) -> str:
    """The copy of a status update in the broadcast channel: mentions in it notify nobody."""
    return (
        f"#### [{name(incident.name)}]({link})\n"
        f"Status update by {names.at(author_id)} · {duration(incident.duration_ms(now))}"
        f" · {status_word(incident)}\n\n{markdown(message)}"
    )


def reminder_failed(incident: Incident) -> str:
    """The reminder could not be posted in the incident channel: said to the commander by DM."""
    return (
        f"It is time for a status update on **{name(incident.name)}**, but I could not post"
        f" the reminder in {channel_link(incident.channel_name)} (Mattermost refused or failed)."
        " Post the update with `/incident update` there, and check that @warroom is still a"
        " member of the channel."
    )


def broadcast_failed() -> str:
    return (
        "Your status update is posted in the incident channel, but I could not copy it to"
        " the broadcast channel."
    )


def reminder_refused(incident: Incident, status: int) -> str:
    """Told to the commander when Mattermost refused a reminder post for good."""
    return (
        f"A status update for **{name(incident.name)}** is due, but Mattermost refused my"
        f" reminder in ~{incident.channel_name} (HTTP {status}). Please post the update with"
        " `/incident update` in the incident channel."
    )


def reminder_post(
    incident: Incident, names: Names, buttons: ButtonMaker, reminder_id: int
) -> tuple[str, dict[str, Any]]:
    text = (
        f"{names.at(incident.commander_id)}, a status update for **{name(incident.name)}** is due."
    )
    params = {"r": reminder_id}
    attachment = {
        "fallback": "A status update is due.",
        "text": "Any member of this channel may write it.",
        "actions": [
            update_button(buttons, incident.id),
            buttons.button(
                action_id="dismiss",
                label="Dismiss",
                action="dismiss",
                incident_id=incident.id,
                params=params,
            ),
        ],
    }
    return text, {"attachments": [attachment], REMINDER_MARK: str(reminder_id)}


def update_button(buttons: ButtonMaker, incident_id: str) -> dict[str, Any]:
    """The "Update status" button (summary card and reminder posts)."""
    return buttons.button(
        action_id="update",
        label="Update status",
        action="status",
        incident_id=incident_id,
        style="primary",
    )


def update_not_posted(incident: Incident) -> str:
    """A status update whose post never got through (told to its author)."""
    return (
        f"I could not post your status update on **{name(incident.name)}** (Mattermost did not"
        " answer). If it is not in the incident channel, post it again with `/incident update`."
    )
