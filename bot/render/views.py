"""Data the renderers need besides the incident: usernames, the clock, buttons."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class ButtonMaker(Protocol):
    """Builds a Mattermost action whose context is a signed token, valid ``ttl_ms`` (default:
    a year; see bot/interactions/buttons.py)."""

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
    ) -> dict[str, Any]: ...

    def user_select(
        self,
        *,
        action_id: str,
        label: str,
        action: str,
        incident_id: str,
        params: dict[str, Any] | None = None,
        user_id: str = "",
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Names:
    """user id -> username, for everyone a view mentions. Unknown ids render as ``unknown``;
    ``inactive`` ids (deactivated in Mattermost) are marked where a view names them."""

    by_id: Mapping[str, str] = field(default_factory=dict)
    inactive: frozenset[str] = frozenset()

    def __call__(self, user_id: str) -> str:
        if not user_id:
            return ""
        return self.by_id.get(user_id, "unknown-user")

    def at(self, user_id: str) -> str:
        name = self(user_id)
        if not name:
            return "nobody"
        return f"@{name} (deactivated)" if user_id in self.inactive else f"@{name}"
