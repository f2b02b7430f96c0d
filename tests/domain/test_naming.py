import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.limits import INCIDENT_NAME
from bot.domain.naming import channel_name_for, display_name, is_valid_channel_name, with_suffix

# model.IsValidChannelIdentifier (Mattermost 5.36 model/utils.go), written independently of the
# code under test: 2..64 of a-z 0-9 - _, starting and ending with a letter or digit.
MATTERMOST_RULE = re.compile(r"^[a-z0-9]+([a-z\-_0-9]+|(__)?)[a-z0-9]+$")
ID_LIKE = re.compile(r"^[a-z0-9]{26}$")


def mattermost_accepts(name: str) -> bool:
    return 2 <= len(name) <= 64 and MATTERMOST_RULE.match(name) is not None


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        ("Disk full", "disk-full"),
        ("  Disk -- full!! ", "disk-full"),
        ("DB: écriture lente", "db-ecriture-lente"),
        ("a_b c", "a_b-c"),
        ("Авария 1", "avariia-1"),
        ("Straße", "strasse"),
    ],
)
def test_channel_name_rules(display: str, expected: str) -> None:
    assert channel_name_for(display) == expected


@pytest.mark.parametrize("display", ["Q!", "🔥 5", "数据库故障 2", "🔥🔥", "-x-"])
def test_names_without_a_cheap_spelling_fall_back_to_a_stable_incident_name(display: str) -> None:
    name = channel_name_for(display)
    assert name.startswith("incident-") and mattermost_accepts(name)
    assert channel_name_for(display) == name  # stable: the same name, the same URL name
    assert channel_name_for(display + "x") != name


def test_an_id_like_result_is_broken_up() -> None:
    name = channel_name_for("abcdefghijklmnopqrstuvwxyz")
    assert mattermost_accepts(name) and not ID_LIKE.match(name)


def test_long_names_leave_room_for_a_suffix() -> None:
    name = channel_name_for("x" * 200)
    assert len(with_suffix(name)) <= 64
    assert with_suffix("disk-full").startswith("disk-full-")
    assert with_suffix("disk-full") != with_suffix("disk-full")


acceptable_names = st.text(min_size=INCIDENT_NAME.least, max_size=INCIDENT_NAME.most).filter(
    lambda s: INCIDENT_NAME.fits(s.strip())
)


@settings(max_examples=400, deadline=None)
@given(acceptable_names)
def test_every_acceptable_incident_name_yields_a_url_name_mattermost_accepts(name: str) -> None:
    """Rule: every display name warroom accepts yields a channel URL name that passes
    Mattermost's IsValidChannelIdentifier, is not id-like, and stays valid with a clash suffix."""
    derived = channel_name_for(name.strip())
    assert mattermost_accepts(derived), derived
    assert not ID_LIKE.match(derived)
    assert is_valid_channel_name(derived)
    assert mattermost_accepts(with_suffix(derived))


def test_display_name_drops_what_the_server_drops_and_nothing_else() -> None:
    """model.SanitizeUnicode's blocklist goes; other invisible or exotic characters stay."""
    assert display_name(" \u202eDisk\u2028 \ufefffull\U000e0041 ") == "Disk full"
    kept = "Авария 数据库 🔥 a\u200db \u2060x"
    assert display_name(kept) == kept
