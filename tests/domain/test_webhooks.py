"""Webhook rules: targets, signatures, and a retry schedule that lasts at least a day."""

from __future__ import annotations

import random

from bot.domain.webhooks import (
    FIRST_DELAY_MS,
    MAX_DELAY_MS,
    RETRY_FOR_MS,
    address_allowed,
    gives_up,
    host_allowed,
    next_delay_ms,
    signature,
)
from tests.scenarios.webhook_receiver import verify


def test_only_loopback_and_the_allowed_hosts_are_targets() -> None:
    allowed = frozenset({"hooks.example.com"})
    for url in ("http://127.0.0.1:9/x", "http://127.8.0.1/x", "http://[::1]:80/x",
                "https://localhost/x", "https://hooks.example.com/x", "http://HOOKS.example.com/"):  # fmt: skip
        assert host_allowed(url, allowed), url
    for url in ("http://10.0.0.1/x", "http://169.254.169.254/latest", "http://example.com/x",
                "ftp://127.0.0.1/x", "http:///x", "http://hooks.example.com.evil.net/"):  # fmt: skip
        assert not host_allowed(url, allowed), url


def test_the_signature_is_the_one_a_receiver_computes() -> None:
    body = b'{"id":"x"}'
    header = signature(b"k" * 100, 1764480000, body)  # a key longer than a block, too
    assert verify(b"k" * 100, "1764480000", body, header)
    assert not verify(b"k" * 100, "1764480001", body, header)  # the timestamp is signed


def test_backoff_grows_with_jitter_and_retries_last_over_a_day() -> None:
    rng = random.Random(7)
    delays = [next_delay_ms(n, rng) for n in range(40)]
    assert FIRST_DELAY_MS // 2 <= delays[0] <= FIRST_DELAY_MS
    assert all(MAX_DELAY_MS // 2 <= d <= MAX_DELAY_MS for d in delays[20:])
    assert len({next_delay_ms(3, rng) for _ in range(20)}) > 1  # jittered
    elapsed, attempts = 0, 0
    while not gives_up(0, elapsed, attempts + 1):
        elapsed += next_delay_ms(attempts, rng)
        attempts += 1
    assert elapsed >= 24 * 3600 * 1000
    assert gives_up(0, RETRY_FOR_MS, 1)


def test_a_resolved_address_is_allowed_only_when_loopback_public_or_listed() -> None:
    """Rule: a webhook connects only to loopback, a globally routable address, or an
    address an admin listed (literally or in a CIDR block); private, link-local (cloud
    metadata), shared and multicast addresses are refused even behind an allowed name."""
    listed = frozenset({"hooks.example.com", "10.1.2.3", "192.168.5.0/24", "fd00:1::/32"})
    for address in ("127.0.0.1", "::1", "93.184.216.34", "2606:4700::1", "10.1.2.3",
                    "192.168.5.77", "fd00:1::9", "::ffff:127.0.0.1"):  # fmt: skip
        assert address_allowed(address, listed), address
    for address in ("10.0.0.1", "172.16.0.1", "172.31.255.1", "192.168.1.1", "169.254.169.254",
                    "169.254.1.1", "fc00::1", "fd12::1", "fe80::1%eth0", "100.64.0.1", "0.0.0.0",  # noqa: S104 - an address checked, not bound
                    "224.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
                    "hooks.example.com", ""):  # fmt: skip
        assert not address_allowed(address, listed), address


def test_a_literal_address_inside_a_listed_block_is_an_allowed_target() -> None:
    listed = frozenset({"192.168.5.0/24"})
    assert host_allowed("http://192.168.5.7:8080/hook", listed)
    assert not host_allowed("http://192.168.6.7:8080/hook", listed)
