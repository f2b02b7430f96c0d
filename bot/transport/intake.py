"""The edge of the three callbacks: a request body becomes the fields Mattermost sent, or a refusal.

One reader per content type, each bounded before it does any work: the size is capped
(Content-Length first, then while reading), only UTF-8 is decoded, JSON nesting is measured
in linear time without recursion before ``json.loads`` sees the text, and keys Mattermost
sets once may appear once. Whatever does not look like what Mattermost sends raises
:class:`Malformed` with a short ``reason`` (a metric label); the HTTP layer answers it with
400 (413 for a body over the cap) and nothing else runs.

What Mattermost 5.36 sends (``app/command.go`` ``DoCommandRequest``,
``app/integration_action.go`` ``DoActionRequest``; recorded in
``tests/fixtures/mattermost/hook_*.json``): a slash command as
``application/x-www-form-urlencoded`` built by Go's ``url.Values.Encode`` (UTF-8,
percent-encoded), every field set once except the mention lists; button clicks and dialog
submissions as ``application/json`` from ``json.Marshal`` (UTF-8, an object, no duplicate
keys, no NaN). Neither carries a charset parameter or a Content-Encoding.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn
from urllib.parse import unquote

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

MAX_BODY = 256 * 1024  # bytes; Mattermost's own requests are a few KiB
MAX_DEPTH = 32  # arrays/objects inside each other; Mattermost's payloads nest 3 deep

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
_UTF8 = frozenset({"utf-8", "utf8"})

# Mattermost adds one pair per mentioned user or channel (model/mention_map.go,
# mentionsToURLValues uses url.Values.Add): the only keys that may repeat in a command form.
REPEATABLE_FORM_KEYS = frozenset(
    {"user_mentions", "user_mentions_ids", "channel_mentions", "channel_mentions_ids"}
)

# A JSON string, closing quote optional so that an unterminated one ends the scan in a
# single pass (no quadratic retries); possessive, so no backtracking.
_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"?', re.DOTALL)
_AS_PARENS = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))  # UTF-8 keeps these bytes ASCII-only


class Malformed(Exception):
    """A callback that is not what Mattermost sends.

    ``reason`` is one of: ``content_type``, ``charset``, ``content_encoding``, ``too_large``
    (status 413), ``unreadable``, ``encoding`` (not UTF-8), ``syntax``, ``nesting``,
    ``not_object``, ``duplicate``, ``fields`` (missing or invalid fields).
    """

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


async def read_form(request: web.Request) -> dict[str, str]:
    """The fields of a form-encoded slash command, each at most once (mention lists dropped).

    Raises :class:`Malformed`.
    """
    return parse_form(await _read(request, FORM))


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The JSON object of a button click or dialog submission. Raises :class:`Malformed`."""
    return parse_json_object(await _read(request, JSON))


def parse_form(body: bytes) -> dict[str, str]:
    """``a=1&b=2`` (UTF-8, percent-encoded) -> ``{"a": "1", "b": "2"}``.

    A key other than :data:`REPEATABLE_FORM_KEYS` given twice is ``duplicate``: the token
    check and the model must read the same value. The repeatable keys are dropped (warroom
    reads mentions from the text itself).
    """
    text = _utf8(body)
    try:
        pairs = _form_pairs(text)
    except UnicodeDecodeError:
        _refuse("encoding")  # a percent-escape that is not UTF-8
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in REPEATABLE_FORM_KEYS:
            continue
        if key in fields:
            _refuse("duplicate")
        fields[key] = value
    return fields


def _form_pairs(text: str) -> list[tuple[str, str]]:
    """``parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")``, pair
    for pair (tests/transport/test_intake.py compares them), at about half its cost: the
    fields Mattermost sends are mostly ids, with nothing to decode. Raises
    UnicodeDecodeError for a percent-escape that is not UTF-8."""
    pairs = []
    for part in text.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((_form_text(key), _form_text(value)))
    return pairs


def _form_text(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    return unquote(text, "utf-8", "strict") if "%" in text else text


def parse_json_object(body: bytes) -> dict[str, Any]:
    """A JSON object from UTF-8 bytes, nested at most :data:`MAX_DEPTH` deep, no repeated keys."""
    text = _utf8(body)
    if nests_deeper_than(text, MAX_DEPTH):
        _refuse("nesting")
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except _DuplicateKey:
        _refuse("duplicate")
    except ValueError:  # JSONDecodeError, and ints longer than Python converts
        _refuse("syntax")
    if not isinstance(data, dict):
        _refuse("not_object")
    return data


def nests_deeper_than(text: str, limit: int) -> bool:
    """Whether arrays and objects in JSON ``text`` nest more than ``limit`` deep.

    Brackets inside strings do not count. Linear in the text (``limit`` passes of C-level
    byte operations at most), no recursion, whatever the input. Exact for valid JSON; for
    invalid text it errs on the deep side, never below the depth a recursive parser reaches
    before it fails. Text with at most ``limit`` open brackets is answered by counting them.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = (
        _STRING.sub("", text).encode("utf-8", "surrogatepass").translate(_AS_PARENS, _NOT_BRACKET)
    )
    passes = 0
    while b"()" in brackets:  # each pass removes the innermost level
        if passes == limit:
            return True
        brackets = brackets.replace(b"()", b"")
        passes += 1
    # What is left is ")" * a + "(" * b: unmatched brackets, b - a of them still open at the end.
    return passes + max(0, brackets.count(b"(") - brackets.count(b")")) > limit


# ---- helpers ---------------------------------------------------------------------------------
async def _read(request: web.Request, media_type: str) -> bytes:
    """The body, read (and so drained) before any refusal but one over the size cap."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        _refuse("too_large", 413)
    body: bytes | None = None
    try:
        body = await request.read()  # aiohttp stops at client_max_size (MAX_BODY)
    except web.HTTPRequestEntityTooLarge:
        _refuse("too_large", 413)
    except (HttpProcessingError, web.RequestPayloadError, ConnectionError):
        pass  # a broken chunked or compressed body, or the client went away mid-body
    _check_headers(request, media_type)
    if body is None:
        _refuse("unreadable")
    return body


def _check_headers(request: web.Request, media_type: str) -> None:
    """``Content-Type`` exactly ``media_type`` (a UTF-8 charset allowed); no Content-Encoding."""
    if request.headers.getall("Content-Encoding", []) not in ([], ["identity"]):
        _refuse("content_encoding")
    values = request.headers.getall("Content-Type", [])
    if len(values) != 1:
        _refuse("content_type")
    mime, *params = values[0].split(";")
    if mime.strip().lower() != media_type:
        _refuse("content_type")
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() != "charset" or len(params) > 1:
            _refuse("content_type")
        if value.strip().strip('"').lower() not in _UTF8:
            _refuse("charset")


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        _refuse("encoding")


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _DuplicateKey
    return obj


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _refuse(reason: str, status: int = 400) -> NoReturn:
    raise Malformed(reason, status)
