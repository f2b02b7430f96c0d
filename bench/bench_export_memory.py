"""Post-mortem export: time and peak Python memory of walking a channel of N messages.

Run: ``.venv/bin/python -m bench.bench_export_memory``. The peak should stay flat as N grows (one page
of 200 posts in memory at a time); the time should grow linearly.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import tracemalloc
from typing import Any, cast

from bot.clock import SystemClock
from bot.services.directory import Directory
from bot.services.ports import Post, PostsPage, User
from bot.services.review import ReviewService, _copy_reversed

AUTHOR = "u" * 26


def post(channel_id: str, i: int) -> Post:
    return Post(
        id=f"{i:026d}",
        channel_id=channel_id,
        user_id=AUTHOR,
        message=f"message {i} " + "x" * 80,
        create_at=1_700_000_000_000 + i * 1000,
    )


class PagedChannel:
    """Serves a channel of ``n`` posts newest first, built page by page (like the server)."""

    def __init__(self, n: int) -> None:
        self.n = n

    async def channel_posts(self, channel_id: str, *, page: int, per_page: int) -> PostsPage:
        top = self.n - page * per_page
        posts = {
            f"{i:026d}": post(channel_id, i) for i in range(top - 1, max(top - per_page, 0) - 1, -1)
        }
        return PostsPage(order=list(posts), posts=posts)

    async def get_users(self, user_ids: list[str]) -> list[User]:
        return [User(id=AUTHOR, username="alice")]


async def measure(n: int) -> tuple[float, int, int]:
    chat = cast(Any, PagedChannel(n))
    svc = ReviewService(
        chat=chat, directory=Directory(chat), incidents=cast(Any, None),
        incident_store=cast(Any, None), store=cast(Any, None), clock=SystemClock(),
        memberships=cast(Any, None),
    )  # fmt: skip
    tracemalloc.start()
    started = time.perf_counter()
    with tempfile.TemporaryFile() as spool, tempfile.TemporaryFile() as out:
        segments, count, _ = await svc._spool_messages("c" * 26, spool)
        _copy_reversed(spool, segments, out)
        size = out.tell()
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == n
    return elapsed, peak, size


def main(sizes: tuple[int, ...] = (2_000, 20_000, 100_000)) -> None:
    """Walk a channel of each of ``sizes`` messages; prints one line per size."""
    for n in sizes:
        elapsed, peak, size = asyncio.run(measure(n))
        print(
            f"{n:>7} messages: {elapsed:6.2f} s, peak {peak / 1024:8.0f} KiB, doc {size / 1e6:5.1f} MB"
        )


if __name__ == "__main__":
    main()
