"""POSTs webhook deliveries over HTTP (implements services.ports.WebhookSender).

The target's name was checked when playbooks.yaml was loaded; where it leads is checked
here, at every delivery: the name is resolved and warroom connects only to the addresses
that pass :func:`bot.domain.webhooks.address_allowed` (the connection is pinned to them, so
a name re-pointed between the check and the connection cannot slip through). A target with
no such address raises :class:`WebhookRefused` without connecting.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.domain.webhooks import address_allowed
from bot.services.ports import WebhookRefused, WebhookUnreachable

TIMEOUT_S = 10.0


def system_resolver() -> AbstractResolver:
    """The resolver warroom uses for webhook hosts (tests replace this factory)."""
    return aiohttp.ThreadedResolver()


class PinnedResolver(AbstractResolver):
    """Resolves with ``inner`` and hands aiohttp only the addresses ``allowed`` accepts;
    raises :class:`WebhookRefused` when none is left."""

    def __init__(self, inner: AbstractResolver, allowed: Callable[[str], bool]) -> None:
        self._inner = inner
        self._allowed = allowed

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        kept = [r for r in found if self._allowed(r["host"])]
        if not kept:
            shown = ", ".join(sorted({r["host"] for r in found})) or "nothing"
            raise WebhookRefused(f"refused: {host} resolves to {shown}, not an allowed address")
        return kept

    async def close(self) -> None:
        await self._inner.close()


class HttpWebhookSender:
    """One aiohttp session, opened on first use; redirects are not followed (a redirect
    could lead past the allowed hosts); names are resolved anew for each connection (no DNS
    cache, no kept-alive connection) through a :class:`PinnedResolver`. ``allowed_hosts``:
    ``WARROOM_WEBHOOK_ALLOWED_HOSTS`` (lowercase names, addresses or CIDR blocks)."""

    def __init__(
        self, timeout_s: float = TIMEOUT_S, allowed_hosts: frozenset[str] = frozenset()
    ) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._hosts = allowed_hosts
        self._session: aiohttp.ClientSession | None = None

    def _allowed(self, address: str) -> bool:
        return address_allowed(address, self._hosts)

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        host = (urlsplit(url).hostname or "").lower()
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass  # a name: the resolver checks where it leads
        else:  # aiohttp connects to a literal address without resolving: check it here
            if not self._allowed(host):
                raise WebhookRefused(f"refused: {host} is not an allowed address")
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=PinnedResolver(system_resolver(), self._allowed),
                use_dns_cache=False,
                force_close=True,  # each delivery resolves and checks anew
            )
            self._session = aiohttp.ClientSession(timeout=self._timeout, connector=connector)
        try:
            async with self._session.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as answer:
                await answer.read()
                return answer.status
        except TimeoutError as exc:
            raise WebhookUnreachable("timed out") from exc
        except aiohttp.ClientError as exc:
            raise WebhookUnreachable(type(exc).__name__) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
