"""Signal keywords: whole words and phrases, any case, any spacing."""

from __future__ import annotations

from bot.services.signals import keyword_pattern


def test_keywords_match_whole_words_and_phrases_only() -> None:
    pattern = keyword_pattern(["db down", "5xx", "outage"])
    assert pattern.search("the DB   down again").group(0) == "DB   down"  # type: ignore[union-attr]
    assert pattern.search("seeing 5xx!") is not None
    assert pattern.search("Outage.") is not None
    for quiet in ("outages page", "db downtime", "15xx", "all good"):
        assert pattern.search(quiet) is None, quiet
    assert keyword_pattern(["a.b (c)"]).search("x a.b (c) y") is not None  # no regex leaks
