"""Argument parsing of `/incident test`: playbook words, dates."""

from __future__ import annotations

import pytest

from bot.commands.testdata import Refusal, _split_playbook, day_ms


def test_playbook_may_be_quoted_or_one_word() -> None:
    assert _split_playbook('"Service outage" 2020-01-02 Name here') == (
        "Service outage",
        "2020-01-02 Name here",
    )
    assert _split_playbook("“Smart quotes” 2020-01-02 N") == ("Smart quotes", "2020-01-02 N")
    assert _split_playbook("f123 2020-01-02 N") == ("f123", "2020-01-02 N")


def test_dates_are_midnight_utc_and_strict() -> None:
    assert day_ms("1970-01-02") == 86_400_000
    for bad in ("2020-02-30", "2020-1-02", "20200102", "2020-01-02T00:00"):
        with pytest.raises(Refusal, match="not a date"):
            day_ms(bad)
