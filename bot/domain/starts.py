"""A start in progress: the intent of a start, recorded before its channel is created."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class StartState(StrEnum):
    CREATING = "creating"  # the channel may or may not exist (looked up by ``channel_name``)
    CREATED = "created"  # the incident is saved; its set-up (members, posts, telling) may not be
    DONE = "done"
    FAILED = "failed"  # Mattermost refused the channel


class StartRecord(BaseModel):
    """One start: ``id`` is the incident's id; ``request`` the StartRequest as JSON."""

    model_config = ConfigDict(frozen=True)

    id: str
    team_id: str
    channel_name: str
    state: StartState
    request: str
    steps: list[str] = Field(default_factory=list)
    created_at: int
