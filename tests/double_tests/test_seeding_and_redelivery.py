"""The double's quiet seeding (posts, members) and event redelivery used by review tests."""

from __future__ import annotations

from tests.double_tests.conftest import Seed


async def test_seeded_posts_page_newest_first_like_the_server(seed: Seed) -> None:
    mm = seed.mm
    before = len(mm.events)
    ids = mm.seed_posts(seed.town.id, seed.alice, [f"m{n}" for n in range(450)])
    assert len(mm.events) == before  # quiet
    assert mm.channel(seed.town.id) is not None
    path = f"/channels/{seed.town.id}/posts?per_page=200&page="
    page0 = await seed.rest.call(seed.alice, "GET", path + "0")
    page2 = await seed.rest.call(seed.alice, "GET", path + "2")
    assert page0.body["order"][0] == ids[-1] and len(page0.body["order"]) == 200
    assert page2.body["order"] == list(reversed(ids[:50]))


async def test_seed_member_is_quiet_and_redeliver_repeats_an_event(seed: Seed) -> None:
    mm = seed.mm
    before = len(mm.events)
    mm.seed_member(seed.secret.id, seed.bob.id)
    assert seed.bob.id in mm.channel_members(seed.secret.id) and len(mm.events) == before
    post = await mm.user_post(seed.alice, seed.secret.id, "hello")
    await mm.react(seed.alice, post["id"], "pushpin")
    event = mm.events[-1]
    mm.redeliver(event)
    assert mm.events[-1]["event"] == "reaction_added"
    assert mm.events[-1]["data"] == event["data"]
    assert mm.last_seq(seed.bot.id) == -1  # the bot has no websocket here


async def test_seed_reaction_is_quiet_and_listed_with_the_post(seed: Seed) -> None:
    mm = seed.mm
    post = await mm.user_post(seed.alice, seed.town.id, "hi")
    before = len(mm.events)
    mm.seed_reaction(seed.bob, post["id"], "pushpin")
    assert len(mm.events) == before
    page = await seed.rest.call(seed.alice, "GET", f"/channels/{seed.town.id}/posts")
    listed = page.body["posts"][post["id"]]["metadata"]["reactions"]
    assert [(r["user_id"], r["emoji_name"]) for r in listed] == [(seed.bob.id, "pushpin")]
    mm.seed_reaction(seed.bob, post["id"], "pushpin", on=False)
    assert mm.state.reactions[post["id"]] == []
