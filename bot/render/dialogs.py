"""Interactive dialogs as Mattermost JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.limits import INCIDENT_DESCRIPTION, INCIDENT_NAME
from bot.domain.models import Incident, Playbook
from bot.render.messages import end_dialog_intro

NAME_MIN, NAME_MAX = INCIDENT_NAME.least, INCIDENT_NAME.most
DESCRIPTION_MAX = INCIDENT_DESCRIPTION.most


def start_dialog(
    *,
    url: str,
    state: str,
    playbooks: Sequence[Playbook],
    name: str = "",
    description: str = "",
    severities: Sequence[str] = (),
    playbook_id: str = "",
) -> dict[str, Any]:
    """The start dialog; ``playbook_id`` preselects a playbook (a signal's offer)."""
    options = [{"text": pb.title, "value": pb.id} for pb in playbooks]
    chosen = playbook_id if any(o["value"] == playbook_id for o in options) else ""
    if not chosen and len(options) == 1:
        chosen = options[0]["value"]
    dialog: dict[str, Any] = {
        "url": url,
        "dialog": {
            "callback_id": "start",
            "title": "Start incident",
            "introduction_text": "A dedicated channel is created; you become its commander.",
            "submit_label": "Start",
            "notify_on_cancel": False,
            "state": state,
            "elements": [
                {
                    "display_name": "Playbook",
                    "name": "playbook",
                    "type": "select",
                    "options": options,
                    "default": chosen,
                },
                {
                    "display_name": "Name",
                    "name": "name",
                    "type": "text",
                    "min_length": NAME_MIN,
                    "max_length": NAME_MAX,
                    "default": name,
                    "placeholder": "e.g. Checkout errors in eu-west",
                },
                {
                    "display_name": "Description",
                    "name": "description",
                    "type": "textarea",
                    "optional": True,
                    "max_length": DESCRIPTION_MAX,
                    "default": description,
                    "help_text": "Becomes the channel header.",
                },
            ],
        },
    }
    if severities:  # optional; /incident severity changes it later
        dialog["dialog"]["elements"].append(
            {
                "display_name": "Severity",
                "name": "severity",
                "type": "select",
                "optional": True,
                "options": [{"text": level, "value": level} for level in severities],
                "default": "",
            }
        )
    return dialog


def end_dialog(*, url: str, state: str, incident: Incident) -> dict[str, Any]:
    return {
        "url": url,
        "dialog": {
            "callback_id": "end",
            "title": "End incident",
            "introduction_text": end_dialog_intro(incident),
            "submit_label": "End incident",
            "notify_on_cancel": False,
            "state": state,
            "elements": [],
        },
    }
