"""Webhook rules: targets, signatures, and a retry schedule that lasts at least a day."""

from __future__ import annotations

import random

from bot.domain.webhooks import (
    FIRST_DELAY_MS,
    MAX_DELAY_MS,
    RETRY_FOR_MS,
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
