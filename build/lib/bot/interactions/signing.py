"""Signed tokens for button contexts and dialog states.

A token is ``base64url(json payload) . base64url(HMAC-SHA256)``. The payload always carries
the action it is for and an expiry; it may bind an incident, a user and a one-shot nonce.
Verification happens before anything else reads the payload.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_TOKEN_LENGTH = 4096


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
        body = claims.model_dump_json(exclude_defaults=True).encode()
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def verify(self, token: object, *, action: str, user_id: str, now: int) -> Claims:
        claims = self.open(token, user_id=user_id, now=now)
        if claims.a != action:
            raise BadSignature("wrong action")
        return claims

    def open(self, token: object, *, user_id: str, now: int) -> Claims:
        """Verify signature, user binding and expiry; the caller routes on ``claims.a``."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
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
        if claims.u and claims.u != user_id:
            raise BadSignature("wrong user")
        if claims.x < now:
            raise BadSignature("expired")
        return claims
