"""The keys warroom marks its posts with (bot/render/keys.py)."""

from __future__ import annotations

from bot.render.keys import KEY_PROP, key_of, keyed, keyed_many, keys_of
from bot.render.post_size import PROPS_BUDGET_RUNES, go_json_runes
from bot.services.lines import MAX_LINES


def test_a_post_that_says_several_lines_carries_each_key_in_order() -> None:
    marked = keyed_many({"a": 1}, ["k1", "k2", "k3"])
    assert marked["a"] == 1 and key_of(marked) == "k1"  # readers of one key still find the first
    assert keys_of(marked) == ["k1", "k2", "k3"]
    assert keys_of(keyed(None, "only")) == ["only"] == keys_of(keyed_many(None, ["only"]))
    assert keys_of({}) == [] and keys_of({KEY_PROP: 7, "warroom_keys": "x"}) == []


def test_a_full_batch_of_change_keys_fits_in_the_props_budget() -> None:
    key = "notice:" + "i" * 26 + ":" + "9" * 26  # longer than IncidentService.mutate makes
    assert go_json_runes(keyed_many(None, [key] * MAX_LINES)) < PROPS_BUDGET_RUNES
