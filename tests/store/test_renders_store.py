"""RenderStore keeps what each kept post was last set to, across a restart."""

from __future__ import annotations

from pathlib import Path

from bot.store.db import Database
from bot.store.renders import RenderStore


async def test_renders_are_recorded_replaced_forgotten_and_kept_across_a_reopen(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path / "w.db")
    await db.open()
    renders = RenderStore(db)
    await renders.record("p1", incident_id="i1", digest="a", sent_at=1)
    await renders.record("p2", incident_id="i1", digest="b", sent_at=2)
    await renders.record("p1", incident_id="i1", digest="c", sent_at=3)
    await renders.forget(["p2", "unknown"])
    await db.close()
    db = Database(tmp_path / "w.db")
    await db.open()
    assert await RenderStore(db).load() == {"p1": ("i1", "c", 3)}
    await db.close()
