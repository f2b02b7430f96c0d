import pytest

from bot.domain.naming import channel_name_for, with_suffix


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        ("Disk full", "disk-full"),
        ("  Disk -- full!! ", "disk-full"),
        ("DB: écriture lente", "db-criture-lente"),
        ("a_b c", "a_b-c"),
        ("🔥🔥", "incident"),
        ("-x-", "x"),
    ],
)
def test_channel_name_rules(display: str, expected: str) -> None:
    assert channel_name_for(display) == expected


def test_long_names_leave_room_for_a_suffix() -> None:
    name = channel_name_for("x" * 200)
    assert len(with_suffix(name)) <= 64
    assert with_suffix("disk-full").startswith("disk-full-")
    assert with_suffix("disk-full") != with_suffix("disk-full")
