"""ChecklistPosts keeps one post per checklist page: never twice, in order, only what changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pytest

from bot.domain.models import Incident, Stage, Task
from bot.domain.signing import Signer
from bot.errors import ChatUnavailable
from bot.interactions.buttons import Buttons, post_digest
from bot.render.keys import key_of, keyed
from bot.render.views import Names
from bot.services.checklist_posts import ChecklistPosts, checklist_key
from bot.services.ports import ChatClient, ChatRefused, Post
from bot.services.rendered import RENEW_AFTER_MS, RenderedPosts


class FixedClock:
    def now_ms(self) -> int:
        return 1_800_000_000_000


class MovingClock(FixedClock):
    def __init__(self) -> None:
        self.now = super().now_ms()

    def now_ms(self) -> int:
        return self.now


class FakeChat:
    """Posts in memory; ``fail_create_at``: the n-th create (1-based) fails as an outage."""

    def __init__(self) -> None:
        self.posts: dict[str, tuple[str, dict[str, Any]]] = {}
        self.calls: list[tuple[str, str]] = []
        self.fail_create_at = 0
        self.creates = 0

    async def create_post(self, channel_id: str, message: str, *, props: Any = None) -> Post:
        self.creates += 1
        if self.creates == self.fail_create_at:
            raise ChatUnavailable("create_post")
        post_id = f"p{len(self.posts) + 1:025d}"
        self.posts[post_id] = (message, props)
        self.calls.append(("create", post_id))
        return Post(id=post_id, channel_id=channel_id, user_id="b" * 26, message=message)

    async def update_post(self, post_id: str, message: str, props: dict[str, Any]) -> Post:
        if post_id not in self.posts:
            raise ChatRefused(403, "api.context.permissions.app_error")
        self.posts[post_id] = (message, props)
        self.calls.append(("update", post_id))
        return Post(id=post_id, channel_id="c" * 26, user_id="b" * 26, message=message)

    async def get_post(self, post_id: str) -> Post:
        if post_id not in self.posts:
            raise ChatRefused(404, "app.post.get.app_error")
        return Post(id=post_id, channel_id="c" * 26, user_id="b" * 26, message="")

    async def delete_post(self, post_id: str) -> None:
        self.calls.append(("delete", post_id))
        if self.posts.pop(post_id, None) is None:
            raise ChatRefused(403, "api.context.permissions.app_error")


class Records:
    """RenderRecords in memory (the durable one is tested in tests/store)."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, str, int]] = {}

    async def load(self) -> dict[str, tuple[str, str, int]]:
        return dict(self.rows)

    async def record(self, post_id: str, *, incident_id: str, digest: str, sent_at: int) -> None:
        self.rows[post_id] = (incident_id, digest, sent_at)

    async def forget(self, post_ids: Sequence[str]) -> None:
        for post_id in post_ids:
            self.rows.pop(post_id, None)


def stage(count: int) -> Stage:
    title = "Check the <load balancer> & the *primary* [db] " * 4
    return Stage(title="S", tasks=tuple(Task(id=f"t{n}", title=title) for n in range(count)))


class Store:
    def __init__(self, tasks: int) -> None:
        self.forgotten: list[int] = []
        self.incident = Incident(
            id="i" * 26,
            team_id="t" * 26,
            channel_id="c" * 26,
            channel_name="x",
            name="x",
            reporter_id="r" * 26,
            commander_id="r" * 26,
            created_at=0,
            stages=(stage(tasks),),
        )

    async def load(self, incident_id: str) -> Incident:
        return self.incident

    async def save_ids(self, incident_id: str, ids: tuple[str, ...]) -> Incident:
        first, more = (ids[0], ids[1:]) if ids else ("", ())
        self.incident = self.incident.model_copy(
            update={"checklist_post_id": first, "checklist_more_post_ids": more}
        )
        return self.incident


