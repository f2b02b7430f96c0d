"""Test incidents planned from a seed: the same seed gives the same names, times and states."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.models import Playbook

MAX_PER_CALL = 100
MINUTE_MS = 60_000

_ADJECTIVES = (
    "Slow", "Flaky", "Failing", "Stuck", "Degraded", "Missing", "Duplicate", "Delayed",
    "Intermittent", "Broken", "Leaking", "Overloaded", "Corrupted", "Silent", "Noisy",
)  # fmt: skip
_SUBJECTS = (
    "checkout", "login", "search", "payments", "database", "cache", "DNS", "queue",
    "billing", "API gateway", "CDN", "mail relay", "backups", "deploys", "certificates",
    "reporting", "webhooks", "storage", "auth tokens", "mobile push",
)  # fmt: skip
_PROBLEMS = (
    "errors", "timeouts", "latency", "outage", "alerts", "retries", "disk usage",
    "memory pressure", "5xx spike", "replication lag", "crash loop", "rate limiting",
)  # fmt: skip


@dataclass(frozen=True)
class Planned:
    name: str
    created_at: int
    ended_at: int | None
    playbook: Playbook


def plan(
    *,
    seed: int,
    ongoing: int,
    ended: int,
    begin: int,
    end: int,
    playbooks: Sequence[Playbook],
) -> list[Planned]:
    """``ongoing + ended`` incidents created uniformly in [begin, end); the first ``ended`` end.

    An ended one lasts 10 minutes to 3 days but ends by ``end``: nothing depends on the clock.
    """
    rng = random.Random(seed)
    out: list[Planned] = []
    for n in range(ongoing + ended):
        name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_SUBJECTS)} {rng.choice(_PROBLEMS)}"
        created = rng.randrange(begin, end)
        playbook = playbooks[rng.randrange(len(playbooks))]
        lasted = rng.randrange(10 * MINUTE_MS, 3 * 24 * 60 * MINUTE_MS)
        ended_at = min(created + lasted, end) if n < ended else None
        out.append(Planned(name, created, ended_at, playbook))
    return out
