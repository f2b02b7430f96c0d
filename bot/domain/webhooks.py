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
    REFUSED = "refused"  # the target resolved to an address it may not go to (not retried)


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


def _networks(allowed: frozenset[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The entries of ``allowed`` that are addresses or CIDR blocks, as networks."""
    nets = []
    for entry in allowed:
        try:
            nets.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            continue  # a host name
    return nets


def address_allowed(address: str, allowed: frozenset[str]) -> bool:
    """Whether warroom may connect to the IP ``address`` (a resolved webhook target).

    Loopback always; an address inside an entry of ``allowed`` (an address or a CIDR block
    of ``WARROOM_WEBHOOK_ALLOWED_HOSTS``) always; any other address only when it is
    globally routable: private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
    (169.254/16 with the cloud metadata address 169.254.169.254, fe80::/10), shared,
    reserved, multicast and unspecified addresses are refused unless listed. An allowed
    host *name* therefore cannot lead warroom to an internal service by resolving (or being
    re-pointed) there. A string that is not an address is refused.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    if ip.is_loopback:
        return True
    if any(ip.version == net.version and ip in net for net in _networks(allowed)):
        return True
    return ip.is_global and not ip.is_multicast


def host_allowed(url: str, allowed: frozenset[str]) -> bool:
    """Only loopback (``localhost``, 127.0.0.0/8, ::1) and the hosts an administrator allows
    (``WARROOM_WEBHOOK_ALLOWED_HOSTS``, lowercase host names, addresses or CIDR blocks) may
    be targets, so a playbook cannot make warroom call internal services. This checks the
    name; where a name leads is checked at delivery (:func:`address_allowed`)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost" or host in allowed:
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or any(
        ip.version == net.version and ip in net for net in _networks(allowed)
    )
