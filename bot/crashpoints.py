"""Test-only kill points: ``WARROOM_TEST_CRASH_AT=<name>`` SIGKILLs warroom at that point.

Inert unless the variable is set when warroom starts (read once; a comparison per point). The subprocess tests in
``tests/scenarios/test_crash_points.py`` run a real ``warroom run`` with it set, then start
warroom again on the same database and check that nothing was lost or done twice. A point is
named ``<flow>.<step>`` (see :data:`POINTS`); the kill is ``SIGKILL`` to itself, exactly what
``kill -9`` does: no ``finally``, no flush, only what SQLite had committed survives.
"""

from __future__ import annotations

import os
import signal

ENV = "WARROOM_TEST_CRASH_AT"

POINTS = (
    # a start
    "start.recorded",  # the intent is saved; the channel not yet created
    "start.channel_created",  # Mattermost made the channel; the incident is not saved
    "start.saved",  # the incident is saved; nobody added, nothing posted
    "start.posts_recorded",  # the first posts recorded (while the members are being added)
    "start.members_added",  # reporter and invitees are in, the posts recorded; nothing posted
    "start.told",  # the reporter was told, not recorded
    "start.set_up",  # all done and posted; the steps (members, told, hooks) not recorded
    # a status update
    "status.recorded",  # the update (and the dialog's nonce) recorded; nothing posted
    "status.completed",  # on the timeline; reminder and broadcast not yet
    # a change of the incident (a task checked, the stage moved, the commander changed …)
    "change.saved",  # the change and its notice recorded; the notice not posted
    # any post of the outbox (bot/services/effects.py): made, its id not yet recorded
    "posted.notice",  # a line in the incident channel ("… started the incident")
    "posted.change",  # a change's lines (one post for a burst of them)
    "posted.card",  # the summary card (not yet pinned)
    "posted.checklist",
    "posted.status",  # a status update post: not on the timeline, no reminder yet
    "posted.broadcast",  # the copy of a status update in the broadcast channel
    "posted.announcement",  # the start announced in the broadcast channel
)


_AT = os.environ.get(ENV)  # read once: a change of a task passes a point


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL if ``WARROOM_TEST_CRASH_AT`` named this point when
    the process started."""
    if name == _AT:
        os.kill(os.getpid(), signal.SIGKILL)
