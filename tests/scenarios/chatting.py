"""Chatting with warroom as a person does: direct messages and @mentions through the double.

Every message is a real post made through the double, so warroom receives the real
``posted`` frame (``data.post`` a JSON string, ``mentions`` a JSON string array, DM
channel names ``<id>__<id>``) over its websocket.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.scenarios.harness import World


async def delivered(w: World) -> None:
    """Wait until warroom read every frame sent to it and finished handling them."""
    await w.mm.wait_until(lambda: w.app.listener.last_seq == w.mm.last_seq(w.bot.id))
    for _ in range(3):
        await asyncio.sleep(0.01)  # the dispatcher takes the event off its queue
        await w.settle()


def dm_channel_id(w: World, user: Any) -> str:
    name = "__".join(sorted((user.id, w.bot.id)))
    channel = w.mm.channel_by_name("", name)
    if channel is None:
        channel = w.mm._core.direct_channel(w.mm.state.user(user.id), [user.id, w.bot.id])
    return str(channel.id)


async def dm(w: World, user: Any, text: str, root_id: str = "") -> dict[str, Any]:
    """``user`` writes ``text`` to @warroom in their direct channel; returns the post."""
    post: dict[str, Any] = await w.mm.user_post(user, dm_channel_id(w, user), text, root_id)
    await delivered(w)
    return post


async def say(w: World, user: Any, channel_id: str, text: str, root_id: str = "") -> dict[str, Any]:
    """``user`` posts ``text`` in a channel (mention warroom in it to talk to it)."""
    post: dict[str, Any] = await w.mm.user_post(user, channel_id, text, root_id)
    await delivered(w)
    return post


def bot_posts(w: World, channel_id: str) -> list[dict[str, Any]]:
    return [p for p in w.mm.posts(channel_id) if p["user_id"] == w.bot.id]


def last_answer(w: World, user: Any) -> dict[str, Any]:
    """warroom's newest post in the user's direct channel."""
    posts = bot_posts(w, dm_channel_id(w, user))
    assert posts, "warroom said nothing in the DM"
    return posts[-1]


def answer_to_mention(w: World, user: Any, channel_name: str) -> str:
    """warroom's newest DM answer to a mention the user wrote in ``~channel_name``, without
    the line that names that channel (asserted present)."""
    message = str(last_answer(w, user)["message"])
    preamble = f"About your message in ~{channel_name}:\n"
    assert message.startswith(preamble), message
    return message.removeprefix(preamble)


async def click_in(w: World, user: Any, post: dict[str, Any], label: str) -> Any:
    return await w.click(user, str(post["id"]), label)


async def slash(w: World, user: Any, text: str, channel_id: str) -> str:
    """``/incident <text>`` typed in any channel, a DM too (the web app then sends the
    current team, here acme); the reply's text."""
    command = f"/incident {text}" if text else "/incident"
    reply: dict[str, Any] = await w.mm._core.execute_command(
        w.mm.state.user(user.id), channel_id, command, team_id=w.team.id
    )
    await w.settle()
    return str(reply.get("text", ""))
