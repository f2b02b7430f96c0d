"""Buttons whose context is a signed token, pointing at warroom's action endpoint."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.clock import Clock
from bot.domain.signing import Signer, without_expiry

# Buttons on persistent posts (card, checklist) live as long as an incident may.
PERSISTENT_TTL_MS = 365 * 24 * 3600 * 1000
# Expiries end on a whole day, so a button rendered again the same day carries the same token
# and a checklist page whose content did not change need not be sent again.
EXPIRY_STEP_MS = 24 * 3600 * 1000


def post_digest(message: str, props: dict[str, Any]) -> str:
    """A digest (64 hex characters) of a post's content as a reader sees and uses it.

    Every button's signed context counts without its expiry and MAC
    (:func:`bot.domain.signing.without_expiry`): a post rendered again later from the
    same state has the same digest, though its tokens expire later. Implements
    :class:`bot.services.ports.PostDigest`.
    """
    body = json.dumps([message, _comparable(props)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _comparable(value: Any) -> Any:
    """``value`` with every ``{"token": <str>}`` inside a ``context`` made comparable."""
    if isinstance(value, dict):
        out = {k: _comparable(v) for k, v in value.items()}
        context = value.get("context")
        if isinstance(context, dict) and isinstance(context.get("token"), str):
            out["context"] = {**context, "token": without_expiry(context["token"])}
        return out
    if isinstance(value, list | tuple):
        return [_comparable(v) for v in value]
    return value


class Buttons:
    def __init__(self, signer: Signer, url: str, clock: Clock) -> None:
        self._signer = signer
        self._url = url
        self._clock = clock

    def _expiry(self, ttl_ms: int | None) -> int:
        """``now + ttl_ms`` for a short-lived button; else a year on, rounded up to a day."""
        now = self._clock.now_ms()
        if ttl_ms:
            return now + ttl_ms
        return -(-(now + PERSISTENT_TTL_MS) // EXPIRY_STEP_MS) * EXPIRY_STEP_MS

    def _context(
        self,
        action: str,
        incident_id: str,
        params: dict[str, Any] | None,
        user_id: str,
        ttl_ms: int | None = None,
    ) -> str:
        return self._signer.sign(
            action,
            expires_at=self._expiry(ttl_ms),
            incident_id=incident_id,
            user_id=user_id,
            params=params,
        )

    def button(
        self,
        *,
        action_id: str,
        label: str,
        action: str,
        incident_id: str,
        style: str = "default",
        params: dict[str, Any] | None = None,
        user_id: str = "",
        ttl_ms: int | None = None,
    ) -> dict[str, Any]:
        """A button; its signed context expires after ``ttl_ms`` (default: a year)."""
        if not action_id.isalnum() or not action_id.isascii():
            raise ValueError(f"action id must be letters and digits only: {action_id!r}")
        return {
            "id": action_id,
            "name": label,
            "type": "button",
            "style": style,
            "integration": {
                "url": self._url,
                "context": {"token": self._context(action, incident_id, params, user_id, ttl_ms)},
            },
        }

    def user_select(
        self,
        *,
        action_id: str,
        label: str,
        action: str,
        incident_id: str,
        params: dict[str, Any] | None = None,
        user_id: str = "",
    ) -> dict[str, Any]:
        if not action_id.isalnum() or not action_id.isascii():
            raise ValueError(f"action id must be letters and digits only: {action_id!r}")
        return {
            "id": action_id,
            "name": label,
            "type": "select",
            "data_source": "users",
            "integration": {
                "url": self._url,
                "context": {"token": self._context(action, incident_id, params, user_id)},
            },
        }
