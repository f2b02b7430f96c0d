"""Chat claims in SQLite: a message runs once, a thread gets one offer per playbook."""

from __future__ import annotations

from pathlib import Path

from bot.store.conversation import SEEN_KEEP_MS, ConversationStore
from bot.store.db import Database


async def test_claims_survive_a_reopen_and_offers_can_be_released(tmp_path: Path) -> None:
    db = Database(tmp_path / "w.db")
    await db.open()
    store = ConversationStore(db)
    assert await store.claim_message("p1", now=1)
    assert not await store.claim_message("p1", now=2)
    assert await store.claim_offer(root_id="r", playbook_id="pb", post_id="p1", now=1)
    assert not await store.claim_offer(root_id="r", playbook_id="pb", post_id="p2", now=2)
    assert await store.claim_offer(root_id="r", playbook_id="other", post_id="p2", now=2)
    await store.forget_offer(root_id="r", playbook_id="other")
    await db.close()
    db = Database(tmp_path / "w.db")
    await db.open()
    try:
        again = ConversationStore(db)
        assert not await again.claim_message("p1", now=3)
        assert not await again.claim_offer(root_id="r", playbook_id="pb", post_id="p3", now=3)
        assert await again.claim_offer(root_id="r", playbook_id="other", post_id="p3", now=3)
    finally:
        await db.close()


async def test_old_claims_are_pruned(tmp_path: Path) -> None:
    db = Database(tmp_path / "w.db")
    await db.open()
    try:
        store = ConversationStore(db)
        await store.claim_message("old", now=0)
        for n in range(600):  # pruning runs every few hundred claims
            await store.claim_message(f"p{n}", now=SEEN_KEEP_MS + 10)
        assert await store.claim_message("old", now=SEEN_KEEP_MS + 10)
    finally:
        await db.close()
