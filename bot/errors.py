"""The closed set of domain errors. They are mapped to user-visible text at the edge only."""

from __future__ import annotations

from dataclasses import dataclass


class WarroomError(Exception):
    """Base of every error warroom expects and answers with a short message."""


@dataclass(eq=False)
class NotFound(WarroomError):
    """Something the user named does not exist (or is not visible to them)."""

    what: str
    name: str = ""


@dataclass(eq=False)
class PermissionDenied(WarroomError):
    """The acting user may not do this. ``reason`` is a key understood by render."""

    reason: str


@dataclass(eq=False)
class InvalidTransition(WarroomError):
    """The incident is not in a state that allows this (e.g. ending an ended incident)."""

    reason: str


@dataclass(eq=False)
class InputError(WarroomError):
    """Bad input. ``field`` names the dialog field or command argument, ``reason`` the key."""

    reason: str
    field: str = ""
    detail: str = ""


@dataclass(eq=False)
class ChatUnavailable(WarroomError):
    """Mattermost could not be reached or failed transiently (429, 5xx, timeout), also
    after the client's own retries: worth trying again later.

    ``retry_after``: seconds Mattermost asked to wait (a 429's ``Retry-After``), if any.
    ``outcome_unknown``: the request may have been acted on (a timeout, a lost answer, a
    500 …); a create must be looked for before it is made again.
    """

    operation: str
    retry_after: float | None = None
    outcome_unknown: bool = False


@dataclass(eq=False)
class Pending(WarroomError):
    """Mattermost's answer was lost or late, so the outcome is not known yet. What warroom
    recorded stands and it finishes the rest by itself (without doing anything twice).
    ``what`` names the operation for render (``start``, ``status_update``)."""

    what: str


class StoreUnavailable(WarroomError):
    """The store cannot be used: it could not be opened (the message says why), it stayed
    locked by another process past its busy timeout, or it cannot be written (disk full, I/O
    error, read-only). Raised by the store adapters in place of their driver's errors; what
    was being written is not kept. A person is told to try again (bot/render/messages.py);
    the API answers 503."""
