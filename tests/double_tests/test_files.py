"""A user attaches a file to a post; the bot reads its info and bytes over REST."""

from __future__ import annotations

from .conftest import Seed


async def test_posted_file_is_readable_by_channel_members_only(seed: Seed) -> None:
    post = await seed.mm.post_file(seed.alice, seed.secret.id, "pb.json", b'{"title": "x"}', "here")
    assert len(post["file_ids"]) == 1
    file_id = post["file_ids"][0]
    info = await seed.rest.call(seed.bot, "GET", f"/files/{file_id}/info")
    assert info.status == 200
    assert (info.body["name"], info.body["extension"]) == ("pb.json", "json")
    assert info.body["post_id"] == post["id"] and info.body["size"] == 14
    raw = await seed.rest.call(seed.bot, "GET", f"/files/{file_id}")
    assert raw.status == 200 and raw.text == '{"title": "x"}'
    refused = await seed.rest.call(seed.bob, "GET", f"/files/{file_id}")
    assert refused.status == 403
    page = await seed.rest.call(seed.bot, "GET", f"/channels/{seed.secret.id}/posts")
    assert page.body["posts"][post["id"]]["file_ids"] == [file_id]
    assert seed.mm.file_bytes(file_id) == b'{"title": "x"}'
