"""The double's request log: when each request came in and was answered, and (kept only on
request) its query, body and answer."""

from __future__ import annotations

import json

from .conftest import Seed


async def test_the_request_log_times_each_request_and_keeps_bodies_only_when_asked(
    seed: Seed,
) -> None:
    post = {"channel_id": seed.secret.id, "message": "hello"}
    await seed.rest.call(seed.bot, "POST", "/posts", post)
    seed.mm.keep_bodies = True
    await seed.rest.call(seed.bot, "POST", "/posts", post)
    first, second = [r for r in seed.mm.requests if r.path == "/api/v4/posts"]
    assert 0 < first.began <= first.answered <= second.began <= second.answered
    assert (first.body, first.answer) == (b"", b"")
    assert json.loads(second.body) == post
    assert json.loads(second.answer)["message"] == "hello"
    assert second == first  # the times and bytes are not part of what a record is
