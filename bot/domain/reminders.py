"""A status reminder as a row with a due time and the states that make firing exactly-once."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ReminderState(StrEnum):
    PENDING = "pending"  # waiting for its due time
    FIRING = "firing"  # claimed by the scheduler; its post may or may not exist yet
    POSTED = "posted"  # the reminder post exists (``post_id``)
    CLOSING = "closing"  # its post is being removed
    CLOSED = "closed"  # done: dismissed, replaced by an update, cancelled or given up


class Reminder(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    incident_id: str
    channel_id: str
    due_at: int
    state: ReminderState
    post_id: str = ""
    attempts: int = 0
