"""Reads at scale (issue 12): answered from warroom's own store, never one request per incident.

Many incidents are seeded straight into the store (through the incident store's insert, as
`warroom` would have saved them) with their channels in the double; warroom then lists each
channel's members once, as its re-sync does, and every later read is answered locally.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.domain.models import Incident, IncidentStatus
from tests.scenarios.api_client import call
from tests.scenarios.harness import World

HOUR_MS = 3_600_000


async def seed_incidents(
    w: World, count: int, *, members: list[Any], start: int = 0, ended: int = 0
) -> list[Incident]:
    """``count`` private ongoing incidents (and ``ended`` ended ones) whose channels hold
    ``members`` and the bot; newest last."""
    store = w.app.services.incidents.store
    now = w.app.services.clock.now_ms()
    made: list[Incident] = []
    for n in range(start, start + count + ended):
        name = f"scale-{n:04d}"
        channel = w.mm.add_channel(
            w.team.id, name, private=True, members=[w.bot.id, *(m.id for m in members)]
        )
        is_ended = n >= start + count
        made.append(
            Incident(
                id=f"{n:04d}".rjust(26, "i"),
                team_id=w.team.id,
                channel_id=channel.id,
                channel_name=name,
                name=f"Scale {n}",
                reporter_id=members[0].id,
                commander_id=members[0].id,
                playbook_title="Outage",
                created_at=now - HOUR_MS + n,
                status=IncidentStatus.ENDED if is_ended else IncidentStatus.ONGOING,
                ended_at=now - 1000 if is_ended else None,
            )
        )
    async with w.app.db.transaction() as tx:
        for incident in made:
            await store.insert(tx, incident)
    return made


async def followed(w: World, channel_id: str, user_id: str, member: bool) -> None:
    """Wait until warroom has handled the membership event (events are handled in order)."""
    for _ in range(200):
        if await w.app.services.memberships.is_member(channel_id, user_id) is member:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"membership of {user_id} never became {member}")


async def test_reads_never_ask_mattermost_once_per_incident(w: World) -> None:
    """Rule: `list`, `stats`, `timeline` and `info` are answered from warroom's store; the
    number of requests to Mattermost does not grow with the number of incidents (it is zero
    once the caller is known), whatever the number of private incidents."""
    await w.listening()
    mine = await seed_incidents(w, 250, members=[w.alice], ended=20)
    others = await seed_incidents(w, 250, members=[w.bob], start=1000)
    listed = len(w.mm.requests)
    await w.app.services.memberships.resync()
    listings = [r for r in w.mm.requests[listed:] if r.path.endswith("/members")]
    assert len(listings) == 520  # one member listing per channel, seeded once
    await w.command(w.alice, "list")  # the caller's name and roles, read once and kept
    before = len(w.mm.requests)
    listed_text = (await w.command(w.alice, "list"))["text"]
    stats_text = (await w.command(w.alice, "stats 30"))["text"]
    timeline_text = (await w.command(w.alice, f"timeline ~{mine[3].channel_name}"))["text"]
    info_text = (await w.command(w.alice, f"info ~{mine[3].channel_name}"))["text"]
    assert w.mm.requests[before:] == []
    newest = sorted(mine[:250], key=lambda i: i.created_at)[-1]
    assert newest.channel_name in listed_text
    assert not any(i.channel_name in listed_text for i in others)
    assert "| **All** | 270 | 20 | 250 |" in stats_text  # hers only: 250 ongoing, 20 ended
    assert mine[3].name in timeline_text or "Scale 3" in timeline_text
    assert "Scale 3" in info_text
    refused = (await w.command(w.alice, f"timeline ~{others[0].channel_name}"))["text"]
    assert others[0].name not in refused


async def api_list_all(w: World, user: Any) -> tuple[list[str], int]:
    """Every incident ``GET /incidents`` shows ``user``, page after page (ids, newest
    first); and the requests warroom made to Mattermost meanwhile."""
    before = len(w.mm.requests)
    ids: list[str] = []
    params = {"limit": "200"}
    while True:
        page = await call(w, user, "GET", "/incidents", params=params)
        assert page.status == 200, page.body
        assert page.body["unknown"] == 0
        ids += [i["id"] for i in page.body["items"]]
        if not page.body["next_cursor"]:
            return ids, len(w.mm.requests) - before
        params["cursor"] = page.body["next_cursor"]


async def test_the_api_list_never_asks_mattermost_once_per_incident(w: World) -> None:
    """Rule: ``GET /incidents`` pages in the store on the followed membership, as chat's
    `list` does: what one page costs in requests to Mattermost is the same with 500 private
    incidents as with 2, and the caller sees exactly the ones whose channel they are in."""
    await w.listening()
    first = await seed_incidents(w, 1, members=[w.alice], ended=1)
    await w.app.services.memberships.resync()
    await api_list_all(w, w.alice)  # the caller's name and roles, read once and kept
    _, few = await api_list_all(w, w.alice)
    mine = first + await seed_incidents(w, 150, members=[w.alice], start=10, ended=98)
    others = await seed_incidents(w, 250, members=[w.bob], start=1000)
    await w.app.services.memberships.resync()
    shown, many = await api_list_all(w, w.alice)  # two pages of 200
    assert many == 2 * few
    newest_first = sorted(mine, key=lambda i: (i.created_at, i.id), reverse=True)
    assert shown == [i.id for i in newest_first]
    assert not set(shown) & {i.id for i in others}


async def test_a_channel_whose_members_are_unknown_is_said_so_and_listed_again(w: World) -> None:
    """A private incident whose channel warroom has not listed is neither shown nor hidden
    silently: the answer says how many are left out, and warroom lists them meanwhile."""
    await w.listening()
    await seed_incidents(w, 2, members=[w.alice])
    first = (await w.command(w.alice, "list"))["text"]
    assert "2 private incidents are not included" in first
    await w.settle()
    second = (await w.command(w.alice, "list"))["text"]
    assert "not included" not in second
    assert "scale-0000" in second and "scale-0001" in second


async def test_joins_and_leaves_are_followed_from_the_event_stream(w: World) -> None:
    """`user_added`/`user_removed` keep the followed membership current: carol sees the
    incident in `list` once added, and no longer once removed, without a re-listing."""
    await w.listening()
    incident = await w.start_incident(w.alice, "Disk full")
    assert "Disk full" not in (await w.command(w.carol, "list"))["text"]
    listings = len([r for r in w.mm.requests if r.path.endswith("/members")])
    await w.mm.add_to_channel(w.alice, incident.channel_id, w.carol.id)
    await followed(w, incident.channel_id, w.carol.id, True)
    assert "disk-full" in (await w.command(w.carol, "list"))["text"]
    await w.mm.remove_from_channel(w.alice, incident.channel_id, w.carol.id)
    await followed(w, incident.channel_id, w.carol.id, False)
    assert "disk-full" not in (await w.command(w.carol, "list"))["text"]
    assert len([r for r in w.mm.requests if r.path.endswith("/members")]) == listings
