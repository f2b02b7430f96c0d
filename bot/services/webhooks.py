"""Outgoing webhooks: an outbox written with the change, a worker that delivers it.

1. When a change records timeline events (:meth:`IncidentService.record_events`), each event
   a playbook's webhook subscribes to becomes a *delivery* row, in that same transaction: the
   change and its deliveries are saved together or not at all, so a kill -9 loses neither.
   The body (``id``, ``type``, ``occurred_at``, the incident as the API shows it) is made
   then, once: every attempt sends the same bytes.
2. A background worker (:meth:`Webhooks.run`) sends due deliveries, signed (HMAC-SHA256 of
   the timestamp and the body, bot/domain/webhooks.py). 2xx: delivered. 410 Gone: the
   endpoint is disabled. Anything else, or no answer: retried with exponential backoff and
   jitter, for 25 hours, then failed. A target whose name resolves only to addresses it may
   not reach (private, link-local, metadata, not listed) is refused at once, not retried.
   A delivery whose attempt was cut by a kill is sent
   again: receivers drop repeats by ``Warroom-Event-Id``.
3. Chat never waits for it: recording is a row in a transaction already open; sending is the
   worker's, woken after the change.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.clock import Clock
from bot.domain.ids import new_id
from bot.domain.models import Incident, Playbook, TimelineEvent
from bot.domain.webhooks import (
    Delivery,
    DeliveryState,
    event_type,
    gives_up,
    host_allowed,
    next_delay_ms,
    signature,
)
from bot.log import get_logger
from bot.services.ports import (
    Timer,
    Tx,
    WebhookRefused,
    WebhookSender,
    WebhookStore,
    WebhookUnreachable,
    sleep_until_or_woken,
)

log = get_logger(__name__)

BATCH = 16  # deliveries sent at once
PAUSE_MS = 5_000  # after a failure of the worker itself
Render = Callable[[Incident], Awaitable[dict[str, Any]]]
PlaybookOf = Callable[[str], Awaitable[Playbook | None]]


def iso(ms: int) -> str:
    """``ms`` since the epoch as an RFC 3339 UTC time with milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


