"""The callback readers: exactly what Mattermost sends is read; anything else is Malformed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commands.router import CommandRequest
from bot.interactions.router import ActionRequest, DialogSubmission
from bot.transport.intake import (
    MAX_DEPTH,
    Malformed,
    _form_pairs,
    nests_deeper_than,
    parse_form,
    parse_json_object,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mattermost"


def recorded(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())["body"]
    return body


def reason(parse: Any, body: bytes) -> str:
    with pytest.raises(Malformed) as caught:
        parse(body)
    return caught.value.reason


# ---- what Mattermost sends is read ----------------------------------------------------------
def test_what_mattermost_sends_is_read_unchanged() -> None:
    """The recorded 5.36 requests parse into the callback models as they are."""
    form = recorded("hook_slash_command_request")
    # Go's url.Values.Encode: sorted keys, mention lists as repeated keys (several mentions)
    pairs = [*sorted(form.items()), ("user_mentions", "bob"), ("user_mentions", "carol")]
    pairs += [("user_mentions_ids", "b" * 26), ("user_mentions_ids", "c" * 26)]
    fields = parse_form(urlencode(pairs).encode())
    assert fields == form
    assert CommandRequest.model_validate(fields).text == "start  Disk full "
    models: list[tuple[str, type[ActionRequest] | type[DialogSubmission]]] = [
        ("hook_button_action_request", ActionRequest),
        ("hook_select_action_request", ActionRequest),
        ("hook_dialog_submission", DialogSubmission),
        ("hook_dialog_cancelled", DialogSubmission),
    ]
    for name, model in models:
        body = recorded(name)
        assert parse_json_object(json.dumps(body).encode()) == body
        assert model.model_validate(body).user_id == body["user_id"]


def test_utf8_text_and_nesting_up_to_the_limit_are_read() -> None:
    assert parse_form(b"text=caf%C3%A9+%E2%9C%93&x=%zz") == {"text": "café ✓", "x": "%zz"}
    assert parse_form("text=café".encode()) == {"text": "café"}
    nested = '{"a": ' * (MAX_DEPTH - 1) + "[1]" + "}" * (MAX_DEPTH - 1)
    assert parse_json_object(nested.encode())["a"]
    brackets_in_strings = json.dumps({"text": "[[[[{{{{" * 100, "k[": ["]]]"]})
    assert parse_json_object(brackets_in_strings.encode())["k["] == ["]]]"]


# ---- one reason per kind of malformed body --------------------------------------------------
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"a":' * 1000 + b"1" + b"}" * 1000, "nesting"),
        (b"[" * 1000 + b"]" * 1000, "nesting"),
        (b"[" * 100_000, "nesting"),  # never closed: a recursive parser would still descend
        (b'{"user_id": "\xff"}', "encoding"),
        ('{"user_id": "é"}'.encode("latin-1"), "encoding"),
        ('{"a": 1}'.encode("utf-16"), "encoding"),
        (b"{not json", "syntax"),
        (b"", "syntax"),
        (b'{"a": NaN}', "syntax"),
        (b'{"a": ' + b"1" * 5000 + b"}", "syntax"),  # more digits than Python converts
        (b'\xef\xbb\xbf{"a": 1}', "syntax"),  # a byte order mark
        (b"[1, 2]", "not_object"),
        (b'"text"', "not_object"),
        (b"null", "not_object"),
        (b'{"user_id": "a", "user_id": "b"}', "duplicate"),
        (b'{"context": {"token": "a", "token": "b"}}', "duplicate"),
    ],
)
def test_malformed_json_is_refused_with_its_reason(body: bytes, expected: str) -> None:
    assert reason(parse_json_object, body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"token=a&text=\xff", "encoding"),
        (b"token=a&text=%FF", "encoding"),  # an escape that is not UTF-8
        ("token=a&text=é".encode("latin-1"), "encoding"),
        (b"token=a&team_id=x&team_id=y", "duplicate"),
        (b"token=a&token=b", "duplicate"),
    ],
)
def test_malformed_forms_are_refused_with_their_reason(body: bytes, expected: str) -> None:
    assert reason(parse_form, body) == expected


# ---- the nesting measure --------------------------------------------------------------------
def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _scanned_depth(text: str) -> int:
    """What a recursive JSON parser reaches at most: open brackets outside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


_TRICKY = st.text(alphabet='[]{}"\\x', max_size=40)
json_values = st.recursive(
    st.none() | st.integers() | _TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY, inner, max_size=3),
    max_leaves=60,
)


@given(json_values, st.integers(min_value=0, max_value=8))
def test_nesting_is_measured_exactly_for_json(value: Any, limit: int) -> None:
    assert nests_deeper_than(json.dumps(value), limit) == (_depth(value) > limit)


@given(st.text(alphabet='[]{}"\\x,:', max_size=200), st.integers(min_value=0, max_value=8))
def test_nesting_is_never_underestimated_for_any_text(text: str, limit: int) -> None:
    if _scanned_depth(text) > limit:
        assert nests_deeper_than(text, limit)


FORM_PARTS = st.sampled_from([*"ab=&+%;é ", "%2", "%C3%A9", "%FF", "%zz", "%26"])


@given(st.lists(FORM_PARTS, max_size=12).map("".join))
def test_a_form_is_split_and_decoded_as_the_standard_library_does_it(text: str) -> None:
    """Rule: warroom's own form splitting (cheaper per command) gives what
    ``urllib.parse.parse_qsl`` gives, pair for pair, and fails where it fails."""
    try:
        expected: object = parse_qsl(
            text, keep_blank_values=True, encoding="utf-8", errors="strict"
        )
    except UnicodeDecodeError:
        expected = UnicodeDecodeError
    try:
        got: object = _form_pairs(text)
    except UnicodeDecodeError:
        got = UnicodeDecodeError
    assert got == expected
