"""The rule of issue 9, kind 4: whatever warroom shows about a Mattermost object is either
followed — a websocket event handler AND a re-sync counterpart that re-reads it over REST after
every (re)connect, because 5.36 cannot resume a stream — or read fresh when shown.

This test enumerates the event kinds the running app reacts to (the dispatcher wiring in
``bot/app.py``) and fails for any kind no re-sync hook declares it covers
(``Resync.add(..., covers=...)``). See ``docs/mattermost-objects.md``.
"""

from __future__ import annotations

from pathlib import Path

from bot.transport.events import EVENT_TYPES, Hello
from tests.scenarios.harness import world


async def test_every_event_kind_warroom_reacts_to_has_a_re_sync_counterpart(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w:
        handled = w.app.events.handled_kinds()
        covered = w.app.resync.covered
    assert handled, "the dispatcher handles no event at all"
    assert handled <= set(EVENT_TYPES) - {Hello}
    missing = sorted(kind.name for kind in handled - covered)
    assert not missing, f"event kinds handled without a re-sync counterpart: {missing}"
    # the kinds of issue 9 that people change by hand are among those followed
    followed = {kind.name for kind in handled}
    for name in ("channel_updated", "channel_deleted", "channel_restored", "user_updated"):
        assert name in followed, name
    for name in ("post_edited", "post_deleted", "user_added", "user_removed"):
        assert name in followed, name
