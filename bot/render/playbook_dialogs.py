"""The playbook dialogs (create, edit, delete, import) as Mattermost JSON."""

from __future__ import annotations

from typing import Any

from bot.domain.models import Playbook
from bot.render.playbooks import (
    FORMAT_HELP,
    REMINDER_OPTIONS,
    TEMPLATE_TITLE,
    TEMPLATE_VALUE,
    TEXT_MAX,
    TEXTAREA_MAX,
    TITLE_MAX,
    delete_intro,
    import_channel_unreadable,
    import_no_file,
)


def _element(name: str, label: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"display_name": label, "name": name, "type": kind, **extra}


def playbook_dialog(
    *, url: str, state: str, pb: Playbook | None, stages_text: str, invite: str
) -> dict[str, Any]:
    """The create dialog (``pb`` None) or the edit dialog of ``pb``, pre-filled."""
    editing = pb is not None
    elements = [
        _element("title", "Title", "text", max_length=TITLE_MAX, default=pb.title if pb else "")
    ]
    if not editing:
        elements.append(
            _element(
                "start_from",
                "Start from",
                "select",
                optional=True,
                default="blank",
                options=[
                    {"text": "Blank playbook", "value": "blank"},
                    {"text": f"Template: {TEMPLATE_TITLE}", "value": TEMPLATE_VALUE},
                ],
                help_text=(
                    "The template fills the stages, description and status template you leave"
                    " empty."
                ),
            )
        )
    elements += [
        _element(
            "description", "Description", "textarea", optional=True, max_length=TEXTAREA_MAX,
            default=pb.description if pb else "",
        ),
        _element(
            "stages", "Stages and tasks", "textarea", optional=True,
            max_length=TEXTAREA_MAX, default=stages_text, help_text=FORMAT_HELP,
            placeholder="## Triage\n- Acknowledge the alert\n- Page the owner | /page ops",
        ),
        _element(
            "private", "Private incident channel", "bool", optional=True,
            default="true" if (pb is None or pb.private_channel) else "false",
            placeholder="Incidents get a private channel",
        ),
        _element(
            "broadcast", "Broadcast channel", "select", data_source="channels", optional=True,
            default=pb.broadcast_channel_id if pb else "",
            help_text="Announcements and status updates are copied here.",
        ),
        _element(
            "reminder", "Status reminder default", "select", optional=True,
            default=str(pb.reminder_minutes or 0) if pb else "0",
            options=[{"text": t, "value": v} for t, v in REMINDER_OPTIONS],
        ),
        _element(
            "status_template", "Status update template", "textarea", optional=True,
            max_length=TEXTAREA_MAX, default=pb.status_template if pb else "",
        ),
        _element(
            "invite", "Invite at start", "text", optional=True,
            max_length=TEXT_MAX, default=invite, placeholder="@alice @bob",
        ),
        _element(
            "team_wide", "Whole team may use it", "bool", optional=True,
            default="true" if (pb is not None and pb.team_wide) else "false",
            placeholder="Everyone in the team may start incidents with it (members still edit it)",
        ),
    ]  # fmt: skip
    return {
        "url": url,
        "dialog": {
            "callback_id": "pb_edit" if editing else "pb_create",
            "title": "Edit playbook" if editing else "Create playbook",
            "introduction_text": (
                "Changes apply to incidents started from now on."
                if editing
                else "You become the playbook's first member."
            ),
            "submit_label": "Save" if editing else "Create",
            "notify_on_cancel": False,
            "state": state,
            "elements": elements,
        },
    }


def delete_dialog(*, url: str, state: str, pb: Playbook) -> dict[str, Any]:
    return {
        "url": url,
        "dialog": {
            "callback_id": "pb_delete",
            "title": "Delete playbook",
            "introduction_text": delete_intro(pb),
            "submit_label": "Delete",
            "notify_on_cancel": False,
            "state": state,
            "elements": [],
        },
    }


def import_dialog(*, url: str, state: str, channel_readable: bool = True) -> dict[str, Any]:
    """The paste dialog of ``/incident playbook import``; ``channel_readable`` False when the
    bot cannot read the channel's posts, so that the introduction does not ask for a file
    there."""
    intro = import_no_file() if channel_readable else import_channel_unreadable()
    return {
        "url": url,
        "dialog": {
            "callback_id": "pb_import",
            "title": "Import playbook",
            "introduction_text": intro,
            "submit_label": "Import",
            "notify_on_cancel": False,
            "state": state,
            "elements": [
                _element(
                    "export",
                    "Exported playbook",
                    "textarea",
                    max_length=TEXTAREA_MAX,
                    placeholder='{"title": "…", "checklists": [ … ]}',
                    help_text=(
                        "JSON from Mattermost Playbooks / Incident Management, or warroom's"
                        " YAML export. Longer than 3000 characters: attach it as a file instead."
                    ),
                )
            ],
        },
    }
