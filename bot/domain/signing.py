"""Signed tokens for button contexts and dialog states.

A token's claims always carry the action it is for and an expiry; they may bind an
incident, a user, a one-shot nonce and a few parameters. Verification happens before
anything else reads the claims. Two wire forms, both verified:

- compact (what :meth:`Signer.sign` writes whenever the parameters are plain ids, numbers,
  booleans or null — every button does): ``2.<action>.<expiry base36>.<incident>.<user>.
  <nonce>.<params>.<mac>``, where params are ``key=<type><value>`` pairs joined by ``,``
  and mac is HMAC-SHA256 over the text before it, truncated to 128 bits, base64url. About
  90 characters for a task button, where the JSON form took about 165: Mattermost holds a
  post's props (every button context included) to 8,000 characters (see render/post_size).
- JSON (other parameters, and tokens issued before): ``base64url(json) . base64url(HMAC)``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_TOKEN_LENGTH = 4096
COMPACT = "2"
COMPACT_MAC_BYTES = 16  # 128 bits of HMAC-SHA256
_COMPACT_DOMAIN = b"warroom-token-2:"
_PLAIN = re.compile(r"[A-Za-z0-9_-]*")
_KEY = re.compile(r"[a-z]{1,16}")
_INT = re.compile(r"-?[0-9]{1,19}")


class BadSignature(Exception):
    """The token is malformed, forged, for another action or user, or expired."""


class Claims(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    a: str  # action
    x: int  # expiry, ms since epoch
    i: str = ""  # incident id
    u: str = ""  # user id the token is bound to
    n: str = ""  # nonce for one-shot tokens
    p: dict[str, Any] = Field(default_factory=dict)  # action parameters


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def _compact_value(value: Any) -> str | None:
    """``s<id>``, ``i<int>``, ``t``/``f``, ``n``; None when it has no compact form."""
    if value is None:
        return "n"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return f"i{value}" if _INT.fullmatch(str(value)) else None
    if isinstance(value, str) and _PLAIN.fullmatch(value):
        return "s" + value
    return None


def _compact_params(params: dict[str, Any]) -> str | None:
    parts = []
    for key, value in params.items():
        encoded = _compact_value(value)
        if encoded is None or not _KEY.fullmatch(key):
            return None
        parts.append(f"{key}={encoded}")
    return ",".join(parts)


def _parse_value(text: str) -> Any:
    kind, rest = text[:1], text[1:]
    if kind == "s" and _PLAIN.fullmatch(rest):
        return rest
    if kind == "i" and _INT.fullmatch(rest):
        return int(rest)
    if text in ("t", "f", "n"):
        return {"t": True, "f": False, "n": None}[text]
    raise ValueError("bad parameter")


def _parse_params(text: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for part in text.split(",") if text else ():
        key, sep, value = part.partition("=")
        if not sep or not _KEY.fullmatch(key) or key in params:
            raise ValueError("bad parameter")
        params[key] = _parse_value(value)
    return params


def without_expiry(token: str) -> str:
    """What ``token`` grants, without what changes with the time of signing alone.

    The expiry and the MAC are dropped (a compact token keeps action, incident, user, nonce
    and params; a JSON one its claims but ``x``), so two renders of the same button a day
    apart compare equal. Not a verification: never use the result to authorise anything.
    A string that is no token is returned as it is.
    """
    if token.startswith(COMPACT + ".") and token.count(".") == 7:
        parts = token.split(".")
        return ".".join((parts[1], *parts[3:7]))
    body_part, dot, _ = token.partition(".")
    if not dot:
        return token
    try:
        claims = json.loads(_unb64(body_part))
    except (ValueError, TypeError):
        return token
    if not isinstance(claims, dict):
        return token
    claims.pop("x", None)
    return json.dumps(claims, sort_keys=True, separators=(",", ":"))


class Signer:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("signing key must be at least 16 bytes")
        self._key = key

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()

    def sign(
        self,
        action: str,
        *,
        expires_at: int,
        incident_id: str = "",
        user_id: str = "",
        one_shot: bool = False,
        params: dict[str, Any] | None = None,
    ) -> str:
        claims = Claims(
            a=action,
            x=expires_at,
            i=incident_id,
            u=user_id,
            n=secrets.token_urlsafe(12) if one_shot else "",
            p=params or {},
        )
        compact = self._compact(claims)
        if compact is not None:
            return compact
        body = claims.model_dump_json(exclude_defaults=True).encode()
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def _compact_mac(self, body: str) -> str:
        return _b64(self._mac(_COMPACT_DOMAIN + body.encode())[:COMPACT_MAC_BYTES])

    def _compact(self, claims: Claims) -> str | None:
        params = _compact_params(claims.p)
        fields = (claims.a, claims.i, claims.u, claims.n)
        if params is None or claims.x < 0 or not all(_PLAIN.fullmatch(f) for f in fields):
            return None
        body = ".".join(
            (COMPACT, claims.a, _base36(claims.x), claims.i, claims.u, claims.n, params)
        )
        return f"{body}.{self._compact_mac(body)}"

    def _open_compact(self, token: str) -> Claims:
        body, _, mac = token.rpartition(".")
        if not hmac.compare_digest(mac.encode(), self._compact_mac(body).encode()):
            raise BadSignature("forged")
        _, action, expiry, incident, user, nonce, params = body.split(".")
        try:
            return Claims(
                a=action, x=int(expiry, 36), i=incident, u=user, n=nonce, p=_parse_params(params)
            )
        except (ValidationError, ValueError) as exc:
            raise BadSignature("malformed") from exc

    def verify(self, token: object, *, action: str, user_id: str, now: int) -> Claims:
        claims = self.open(token, user_id=user_id, now=now)
        if claims.a != action:
            raise BadSignature("wrong action")
        return claims

    def open(self, token: object, *, user_id: str, now: int) -> Claims:
        """Verify signature, user binding and expiry; the caller routes on ``claims.a``."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
            raise BadSignature("malformed")
        if token.startswith(COMPACT + ".") and token.count(".") == 7:
            return self._checked(self._open_compact(token), user_id=user_id, now=now)
        if token.count(".") != 1:
            raise BadSignature("malformed")
        body_part, mac_part = token.split(".")
        try:
            body = _unb64(body_part)
            mac = _unb64(mac_part)
        except (ValueError, TypeError) as exc:
            raise BadSignature("malformed") from exc
        if not hmac.compare_digest(mac, self._mac(body)):
            raise BadSignature("forged")
        try:
            claims = Claims.model_validate(json.loads(body))
        except (ValidationError, ValueError) as exc:
            raise BadSignature("malformed") from exc
        return self._checked(claims, user_id=user_id, now=now)

    @staticmethod
    def _checked(claims: Claims, *, user_id: str, now: int) -> Claims:
        if claims.u and claims.u != user_id:
            raise BadSignature("wrong user")
        if claims.x < now:
            raise BadSignature("expired")
        return claims
