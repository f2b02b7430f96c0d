"""A status update of an incident, with the posts that carry it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StatusUpdate(BaseModel):
    """One update: its post in the incident channel and, if broadcast, the copy's post;
    ``reminder_seconds`` until the next reminder (0: none); times in epoch ms."""

    model_config = ConfigDict(frozen=True)

    id: int
    incident_id: str
    author_id: str
    message: str
    post_id: str
    broadcast_post_id: str = ""
    reminder_seconds: int = 0
    created_at: int
    deleted_at: int | None = None