class Webhooks:
    """The outbox (:meth:`record`) and its delivery worker (:meth:`run`)."""

    def __init__(
        self,
        *,
        store: WebhookStore,
        playbook: PlaybookOf,
        sender: WebhookSender,
        clock: Clock,
        timer: Timer,
        allowed_hosts: frozenset[str],
        environ: Mapping[str, str],
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self._playbook = playbook
        self._sender = sender
        self._clock = clock
        self._timer = timer
        self._hosts = allowed_hosts
        self._environ = environ
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        # The incident as the API shows it (set by the composition root: the API's view).
        self.render: Render | None = None
        self.delivered = 0

    # ---- the outbox ---------------------------------------------------------------------

    async def record(self, tx: Tx, incident: Incident, events: list[TimelineEvent]) -> None:
        """Record a delivery for each event each subscribed, enabled webhook wants (in ``tx``)."""
        wanted = [(e, t) for e in events if (t := event_type(e.kind)) is not None]
        if not wanted or not incident.playbook_id:
            return
        playbook = await self._playbook(incident.playbook_id)
        if playbook is None or not playbook.webhooks:
            return
        shown: dict[str, Any] | None = None
        for event, kind in wanted:
            for hook in playbook.webhooks:
                if kind not in hook.events:
                    continue
                if await self.store.is_disabled(playbook.id, hook.url):
                    continue
                if shown is None:
                    shown = await self.render(incident) if self.render else {"id": incident.id}
                event_id = new_id()
                body = {"id": event_id, "type": kind, "occurred_at": iso(event.at)}
                await self.store.add(
                    tx,
                    Delivery(
                        id=event_id,
                        incident_id=incident.id,
                        playbook_id=playbook.id,
                        url=hook.url,
                        secret_env=hook.secret_env,
                        event_type=kind,
                        body=json.dumps({**body, "incident": shown}, separators=(",", ":")),
                        created_at=self._clock.now_ms(),
                        next_at=self._clock.now_ms(),
                    ),
                )
        if shown is not None:
            # After this transaction commits (the worker's reads wait for it): send.
            asyncio.get_running_loop().call_soon(self._wake.set)

    async def enable(self, actor_id: str, url: str) -> int:
        """Send to ``url`` again after it answered 410 (an admin's explicit decision; the
        caller checked the rights). New events are delivered; deliveries already marked
        disabled stay so (the receiver had said it is gone). How many playbooks' endpoints
        were re-enabled, 0 when ``url`` was not disabled."""
        lifted = await self.store.enable(url.strip())
        log.info("webhook_enabled", url=url, by=actor_id, endpoints=lifted)
        return lifted

    # ---- the worker ---------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver what is due, then sleep until the next is due or a change wakes it.

        A failure to read the outbox (the database busy or failing) is logged and the worker
        tries again after :data:`PAUSE_MS`: it never stops while warroom runs.
        """
        while True:
            self._wake.clear()
            try:
                due = await self.store.due(self._clock.now_ms(), BATCH)
                if due:
                    await asyncio.gather(*(self._attempt_safely(d) for d in due))
                    continue
                until = await self.store.next_due()
            except Exception:
                log.exception("webhook_worker_failed")
                until = self._clock.now_ms() + PAUSE_MS
            await self._sleep(until)

    async def _sleep(self, until: int | None) -> None:
        await sleep_until_or_woken(self._timer, self._wake, until)

    async def _attempt_safely(self, delivery: Delivery) -> None:
        try:
            await self.attempt(delivery)
        except Exception:  # one bad row must not stop the others; it stays pending
            log.exception("webhook_attempt_crashed", delivery_id=delivery.id)
            await self.store.retry(
                delivery.id,
                status=None,
                error="internal error",
                next_at=self._clock.now_ms() + next_delay_ms(delivery.attempts, self._rng),
            )

    async def attempt(self, d: Delivery) -> DeliveryState:
        """Send ``d`` once and record the outcome; the state it is left in."""
        now = self._clock.now_ms()
        if not host_allowed(d.url, self._hosts):  # the allowed hosts changed since
            await self._settle(d, DeliveryState.FAILED, None, "target host not allowed", now)
            return DeliveryState.FAILED
        secret = self._environ.get(d.secret_env, "")
        status: int | None = None
        if not secret:
            error = f"{d.secret_env} is not set"
        else:
            body = d.body.encode()
            stamp = now // 1000
            headers = {
                "Content-Type": "application/json",
                "Warroom-Event-Id": d.id,
                "Warroom-Timestamp": str(stamp),
                "Warroom-Signature": signature(secret.encode(), stamp, body),
            }
            try:
                status = await self._sender.post(d.url, body, headers)
                error = "" if 200 <= status < 300 else f"HTTP {status}"
            except WebhookRefused as exc:  # where the name leads is not allowed: never sent
                log.error("webhook_refused", delivery_id=d.id, url=d.url, error=str(exc))
                await self._settle(d, DeliveryState.REFUSED, None, str(exc), self._clock.now_ms())
                return DeliveryState.REFUSED
            except WebhookUnreachable as exc:
                error = str(exc) or "no answer"
        now = self._clock.now_ms()
        if status is not None and 200 <= status < 300:
            self.delivered += 1
            await self._settle(d, DeliveryState.DELIVERED, status, "", now)
            return DeliveryState.DELIVERED
        if status == 410:
            await self.store.disable(d.playbook_id, d.url, now)
            log.warning("webhook_disabled", url=d.url, playbook_id=d.playbook_id)
            await self._settle(d, DeliveryState.DISABLED, status, "410 Gone", now)
            return DeliveryState.DISABLED
        if gives_up(d.created_at, now, d.attempts + 1):
            log.error("webhook_failed", delivery_id=d.id, url=d.url, error=error)
            await self._settle(d, DeliveryState.FAILED, status, error, now)
            return DeliveryState.FAILED
        wait = next_delay_ms(d.attempts, self._rng)
        log.info("webhook_retry", delivery_id=d.id, status=status, error=error, wait_ms=wait)
        await self.store.retry(d.id, status=status, error=error, next_at=now + wait)
        return DeliveryState.PENDING

    async def _settle(
        self, d: Delivery, state: DeliveryState, status: int | None, error: str, now: int
    ) -> None:
        await self.store.settle(d.id, state=state, status=status, error=error, at=now)
