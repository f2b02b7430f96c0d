"""When warroom's own database cannot be written (locked by another process past the busy
timeout, disk full, I/O error, read-only), a person's change is refused in plain words with
"try again", nothing of it is kept, and the next try after the store is back works.

Rule (bad input / outages): a store outage is told to the person who acted, never a
traceback or a generic "something went wrong", and loses no data.
"""

from __future__ import annotations

import sqlite3

from tests.scenarios.harness import World


async def test_a_change_while_the_database_is_locked_elsewhere_is_refused_plainly_and_kept_for_a_retry(
    w: World,
) -> None:
    incident = await w.start_incident(w.alice, "Locked out")
    await w.settle()
    await w.app.db.conn.execute("PRAGMA busy_timeout=0")  # no 5-second wait in a test
    other = sqlite3.connect(w.app.services.settings.db_path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        reply = await w.command(w.alice, "check 1 1", incident.channel_id)
        assert "database is not available" in reply["text"]
        assert "Nothing was changed" in reply["text"]
        assert "went wrong" not in reply["text"]
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert (await w.reload(incident)).stages[0].tasks[0].state.value != "done"
    reply = await w.command(w.alice, "check 1 1", incident.channel_id)
    assert not reply.get("text"), reply  # a toggle is answered with nothing
    assert (await w.reload(incident)).stages[0].tasks[0].state.value == "done"
