"""The summary card: a Mattermost message attachment with buttons, kept within post post_size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.domain.models import Incident
from bot.render import post_size
from bot.render.format import duration, markdown, one_line, timestamp
from bot.render.messages import stage_label, status_word
from bot.render.status import update_button
from bot.render.views import ButtonMaker, Names

COLOR_ONGOING = "#e01e5a"
COLOR_ENDED = "#3db887"


def summary_card(
    incident: Incident, names: Names, buttons: ButtonMaker, now: int, last_update: str = ""
) -> tuple[str, dict[str, Any]]:
    """The pinned card: message text and props. Kept up to date in place."""
    fields: list[dict[str, Any]] = [
        {"short": True, "title": "Commander", "value": names.at(incident.commander_id)},
        {"short": True, "title": "Status", "value": status_word(incident)},
        {"short": True, "title": "Stage", "value": stage_label(incident)},
        {
            "short": True,
            "title": "Duration" if incident.is_ongoing else "Lasted",
            "value": f"{duration(incident.duration_ms(now))} since {timestamp(incident.created_at)}"
            if incident.is_ongoing
            else duration(incident.duration_ms(now)),
        },
    ]
    if incident.severity:
        fields.insert(2, {"short": True, "title": "Severity", "value": one_line(incident.severity)})
    fields.append(
        {
            "short": False,
            "title": "Last status update",
            "value": last_update or "_none yet_",
        }
    )
    if incident.is_ongoing:
        actions = [
            update_button(buttons, incident.id),
            buttons.button(
                action_id="end",
                label="End incident",
                action="end",
                incident_id=incident.id,
                style="danger",
            ),
        ]
    else:
        actions = [
            buttons.button(
                action_id="restart",
                label="Restart incident",
                action="restart",
                incident_id=incident.id,
            )
        ]
    attachment = {
        "fallback": f"Incident {one_line(incident.name)}: {status_word(incident)}",
        "color": COLOR_ONGOING if incident.is_ongoing else COLOR_ENDED,
        "title": f"Incident: {one_line(incident.name)}",
        "text": markdown(incident.description),
        "fields": fields,
        "footer": f"Playbook: {one_line(incident.playbook_title)}",
        "actions": actions,
    }
    return "", {"attachments": [fit_card(attachment)]}


def fit_card(attachment: dict[str, Any]) -> dict[str, Any]:
    """The card cut to fit a post: the last status update, then the description, end in "…".

    A status update (3,000 characters) and a description (1,024) full of characters that Go's
    JSON writes as six (``<``, ``>``, ``&``) would take the props past Mattermost's 8,000
    (render/post_size).
    Each is kept as long as still fits; the whole update stays in the channel.
    """
    if _fits(attachment):
        return attachment
    fields = attachment["fields"]
    last = fields[-1]["value"]

    def with_update(n: int) -> dict[str, Any]:
        return {**attachment, "fields": [*fields[:-1], {**fields[-1], "value": _cut(last, n)}]}

    attachment = with_update(_longest(with_update, floor=min(200, len(last)), ceiling=len(last)))
    if _fits(attachment):
        return attachment
    text = attachment["text"]

    def with_text(n: int) -> dict[str, Any]:
        return {**attachment, "text": _cut(text, n)}

    return with_text(_longest(with_text, floor=0, ceiling=len(text)))


def _fits(attachment: dict[str, Any]) -> bool:
    return post_size.props_runes({"attachments": [attachment]}) <= post_size.PROPS_BUDGET_RUNES


def _longest(candidate: Callable[[int], dict[str, Any]], *, floor: int, ceiling: int) -> int:
    """The largest n in [floor, ceiling] whose ``candidate(n)`` fits (floor if none does)."""
    while floor < ceiling:
        middle = (floor + ceiling + 1) // 2
        if _fits(candidate(middle)):
            floor = middle
        else:
            ceiling = middle - 1
    return floor


def _cut(text: str, keep: int) -> str:
    return text if len(text) <= keep else text[: max(0, keep - 1)] + "…"


def start_button(
    buttons: ButtonMaker,
    *,
    text: str = "",
    params: dict[str, Any] | None = None,
    user_id: str = "",
) -> list[dict[str, Any]]:
    """An attachment with the "Start incident" button (help reply, reaction prompt)."""
    return [
        {
            "fallback": "Start an incident",
            "text": text,
            "actions": [
                buttons.button(
                    action_id="startincident",
                    label="Start incident",
                    action="startdialog",
                    incident_id="",
                    style="primary",
                    params=params,
                    user_id=user_id,
                )
            ],
        }
    ]
