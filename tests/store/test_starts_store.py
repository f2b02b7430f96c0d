import pytest

from bot.store.db import Database
from bot.store.starts import NameTaken, StartState, StartStore


async def test_a_channel_name_is_reserved_by_one_start_in_progress_at_a_time(
    db: Database,
) -> None:
    """Two starts never look up (and adopt) the same channel: names are reserved."""
    starts = StartStore(db)
    async with db.transaction() as tx:
        await starts.add(tx, start_id="a", team_id="t", channel_name="disk", request="{}", now=1)
    with pytest.raises(NameTaken):
        async with db.transaction() as tx:
            await starts.add(
                tx, start_id="b", team_id="t", channel_name="disk", request="{}", now=2
            )
    async with db.transaction() as tx:  # another team may use it
        await starts.add(tx, start_id="c", team_id="u", channel_name="disk", request="{}", now=3)
    async with db.transaction() as tx:
        assert await starts.move(tx, "a", StartState.CREATING, StartState.CREATED)
    async with db.transaction() as tx:  # created: Mattermost holds the name now
        await starts.add(tx, start_id="b", team_id="t", channel_name="disk", request="{}", now=2)
    async with db.transaction() as tx:
        await starts.add(tx, start_id="d", team_id="t", channel_name="disk-x", request="{}", now=4)
    with pytest.raises(NameTaken):
        await starts.rename("d", "disk")  # reserved by b
    await starts.steps_done("a", ["members", "told"])
    record = await starts.get("a")
    assert record is not None and record.steps == ["members", "told"]
    assert [r.id for r in await starts.unfinished()] == ["a", "b", "c", "d"]
    await starts.finish("a", StartState.DONE)
    assert await starts.prune(before=2) == 1  # settled and old: forgotten
    assert await starts.prune(before=100) == 0  # the others are unfinished
    assert await starts.get("a") is None
