"""The playbook dialogs respect Mattermost's limits and pre-fill what is being edited."""

from typing import Any

from bot.domain.models import Playbook
from bot.render.playbook_dialogs import import_dialog, playbook_dialog
from bot.render.playbooks import TEMPLATE_STAGES, TEXT_MAX, TEXTAREA_MAX, text_problems
from bot.services.playbook_text import LineProblem


def _elements(dialog: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in dialog["dialog"]["elements"]}


def test_create_dialog_offers_the_template_and_stays_within_limits() -> None:
    dialog = playbook_dialog(url="u", state="s", pb=None, stages_text="", invite="")
    assert dialog["dialog"]["callback_id"] == "pb_create"
    elements = _elements(dialog)
    assert [o["value"] for o in elements["start_from"]["options"]] == ["blank", "template"]
    assert elements["stages"]["optional"] is True  # empty stages + template = the template's
    assert elements["broadcast"]["data_source"] == "channels"
    assert [o["value"] for o in elements["reminder"]["options"]] == [
        "0", "15", "30", "60", "240", "1440",
    ]  # fmt: skip
    for element in elements.values():
        limit = {"textarea": TEXTAREA_MAX, "text": TEXT_MAX}.get(element["type"])
        if limit:
            assert 0 < element["max_length"] <= limit, element["name"]
    assert elements["private"]["default"] == "true" and elements["team_wide"]["default"] == "false"
    assert len(TEMPLATE_STAGES) < TEXTAREA_MAX


def test_edit_dialog_is_prefilled() -> None:
    pb = Playbook(
        id="p", title="Outage", team_id="t", private_channel=False, team_wide=True,
        reminder_minutes=240, broadcast_channel_id="c" * 26, status_template="Impact:",
    )  # fmt: skip
    dialog = playbook_dialog(url="u", state="s", pb=pb, stages_text="## S\n- t", invite="@bob")
    elements = _elements(dialog)
    assert dialog["dialog"]["callback_id"] == "pb_edit" and "start_from" not in elements
    assert {k: e["default"] for k, e in elements.items()} == {
        "title": "Outage", "description": "", "stages": "## S\n- t", "private": "false",
        "broadcast": "c" * 26, "reminder": "240", "status_template": "Impact:",
        "invite": "@bob", "team_wide": "true",
    }  # fmt: skip
    assert elements["stages"]["optional"] is True  # no stages is a valid playbook


def test_import_dialog_and_line_problems() -> None:
    assert _elements(import_dialog(url="u", state="s"))["export"]["max_length"] == TEXTAREA_MAX
    text = text_problems([LineProblem(0, "task_title_length"), LineProblem(4, "command_slash")])
    assert text.startswith("A task title must be 1 to 150") and "Line 4: after | comes" in text
