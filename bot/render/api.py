"""The words of the REST API's errors (``{"error": {"id", "message", "field"}}``).

Refusals of the services are worded as in chat (:func:`bot.render.messages.error_text`); what
only the API can get wrong (a missing token, a body that is not JSON, an unknown field, a
cursor from elsewhere) is worded here.
"""

from __future__ import annotations

_TEXTS: dict[str, str] = {
    "unauthenticated": (
        "Send a Mattermost personal access token or session token as"
        " `Authorization: Bearer <token>`."
    ),
    "not_json": "The request body must be a JSON object (UTF-8, each key once, nested at"
    " most 32 deep).",
    "too_large": "The request body is too large.",
    "route_not_found": "There is no such API resource.",
    "method_not_allowed": "That method is not allowed on this resource.",
    "bad_cursor": "That cursor is not one this API gave out; start from the first page.",
    "bad_query": "That query parameter is not valid.",
    "team_required": "Name the team: add `team=<team id>`.",
    "unavailable": "Mattermost did not answer in time; try again in a moment.",
    "store_unavailable": "warroom's database is not available right now; nothing was changed. "
    "Try again in a moment.",
    "unexpected": "Something went wrong on warroom's side. It has been logged.",
    "pending": "Mattermost did not answer in time; what warroom recorded stands and it"
    " finishes the rest by itself. Do not send it again.",
    "unknown_user": "There is no such user.",
}

# pydantic's error types, said for one field of a body or query.
_INVALID: dict[str, str] = {
    "missing": "This field is required.",
    "repeated": "This field is given more than once.",
    "extra_forbidden": "This field is not known here.",
    "string_type": "This field must be a string.",
    "int_type": "This field must be a whole number.",
    "int_parsing": "This field must be a whole number.",
    "bool_type": "This field must be true or false.",
    "bool_parsing": "This field must be true or false.",
    "enum": "This field must be one of the listed values.",
    "literal_error": "This field must be one of the listed values.",
    "string_pattern_mismatch": "This field is not an id (26 lowercase letters and digits).",
    "string_too_long": "This field is too long.",
    "string_too_short": "This field is too short.",
    "greater_than_equal": "This number is too small.",
    "less_than_equal": "This number is too large.",
}


def api_error(key: str) -> str:
    """The sentence for an API-only error ``key`` (one of the keys above)."""
    return _TEXTS.get(key, _TEXTS["unexpected"])


def invalid_field(kind: str) -> str:
    """The sentence for a field pydantic refused with error type ``kind``."""
    return _INVALID.get(kind, "This field is not valid.")
