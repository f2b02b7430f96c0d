"""What ``warroom setup`` checks instead of guessing: the server's configuration, and
whether Mattermost can really reach ``WARROOM_PUBLIC_URL``.

Facts from the Mattermost 5.36 server source:

- ``GET /api/v4/config`` (api4/config.go) answers the whole configuration to a system admin.
- ``ServiceSettings.EnableBotAccountCreation`` off: creating a bot is refused (api4/bot.go,
  403 ``api.bot.create_disabled``); an existing bot keeps working.
- ``ServiceSettings.EnableCommands`` off: custom slash commands can be neither registered
  nor executed (app/command.go, 501 ``api.command.disabled.app_error``).
- ``ServiceSettings.EnableUserAccessTokens`` does not concern bots: their tokens are created
  and accepted either way (app/session.go).
- Integrations (slash commands, buttons, dialogs) are called through the untrusted HTTP
  client (services/httpservice): a host listed in ``AllowedUntrustedInternalConnections``
  (fields split on white space or commas) is always dialled; otherwise every address the
  name resolves to must be public, or lie in a CIDR of that list. Loopback, private and
  link-local addresses are reserved.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from bot.render import setup as texts

# services/httpservice/client.go: reserved ranges (RFC 6890).
RESERVED = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
]
Resolve = Callable[[str], Awaitable[list[str]]]


class ServiceSettings(BaseModel):
    """The part of ``ServiceSettings`` warroom depends on; a missing key takes the 5.36
    default (model/config.go SetDefaults)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    enable_bot_account_creation: bool = Field(False, alias="EnableBotAccountCreation")
    enable_commands: bool = Field(True, alias="EnableCommands")
    allowed_untrusted: str = Field("", alias="AllowedUntrustedInternalConnections")

    @property
    def allowed(self) -> list[str]:
        """The allow list as Mattermost splits it (white space or commas)."""
        return [f for f in re.split(r"[\s,]+", self.allowed_untrusted) if f]


def parse_config(data: Any) -> ServiceSettings:
    """``ServiceSettings`` of a ``GET /api/v4/config`` answer. Raises ``ValueError`` when
    the answer is not a configuration."""
    if not isinstance(data, dict) or not isinstance(data.get("ServiceSettings"), dict):
        raise ValueError("not a Mattermost configuration")
    return ServiceSettings.model_validate(data["ServiceSettings"])


def blocking_problems(settings: ServiceSettings, *, bot_exists: bool) -> list[str]:
    """Settings that stop setup from provisioning (empty when nothing does)."""
    problems: list[str] = []
    if not settings.enable_bot_account_creation and not bot_exists:
        problems.append(texts.BOTS_DISABLED)
    if not settings.enable_commands:
        problems.append(texts.COMMANDS_DISABLED)
    return problems


async def system_resolve(host: str) -> list[str]:
    """The addresses ``host`` resolves to from here (empty when it does not resolve)."""
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM), 5
        )
    except (OSError, TimeoutError):
        return []
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


async def allow_list_problem(
    settings: ServiceSettings, host: str, *, resolve: Resolve = system_resolve
) -> str | None:
    """Why Mattermost's untrusted client would refuse ``host``, or None when it would dial it.

    Resolution happens here, not on the Mattermost server: for a name the two may differ,
    which the reachability probe settles.
    """
    if not host or host in settings.allowed:
        return None
    addresses = await resolve(host)
    if not addresses:
        return texts.unresolved_host(host)
    ranges = []
    for entry in settings.allowed:
        if "/" not in entry:  # only CIDRs match by address (a bare name or IP by host)
            continue
        try:
            ranges.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    for text in addresses:
        ip = ipaddress.ip_address(text)
        reserved = any(ip.version == n.version and ip in n for n in RESERVED)
        listed = any(ip.version == n.version and ip in n for n in ranges)
        if not reserved or listed:
            return None
    return texts.not_allowed(host, addresses)


# ---- proving that Mattermost reaches warroom --------------------------------------------
@dataclass
class ProbeListener:
    """A short-lived HTTP server on warroom's listen address that answers ``/incident`` for
    the reachability probe when warroom itself is not running there.

    ``tokens`` are the command tokens setup registered; a request with another token is
    refused. ``reached`` is set when Mattermost called with one of them.
    """

    host: str
    port: int
    tokens: list[str]
    reached: bool = False
    _runner: web.AppRunner | None = None

    async def start(self) -> bool:
        """Listen; False when the address is taken (warroom is probably running there)."""
        app = web.Application()
        app.router.add_post("/mattermost/command", self._command)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError:
            await runner.cleanup()
            return False
        self._runner = runner
        return True

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _command(self, request: web.Request) -> web.Response:
        form = await request.post()
        presented = str(form.get("token", "")).encode()
        if not any(hmac.compare_digest(presented, t.encode()) for t in self.tokens):
            return web.json_response({"text": texts.PROBE_REFUSED})
        self.reached = True
        return web.json_response({"response_type": "ephemeral", "text": texts.PROBE_ANSWER})
