"""A post warroom makes exactly once, as recorded in the outbox before it is made."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EffectState(StrEnum):
    PENDING = "pending"  # recorded; the post may or may not exist (a kill, a lost answer)
    POSTED = "posted"  # the post exists (``post_id``); its completion may be unfinished
    DONE = "done"  # recorded where it belongs (status update, card id, …)
    FAILED = "failed"  # Mattermost refused it for good


class Effect(BaseModel):
    """One post to make: where, what, and what its completion records (``data``)."""

    model_config = ConfigDict(frozen=True)

    key: str
    kind: str
    channel_id: str
    message: str
    incident_id: str = ""
    props: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)
    state: EffectState = EffectState.PENDING
    post_id: str = ""
    attempts: int = 0
    created_at: int = 0
