"""The webhook sender connects only to addresses that passed the check (no network: a fake
resolver says where a name leads; the receiver is on loopback)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.services.ports import WebhookRefused
from bot.transport import webhook_sender
from bot.transport.webhook_sender import HttpWebhookSender
from tests.scenarios.webhook_receiver import Receiver


class FakeResolver(AbstractResolver):
    """Resolves every name to ``addresses`` (in that order); counts the look-ups."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        return [
            ResolveResult(hostname=host, host=a, port=port, family=socket.AF_INET6 if ":" in a
                          else socket.AF_INET, proto=0, flags=socket.AI_NUMERICHOST)
            for a in self.addresses
        ]  # fmt: skip

    async def close(self) -> None:
        return None


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    built = Receiver()
    yield built
    await built.close()


def pointing(monkeypatch: pytest.MonkeyPatch, addresses: list[str]) -> FakeResolver:
    fake = FakeResolver(addresses)
    monkeypatch.setattr(webhook_sender, "system_resolver", lambda: fake)
    return fake


async def test_an_allowed_name_is_only_connected_to_addresses_that_pass(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule: the connection is pinned to the checked addresses: of a name resolving to the
    metadata address and to loopback, only loopback is used; resolving only to private or
    link-local addresses, nothing is sent and the delivery is refused."""
    port = int((await receiver.start()).split(":")[2].split("/")[0])
    url = f"http://hooks.example.com:{port}/hook"
    sender = HttpWebhookSender(5.0, frozenset({"hooks.example.com"}))
    try:
        fake = pointing(monkeypatch, ["169.254.169.254", "127.0.0.1"])
        assert await sender.post(url, b"{}", {}) == 200
        assert len(receiver.got) == 1 and fake.asked == ["hooks.example.com"]
        for internal in (["169.254.169.254"], ["10.0.0.7", "192.168.1.2"], ["fe80::1", "fd00::1"]):
            fake.addresses = internal  # re-pointed: resolved anew, refused
            with pytest.raises(WebhookRefused, match=r"hooks\.example\.com resolves to"):
                await sender.post(url, b"{}", {})
        assert len(receiver.got) == 1
        with pytest.raises(WebhookRefused, match=r"169\.254\.169\.254"):
            await sender.post("http://169.254.169.254/latest/meta-data", b"{}", {})
    finally:
        await sender.close()
