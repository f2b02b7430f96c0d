"""The followed membership store: known only when listed since the stream began."""

from bot.domain.models import IncidentStatus
from bot.store.db import Database
from bot.store.incidents import IncidentStore
from bot.store.memberships import MembershipStore, ongoing_stats_query
from tests.store.test_store import incident

ALICE, BOB = "a" * 26, "b" * 26


async def test_a_channel_is_known_only_when_listed_since_the_stream_began(db: Database) -> None:
    """Rule: a listing older than ``since`` (or none) answers "unknown", never a guess."""
    store = MembershipStore(db)
    assert await store.is_member("c1", ALICE, since=0) is None
    await store.seed("c1", [ALICE], at=100)
    assert await store.is_member("c1", ALICE, since=100) is True
    assert await store.is_member("c1", BOB, since=100) is False
    assert await store.is_member("c1", ALICE, since=101) is None  # listed before: stale
    await store.add("c1", BOB)
    await store.remove("c1", ALICE)
    assert (
        await store.is_member("c1", BOB, since=0),
        await store.is_member("c1", ALICE, since=0),
    ) == (True, False)
    await store.forget("c1")
    assert await store.is_member("c1", BOB, since=0) is None
    assert await store.unknown_channels(["c1", "c2"], since=0) == ["c1", "c2"]


async def test_visible_incidents_filter_in_the_store_and_name_the_unknown(db: Database) -> None:
    incidents, store = IncidentStore(db), MembershipStore(db)
    made = [incident(n)[0] for n in range(4)]
    public = made[3].model_copy(update={"private_channel": False})
    async with db.transaction() as tx:
        for inc in [*made[:3], public]:
            await incidents.insert(tx, inc)
    await store.seed(made[0].channel_id, [ALICE], at=10)
    await store.seed(made[1].channel_id, [BOB], at=10)
    found, unknown = await store.visible_incidents(
        made[0].team_id, ALICE, admin=False, since=10, status=IncidentStatus.ONGOING
    )
    assert [i.id for i in found] == [public.id, made[0].id]  # newest first
    assert unknown == [made[2].channel_id]
    as_guest, unknown = await store.visible_incidents(
        made[0].team_id, ALICE, admin=False, since=10, status=IncidentStatus.ONGOING, public=False
    )  # a guest reads public channels only as a member
    assert [i.id for i in as_guest] == [made[0].id]
    assert sorted(unknown) == sorted([made[2].channel_id, public.channel_id])
    everything, none = await store.visible_incidents(
        made[0].team_id, ALICE, admin=True, since=10, status=IncidentStatus.ONGOING
    )
    assert len(everything) == 4 and none == []
    rows, unknown = await store.visible_stats_rows(
        made[0].team_id, ALICE, admin=False, since=10, window_start=0
    )
    assert sum(r.ongoing for r in rows) == 2 and unknown == [made[2].channel_id]


async def test_stats_find_the_ongoing_incidents_from_the_callers_channels(db: Database) -> None:
    """Rule: what stats counts is found from the caller's own channels and the team's public
    incidents, on covering indexes: never by checking each ongoing incident of the team (the
    plan holds without statistics, so a small database shows the plan of a large one)."""
    for public in (True, False):
        sql, args = ongoing_stats_query("t", ALICE, admin=False, public=public, checked=0, since=0)
        rows = await db.fetch_all(f"EXPLAIN QUERY PLAN {sql}", (0, *args))
        plan = "\n".join(str(r[3]) for r in rows)
        assert "SEARCH m USING COVERING INDEX channel_members_user (user_id=?)" in plan, plan
        assert "SEARCH i USING COVERING INDEX incidents_channel_cover (channel_id=?" in plan, plan
        assert "SCAN i" not in plan, plan
        public_range = (
            "COVERING INDEX incidents_team_private_stats (team_id=? AND status=? AND private=?)"
        )
        assert (public_range in plan) is public, plan
