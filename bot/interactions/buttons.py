"""Buttons whose context is a signed token, pointing at warroom's action endpoint."""

from __future__ import annotations

from typing import Any

from bot.clock import Clock
from bot.interactions.signing import Signer

# Buttons on persistent posts (card, checklist) live as long as an incident may.
PERSISTENT_TTL_MS = 365 * 24 * 3600 * 1000
# Expiries end on a whole day, so a button rendered again the same day carries the same token
# and a checklist page whose content did not change need not be sent again.
EXPIRY_STEP_MS = 24 * 3600 * 1000


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
