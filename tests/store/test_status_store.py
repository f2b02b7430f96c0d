"""Status updates in SQLite: newest live update, edits and deletions followed once."""

from __future__ import annotations

from pathlib import Path

from bot.domain import transitions
from bot.domain.models import Playbook
from bot.store.db import Database
from bot.store.incidents import IncidentStore
from bot.store.status import StatusStore


async def test_latest_skips_deleted_and_edits_are_followed(tmp_path: Path) -> None:
    db = Database(tmp_path / "w.db")
    await db.open()
    try:
        incident, _ = transitions.new_incident(
            incident_id="i" * 26, playbook=Playbook(id="p", title="P", team_id="t" * 26),
            team_id="t" * 26, channel_id="c" * 26, channel_name="c", name="Inc",
            description="", reporter_id="u" * 26, now=0,
        )  # fmt: skip
        store = StatusStore(db)
        async with db.transaction() as tx:
            await IncidentStore(db).insert(tx, incident)
            for n, post in enumerate(("p1", "p2")):
                await store.add(
                    tx, incident_id=incident.id, author_id="u" * 26, message=f"m{n}",
                    post_id=post, reminder_seconds=900 * n, now=n,
                )  # fmt: skip
        latest = await store.latest(incident.id)
        assert latest is not None and (latest.message, latest.reminder_seconds) == ("m1", 900)
        assert await store.edited("p2", "m1 fixed")
        assert not await store.edited("p2", "m1 fixed")
        assert not await store.edited("unknown", "x")
        assert await store.deleted("p2", 5)
        assert not await store.deleted("p2", 6)
        latest = await store.latest(incident.id)
        assert latest is not None and latest.post_id == "p1"
        assert [u.message for u in await store.all(incident.id)] == ["m0", "m1 fixed"]
        found = await store.by_post("p2")
        assert found is not None and found.deleted_at == 5
    finally:
        await db.close()
