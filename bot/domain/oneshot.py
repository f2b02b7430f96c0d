"""A dialog's one-shot nonce: a value the services pass along and the store spends."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OneShot:
    """A dialog's one-shot nonce, spent in the transaction of the change it authorises."""

    nonce: str
    expires_at: int  # epoch ms
