"""What ``/incident webhooks [~channel]`` shows an administrator: deliveries and failures."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.models import Incident
from bot.domain.webhooks import Delivery, DeliveryState
from bot.render.format import cell, code, markdown_line, timestamp
from bot.render.messages import field_error

HELP = (
    "Webhook deliveries of this (or another) incident and their failures; "
    "`enable <url>` sends again to an endpoint disabled by a 410 (admins)."
)
SHOWN = 20

_STATE = {
    DeliveryState.PENDING: "retrying",
    DeliveryState.DELIVERED: "delivered",
    DeliveryState.FAILED: "failed (gave up)",
    DeliveryState.DISABLED: "endpoint disabled (410)",
    DeliveryState.REFUSED: "refused (address not allowed)",
}
_FAILING = (DeliveryState.FAILED, DeliveryState.DISABLED, DeliveryState.REFUSED)


def admins_only() -> str:
    return field_error("webhooks_admins_only")


def enable_admins_only() -> str:
    return field_error("webhooks_enable_admins_only")


def enable_usage() -> str:
    return "Say which endpoint: `/incident webhooks enable <url>`."


def enabled(url: str, endpoints: int) -> str:
    """The answer to ``/incident webhooks enable <url>``: re-enabled, or it was not disabled."""
    if not endpoints:
        return f"{code(url)} is not disabled: nothing to enable."
    where = "1 playbook" if endpoints == 1 else f"{endpoints} playbooks"
    return (
        f"Webhook endpoint {code(url)} re-enabled (in {where}): new events are sent to it again."
        " Deliveries it refused with 410 are not resent."
    )


def deliveries(incident: Incident, rows: Sequence[Delivery]) -> str:
    """A table of the newest :data:`SHOWN` deliveries, newest first, with the last error."""
    title = f"#### Webhook deliveries of {markdown_line(incident.name)}"
    if not rows:
        return f"{title}\nNo webhook deliveries: its playbook has no webhooks for these events."
    failing = sum(1 for d in rows if d.state in _FAILING)
    retrying = sum(1 for d in rows if d.state is DeliveryState.PENDING and d.attempts)
    lines = [
        title,
        f"{len(rows)} shown · {failing} failed · {retrying} retrying",
        "",
        "| Event | Endpoint | State | Attempts | Last answer | Event id |",
        "|---|---|---|---|---|---|",
    ]
    for d in rows[:SHOWN]:
        answer = d.last_error or (str(d.last_status) if d.last_status is not None else "—")
        lines.append(
            f"| {d.event_type} {timestamp(d.created_at)} | {cell(d.url)} | {_STATE[d.state]}"
            f" | {d.attempts} | {cell(answer)} | {code(d.id)} |"
        )
    return "\n".join(lines)
