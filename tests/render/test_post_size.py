"""render/post_size measures a post as Mattermost 5.36 does (model/post.go ``IsValid``)."""

from __future__ import annotations

import json
from pathlib import Path

from bot.render import post_size

RECORDED = Path(__file__).parents[1] / "fixtures" / "mattermost"


def test_go_json_escapes_html_and_separators_and_counts_runes() -> None:
    assert post_size.go_json_runes({"k": "é🔥"}) == len('{"k":"é🔥"}')
    assert post_size.go_json_runes("<>&") == 2 + 18  # \u003c\u003e\u0026
    assert post_size.go_json_runes("\u2028\b\n") == 2 + 6 + 6 + 2


def test_attachments_are_measured_in_the_shape_the_server_stores() -> None:
    recorded = json.loads((RECORDED / "rest_create_post_with_buttons_as_bot.json").read_text())
    stored = recorded["props"]
    sent = {
        "attachments": [
            {
                "color": "#e01e5a",
                "text": "Commander: @alice",
                "title": "Disk full",
                "fields": [{"short": True, "title": "Stage", "value": "Triage"}],
                "actions": [
                    {"id": "check0x0", "name": "Check", "style": "primary", "type": "button"},
                    {"data_source": "users", "id": "assign0x0", "name": "Assign", "type": "select"},
                    {"id": "bad_id", "name": "Bad id", "type": "button"},
                ],
            }
        ]
    }
    assert post_size.props_runes(sent) == len(json.dumps(stored, separators=(",", ":")))
    assert post_size.props_runes(sent, from_bot=False) == post_size.props_runes(sent) - len(
        ',"from_bot":"true"'
    )


def test_post_fits_at_the_limits() -> None:
    pad = post_size.PROPS_MAX_RUNES - len('{"from_bot":"true","k":""}')
    assert post_size.post_fits("x" * 16383, {"k": "x" * pad})
    assert not post_size.post_fits("x" * 16384, {})
    assert not post_size.post_fits("", {"k": "x" * (pad + 1)})
