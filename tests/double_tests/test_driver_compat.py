"""The real Python client (mattermostautodriver) talks to the double."""

from __future__ import annotations

import pytest
from mattermostautodriver import AsyncTypedDriver
from mattermostautodriver.exceptions import (
    InvalidOrMissingParameters,
    NotEnoughPermissions,
    ResourceNotFound,
)

from .conftest import Seed


async def test_async_typed_driver(seed: Seed) -> None:
    driver = AsyncTypedDriver(
        {
            "url": "127.0.0.1",
            "port": seed.mm.port,
            "scheme": "http",
            "token": seed.bot.token,
            "request_timeout": 5,
            "max_retries": 0,
        }
    )
    try:
        await driver.login()
        me = await driver.users.get_user(user_id="me")
        assert isinstance(me, dict)
        assert (me["id"], me["is_bot"]) == (seed.bot.id, True)
        channel = await driver.channels.create_channel(
            team_id=seed.team.id, name="disk-full", display_name="Disk full", type="P"
        )
        assert channel["type"] == "P"
        member = await driver.channels.add_channel_member(
            channel_id=channel["id"], user_id=seed.alice.id
        )
        assert member["user_id"] == seed.alice.id
        post = await driver.posts.create_post(
            channel_id=channel["id"], message="hello", props={"attachments": [{"text": "t"}]}
        )
        assert post["props"]["from_bot"] == "true"
        got = await driver.posts.get_post(post_id=post["id"])
        assert got["message"] == "hello"
        page = await driver.posts.get_posts_for_channel(channel_id=channel["id"])
        assert post["id"] in page["order"]
        uploaded = await driver.files.upload_file(
            channel_id=channel["id"], files=("notes.txt", b"notes")
        )
        assert uploaded["file_infos"][0]["name"] == "notes.txt"
        with pytest.raises(InvalidOrMissingParameters) as clash:
            await driver.channels.create_channel(
                team_id=seed.team.id, name="disk-full", display_name="Again", type="P"
            )
        assert clash.value.args[0] == "A channel with that name already exists on the same team."
        with pytest.raises(ResourceNotFound):
            await driver.users.get_user(user_id="a" * 26)
        with pytest.raises(NotEnoughPermissions):
            await driver.posts.create_post_ephemeral(
                user_id=seed.alice.id, post={"channel_id": channel["id"], "message": "x"}
            )
        assert seed.mm.channel_members(channel["id"]) == {seed.bot.id, seed.alice.id}
    finally:
        await driver.client.close()
