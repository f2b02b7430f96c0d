"""The server configuration the double runs with, and the rules that read it.

Grounded in the Mattermost 5.36 server source:

- ``GET /api/v4/config`` (api4/config.go getConfig) needs one of the ``sysconsole_read_*``
  permissions (a system admin holds them all) and answers 403
  ``api.context.permissions.app_error`` otherwise; it returns the whole ``model.Config``
  with secrets replaced by ``model.FAKE_SETTING`` (model/config.go Sanitize).
- ``ServiceSettings.EnableBotAccountCreation`` off: ``POST /bots`` answers 403
  ``api.bot.create_disabled`` (api4/bot.go createBot, after the permission check).
- ``ServiceSettings.EnableCommands`` off: creating, listing, reading and executing custom
  slash commands answers 501 ``api.command.disabled.app_error`` (app/command.go).
- ``ServiceSettings.AllowedUntrustedInternalConnections``: every call to an integration
  (slash command, button, dialog) goes through the untrusted HTTP client
  (services/httpservice/httpservice.go MakeTransport(false)): a host written in the list
  (fields split on white space or commas) is dialled as is; otherwise each address the name
  resolves to must be neither reserved (loopback, private, link-local, unspecified) nor one
  of the server's own, or lie in a CIDR from the list; else the dial fails with "address
  forbidden, you may need to set AllowedUntrustedInternalConnections ..."
  (services/httpservice/client.go dialContextFilter). The double treats loopback addresses
  as its own.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import socket
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .util import Json

FAKE_SETTING = "********************************"  # model.FAKE_SETTING
ADDRESS_FORBIDDEN = (
    "address forbidden, you may need to set AllowedUntrustedInternalConnections to allow"
    " an integration access to your internal network"
)
# services/httpservice/client.go: the reserved ranges (RFC 6890).
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


class AddressForbidden(aiohttp.ClientError):
    """The untrusted HTTP client refused to dial an integration's address."""

    def __init__(self) -> None:
        super().__init__(ADDRESS_FORBIDDEN)


def default_config() -> Json:
    """A 5.36 configuration prepared for warroom: the keys warroom reads (with the values
    of model/config.go SetDefaults where the double does not change them) and a few others,
    so that readers meet the real nesting. Bot accounts are enabled and loopback is allowed,
    as on a server where an admin has already set up integrations on this host."""
    return {
        "ServiceSettings": {
            "SiteURL": "",
            "ListenAddress": ":8065",
            "EnableCommands": True,
            "EnableOnlyAdminIntegrations": True,
            "EnablePostUsernameOverride": False,
            "EnablePostIconOverride": False,
            "EnableUserAccessTokens": True,
            "EnableBotAccountCreation": True,
            "EnableInsecureOutgoingConnections": False,
            "AllowedUntrustedInternalConnections": "127.0.0.1 localhost",
            "EnableIncomingWebhooks": True,
            "EnableOutgoingWebhooks": True,
        },
        "TeamSettings": {"SiteName": "Mattermost", "MaxUsersPerTeam": 50},
        "SqlSettings": {
            "DriverName": "postgres",
            "DataSource": FAKE_SETTING,
            "AtRestEncryptKey": FAKE_SETTING,
        },
        "FileSettings": {"DriverName": "local", "PublicLinkSalt": FAKE_SETTING},
    }


class ServerConfig:
    """The double's configuration; tests change it with :meth:`set`."""

    def __init__(self) -> None:
        self.data: Json = default_config()

    def set(self, section: str, key: str, value: Any) -> None:
        self.data.setdefault(section, {})[key] = value

    def service(self, key: str) -> Any:
        return self.data["ServiceSettings"][key]

    def sanitized(self) -> Json:
        """What ``GET /api/v4/config`` answers (secrets already fake in :attr:`data`)."""
        return copy.deepcopy(self.data)

    def check_integration_url(self, url: str) -> None:
        """Raise :class:`AddressForbidden` when the untrusted client would not dial ``url``."""
        host = urlsplit(url).hostname or ""
        allowed = [
            f for f in re.split(r"[\s,]+", self.service("AllowedUntrustedInternalConnections")) if f
        ]
        if host in allowed:
            return
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError:
            raise AddressForbidden() from None
        ranges = []
        for entry in allowed:
            try:
                ranges.append(ipaddress.ip_network(entry, strict=False) if "/" in entry else None)
            except ValueError:
                continue
        for info in infos:
            ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if not any(ip in net for net in RESERVED if net.version == ip.version):
                return
            if any(net is not None and net.version == ip.version and ip in net for net in ranges):
                return
        raise AddressForbidden()
