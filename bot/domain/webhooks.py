"""Outgoing webhooks: which timeline events are sent, how a delivery is signed, when it is
retried, and which hosts may receive one. Pure: no I/O, no clock reads."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import random
from enum import StrEnum
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from bot.domain.models import EventKind, Webhook

__all__ = ["EVENT_TYPES", "TYPES", "Delivery", "DeliveryState", "Webhook", "event_type"]

# The event types a playbook may subscribe to, and the timeline event each one follows.
EVENT_TYPES: dict[EventKind, str] = {
    EventKind.CREATED: "started",
    EventKind.STATUS_UPDATED: "status_updated",
    EventKind.COMMANDER_CHANGED: "commander_changed",
    EventKind.STAGE_CHANGED: "stage_changed",
    EventKind.ENDED: "ended",
    EventKind.RESTARTED: "restarted",
}
TYPES = frozenset(EVENT_TYPES.values())

RETRY_FOR_MS = 25 * 3600 * 1000  # retried for at least 24 hours (25, to be safe)
FIRST_DELAY_MS = 5_000
MAX_DELAY_MS = 3600 * 1000
MAX_ATTEMPTS = 64  # far beyond what 25 hours of backoff reaches; a guard, not the limit


class DeliveryState(StrEnum):
    PENDING = "pending"  # to be sent (again) at ``next_at``
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # given up after 25 hours of retries
    DISABLED = "disabled"  # the endpoint answered 410 Gone (now or for an earlier event)


class Delivery(BaseModel):
    """One event for one webhook endpoint: the row of the outbox and of the delivery log.

    Times in ms since the epoch; ``body`` is the exact JSON sent on every attempt.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    incident_id: str
    playbook_id: str
    url: str
    secret_env: str
    event_type: str
    body: str
    created_at: int
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    next_at: int
    last_status: int | None = None
    last_error: str = ""
    settled_at: int | None = None


def event_type(kind: EventKind) -> str | None:
    """The webhook event type of a timeline event, None when it is not one that is sent."""
    return EVENT_TYPES.get(kind)


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """``Warroom-Signature``: ``sha256=`` and the hex HMAC-SHA256, keyed by ``secret``, of
    the ``Warroom-Timestamp`` value (unix seconds), a ``.`` and the raw body."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def next_delay_ms(attempts: int, rng: random.Random) -> int:
    """The wait before attempt ``attempts + 1``: exponential from 5 s, capped at an hour,
    with full jitter over its upper half (so a crowd of retries spreads out)."""
    ceiling = min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** min(attempts, 30))
    return int(ceiling // 2 + rng.randrange(ceiling // 2 + 1))


def gives_up(created_at: int, now: int, attempts: int) -> bool:
    """Whether a delivery that keeps failing is abandoned (after 25 h of retries)."""
    return now - created_at >= RETRY_FOR_MS or attempts >= MAX_ATTEMPTS


def host_allowed(url: str, allowed: frozenset[str]) -> bool:
    """Only loopback (``localhost``, 127.0.0.0/8, ::1) and the hosts an administrator allows
    (``WARROOM_WEBHOOK_ALLOWED_HOSTS``, lowercase host names or addresses) may be targets,
    so a playbook cannot make warroom call internal services."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost" or host in allowed:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
