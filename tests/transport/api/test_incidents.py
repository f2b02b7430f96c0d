"""Cursors of the incident list: opaque, bound to their sort, refused when forged."""

from __future__ import annotations

import pytest

from bot.errors import InputError
from bot.transport.api.incidents import decode_cursor, encode_cursor


def test_a_cursor_gives_back_its_key_for_the_same_sort_only() -> None:
    cursor = encode_cursor("-created_at", (1764480000000, "abc"))
    assert decode_cursor(cursor, "-created_at") == (1764480000000, "abc")
    with pytest.raises(InputError):
        decode_cursor(cursor, "name")  # another sort: its key is of another kind
    named = encode_cursor("name", ("db down", "abc"))
    assert decode_cursor(named, "name") == ("db down", "abc")


@pytest.mark.parametrize("cursor", ["", "!!", "bnVsbA", "WzFd", "WyJuYW1lIiwxLCJhIl0"])
def test_anything_else_is_a_bad_cursor(cursor: str) -> None:
    with pytest.raises(InputError) as caught:
        decode_cursor(cursor, "name")
    assert caught.value.reason == "bad_cursor"
    assert caught.value.field == "cursor"
