"""The summary card and the checklist post: Mattermost message attachments with buttons."""

from __future__ import annotations

from typing import Any

from bot.domain.models import Incident
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
    return "", {"attachments": [attachment]}


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
