"""Planned test incidents: deterministic per seed, uniform in [begin, end), first `ended` end."""

from __future__ import annotations

from bot.domain.models import Playbook
from bot.domain.testdata import plan

PBS = [Playbook(id=f"p{n}", title=f"P{n}", team_id="t" * 26) for n in range(3)]
BEGIN, END = 1_000_000, 9_000_000_000


def test_same_seed_same_plan_other_seed_other_plan() -> None:
    args = {"ongoing": 5, "ended": 4, "begin": BEGIN, "end": END, "playbooks": PBS}
    assert plan(seed=7, **args) == plan(seed=7, **args)  # type: ignore[arg-type]
    assert plan(seed=7, **args) != plan(seed=8, **args)  # type: ignore[arg-type]


def test_times_in_range_and_the_first_ones_ended() -> None:
    planned = plan(seed=1, ongoing=30, ended=20, begin=BEGIN, end=END, playbooks=PBS)
    assert len(planned) == 50
    assert all(BEGIN <= p.created_at < END for p in planned)
    assert all(p.ended_at is not None for p in planned[:20])
    assert all(p.ended_at is None for p in planned[20:])
    assert all(p.created_at < p.ended_at <= END for p in planned[:20] if p.ended_at)
    assert len({p.name for p in planned}) > 25  # random names
    assert {p.playbook.id for p in planned} == {"p0", "p1", "p2"}
