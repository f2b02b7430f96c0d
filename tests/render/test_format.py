import pytest

from bot.render.format import duration, escape

MIN = 60_000


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "< 1m"),
        (59_999, "< 1m"),
        (MIN, "1m"),
        (60 * MIN, "1h"),
        (61 * MIN, "1h 1m"),
        (24 * 60 * MIN, "1d"),
        ((24 * 60 + 1) * MIN, "1d 1m"),
        ((2 * 24 * 60 + 3 * 60 + 4) * MIN, "2d 3h 4m"),
        (-5, "< 1m"),
    ],
)
def test_duration_text(ms: int, text: str) -> None:
    assert duration(ms) == text


def test_escape_neutralises_markdown() -> None:
    assert escape("*bold* [x](y)") == r"\*bold\* \[x\]\(y\)"