def posts_for(
    store: Store,
    chat: FakeChat,
    *,
    records: Records | None = None,
    clock: FixedClock | None = None,
) -> ChecklistPosts:
    """ChecklistPosts over the fakes; pages are posted as the outbox would (with their key)."""

    async def post_page(
        incident: Incident, index: int, message: str, props: dict[str, Any]
    ) -> tuple[str, bool]:
        key = checklist_key(incident.id, index)
        post = await chat.create_post(incident.channel_id, message, props=keyed(props, key))
        return post.id, True

    async def forget_pages(incident_id: str, indexes: list[int]) -> None:
        store.forgotten += indexes

    clock = clock or FixedClock()
    buttons = Buttons(Signer(b"k" * 32), "http://warroom:8080/mattermost/action", clock)
    return ChecklistPosts(
        chat=cast(ChatClient, chat),
        buttons=buttons,
        load=store.load,
        save_ids=store.save_ids,
        post_page=post_page,
        forget_pages=forget_pages,
        rendered=RenderedPosts(records=records or Records(), digest=post_digest, clock=clock),
    )


async def test_a_page_that_failed_is_posted_later_and_none_twice() -> None:
    store, chat = Store(30), FakeChat()
    chat.fail_create_at = 2
    posts = posts_for(store, chat)
    with pytest.raises(ChatUnavailable):
        await posts.sync(store.incident.id, Names(), create_only=True)
    assert len(store.incident.checklist_post_ids) == 1  # the first page, saved at once
    await posts.sync(store.incident.id, Names(), create_only=True)
    ids = store.incident.checklist_post_ids
    assert len(ids) > 2 and sorted(ids) == sorted(chat.posts) and len(set(ids)) == len(ids)


async def test_only_changed_pages_are_sent_unless_forced_and_surplus_pages_go() -> None:
    store, chat = Store(30), FakeChat()
    posts = posts_for(store, chat)
    await posts.sync(store.incident.id, Names())
    ids = store.incident.checklist_post_ids
    chat.calls.clear()
    await posts.sync(store.incident.id, Names())
    assert chat.calls == []
    await posts.sync(store.incident.id, Names(), force=True)
    assert chat.calls == [("update", p) for p in ids]
    chat.calls.clear()
    store.incident = store.incident.model_copy(update={"stages": (stage(2),)})
    del chat.posts[ids[-1]]  # already deleted by hand: still dropped from the list
    await posts.sync(store.incident.id, Names())
    assert store.incident.checklist_post_ids == (ids[0],)
    assert sorted(store.forgotten) == list(range(1, len(ids)))  # their keys may post again
    assert key_of(chat.posts[ids[0]][1]) == checklist_key(store.incident.id, 0)  # kept on update
    assert [c for c in chat.calls if c[0] == "delete"] == [("delete", p) for p in reversed(ids[1:])]


async def test_what_was_sent_is_remembered_across_a_restart_and_renewed_before_expiry() -> None:
    """A page's record outlives the process (a new ChecklistPosts sends nothing), and a page
    last set RENEW_AFTER_MS ago is sent again, so its buttons never expire."""
    store, chat, clock = Store(30), FakeChat(), MovingClock()
    records = Records()
    await posts_for(store, chat, records=records, clock=clock).sync(store.incident.id, Names())
    ids = store.incident.checklist_post_ids
    chat.calls.clear()
    restarted = posts_for(store, chat, records=records, clock=clock)
    await restarted.sync(store.incident.id, Names())
    assert chat.calls == []
    clock.now += RENEW_AFTER_MS
    await restarted.sync(store.incident.id, Names())
    assert chat.calls == [("update", p) for p in ids]


async def test_while_an_update_is_in_flight_the_durable_record_claims_nothing() -> None:
    """Rule (exactly what a post shows, across a kill): before an update of a kept post is
    sent, its durable record is dropped, so a kill while Mattermost may still make the update
    cannot leave a record of the older render that the next re-sync would trust."""
    records, clock = Records(), FixedClock()
    rendered = RenderedPosts(records=records, digest=post_digest, clock=clock)
    await rendered.sent("p" * 26, incident_id="i" * 26, digest="old", message="old text")
    assert await rendered.shows("p" * 26, "old")
    await rendered.unsure("p" * 26, "new text")  # the update is now on its way
    restarted = RenderedPosts(records=records, digest=post_digest, clock=clock)
    assert not await restarted.shows("p" * 26, "old")  # after a kill: not trusted, sent again
    await rendered.sent("p" * 26, incident_id="i" * 26, digest="new", message="new text")
    assert await RenderedPosts(records=records, digest=post_digest, clock=clock).shows(
        "p" * 26, "new"
    )
