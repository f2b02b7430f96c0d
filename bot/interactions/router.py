"""Buttons and dialogs: validated requests, verified tokens, routed by the signed action."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field

from bot.domain.oneshot import OneShot
from bot.domain.signing import BadSignature, Claims
from bot.errors import InputError, WarroomError
from bot.log import get_logger
from bot.render import messages
from bot.services.container import Services

log = get_logger(__name__)
ID = r"^[a-z0-9]{26}$"


class ActionRequest(BaseModel):
    """What Mattermost POSTs when someone clicks a button or picks from a menu."""

    model_config = ConfigDict(extra="ignore", str_max_length=8192)

    user_id: str = Field(pattern=ID)
    user_name: str = ""
    channel_id: str = Field(pattern=ID)
    channel_name: str = ""
    team_id: str = ""
    team_domain: str = ""
    post_id: str = Field(pattern=ID)
    trigger_id: str = ""
    type: str = ""
    data_source: str = ""
    context: dict[str, Any] = Field(default_factory=dict)

    @property
    def selected_option(self) -> str:
        value = self.context.get("selected_option", "")
        return value if isinstance(value, str) else ""


class DialogSubmission(BaseModel):
    """What Mattermost POSTs when someone submits (or cancels) a dialog."""

    model_config = ConfigDict(extra="ignore", str_max_length=16384)

    type: str = ""
    callback_id: str = Field(max_length=64)
    state: str = ""
    user_id: str = Field(pattern=ID)
    channel_id: str = ""
    team_id: str = ""
    submission: dict[str, Any] = Field(default_factory=dict)
    cancelled: bool = False

    def text(self, name: str) -> str:
        value = self.submission.get(name)
        if value is None:
            return ""
        return str(value).strip()


@dataclass
class ActionResponse:
    """A button's answer: an ``ephemeral_text`` for the clicker and/or an ``update`` of the post.

    ``skip_slack_parsing`` is always set: without it Mattermost 5.36 rewrites Slack-style
    links (``<target|label>``) in ``ephemeral_text`` (app/integration_action.go,
    DoPostActionWithCookie). An ``update`` is never Slack-parsed.
    """

    ephemeral_text: str = ""
    update: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"skip_slack_parsing": True}
        if self.ephemeral_text:
            body["ephemeral_text"] = self.ephemeral_text
        if self.update is not None:
            body["update"] = self.update
        return body


@dataclass
class DialogResponse:
    errors: dict[str, str] = field(default_factory=dict)
    error: str = ""
    # The handler's change spent the dialog's nonce in its own (committed) transaction
    # (``one_shot``): the router need not look it up again. Not sent to Mattermost.
    spent: bool = False

    def to_json(self) -> dict[str, Any]:
        if self.errors:
            return {"errors": self.errors}
        if self.error:
            return {"error": self.error}
        return {}


def one_shot(claims: Claims) -> OneShot | None:
    """The dialog's nonce, for the service to spend in the transaction of its change."""
    return OneShot(claims.n, claims.x) if claims.n else None


ActionHandler = Callable[[Services, ActionRequest, Claims], Awaitable[ActionResponse]]
DialogHandler = Callable[[Services, DialogSubmission, Claims], Awaitable[DialogResponse]]


class InteractionRouter:
    def __init__(self) -> None:
        self.actions: dict[str, ActionHandler] = {}
        self.dialogs: dict[str, DialogHandler] = {}
        self._nonce_locks: dict[str, asyncio.Lock] = {}

    def action(self, name: str, handler: ActionHandler) -> None:
        self.actions[name] = handler

    def dialog(self, callback_id: str, handler: DialogHandler) -> None:
        self.dialogs[callback_id] = handler

    async def handle_action(self, svc: Services, req: ActionRequest) -> ActionResponse:
        try:
            claims = svc.signer.open(
                req.context.get("token"), user_id=req.user_id, now=svc.clock.now_ms()
            )
        except BadSignature as exc:
            log.warning("action_rejected", reason=str(exc), user_id=req.user_id)
            return ActionResponse(ephemeral_text=messages.bad_callback())
        # Verified: the edge labels its metrics with it, every later log line carries them.
        structlog.contextvars.bind_contextvars(action=claims.a, incident_id=claims.i or None)
        handler = self.actions.get(claims.a)
        if handler is None:
            log.warning("action_unknown", action=claims.a)
            return ActionResponse(ephemeral_text=messages.bad_callback())
        if claims.n and not await svc.nonces.consume(
            claims.n, expires_at=claims.x, now=svc.clock.now_ms()
        ):
            return ActionResponse(ephemeral_text=messages.bad_callback())
        try:
            response = await handler(svc, req, claims)
        except WarroomError as exc:
            log.info("action_refused", action=claims.a, detail=repr(exc))
            return ActionResponse(ephemeral_text=messages.error_text(exc))
        except Exception:
            log.exception("action_failed", action=claims.a)
            return ActionResponse(ephemeral_text=messages.unexpected_error())
        log.info("action_handled", action=claims.a, incident_id=claims.i)
        return response

    async def handle_dialog(self, svc: Services, sub: DialogSubmission) -> DialogResponse:
        if sub.cancelled:
            return DialogResponse()
        now = svc.clock.now_ms()
        try:
            claims = svc.signer.verify(
                sub.state, action=sub.callback_id, user_id=sub.user_id, now=now
            )
        except BadSignature as exc:
            log.warning("dialog_rejected", reason=str(exc), user_id=sub.user_id)
            return DialogResponse(error=messages.field_error("stale_dialog"))
        structlog.contextvars.bind_contextvars(dialog=claims.a, incident_id=claims.i or None)
        handler = self.dialogs.get(claims.a)
        if handler is None:
            return DialogResponse(error=messages.field_error("stale_dialog"))
        if not claims.n:
            return await self._run_dialog(handler, svc, sub, claims)
        # One-shot dialogs: a submission with field errors may be corrected and sent again,
        # so the nonce is spent only on success; the lock makes a double submit see it spent.
        # Handlers that change something spend it in the transaction of the change
        # (``one_shot``); for the others it is spent here, after they succeeded.
        if len(self._nonce_locks) > 1000:
            self._nonce_locks = {k: v for k, v in self._nonce_locks.items() if v.locked()}
        async with self._nonce_locks.setdefault(claims.n, asyncio.Lock()):
            if await svc.nonces.is_used(claims.n):
                log.warning("dialog_replayed", callback_id=sub.callback_id)
                return DialogResponse(error=messages.field_error("stale_dialog"))
            response = await self._run_dialog(handler, svc, sub, claims)
            # Most handlers spent it with their change already: one read, no write then, and
            # not even the read when the handler says so (``DialogResponse.spent``).
            succeeded = not response.errors and not response.error
            if succeeded and not response.spent and not await svc.nonces.is_used(claims.n):
                await svc.nonces.consume(claims.n, expires_at=claims.x, now=now)
            return response

    async def _run_dialog(
        self, handler: DialogHandler, svc: Services, sub: DialogSubmission, claims: Claims
    ) -> DialogResponse:
        try:
            response = await handler(svc, sub, claims)
        except InputError as exc:
            if exc.field and exc.field in sub.submission:
                return DialogResponse(errors={exc.field: messages.field_error(exc.reason)})
            return DialogResponse(error=messages.error_text(exc))
        except WarroomError as exc:
            return DialogResponse(error=messages.error_text(exc))
        except Exception:
            log.exception("dialog_failed", callback_id=sub.callback_id)
            return DialogResponse(error=messages.unexpected_error())
        log.info("dialog_handled", callback_id=sub.callback_id, incident_id=claims.i)
        return response
