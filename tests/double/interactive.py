"""The server's application layer, part 4: trigger ids, dialogs, message actions.

Also the one place the double calls out to an integration over HTTP.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable

import aiohttp

from .channels import ChannelOps
from .dialog_rules import dialog_problems
from .errors import MattermostHTTPError, invalid_body, permission_error
from .payloads import iter_actions, normalise_dialog, normalise_props
from .state import State, Trigger, User
from .texts import parse_ephemeral_text
from .util import Clock, Json, dumps, new_id, now_ms
from .websocket import Hub

ACTION_ID = re.compile(r"^[A-Za-z0-9]+$")
USER_AGENT = "Mattermost-Bot/1.1"

# model/integration_action.go PostActionRetainPropKeys (5.36)
RETAIN_PROP_KEYS = ("from_webhook", "override_username", "override_icon_url")


def action_error(detail: str) -> MattermostHTTPError:
    return MattermostHTTPError(
        400, "api.post.do_action.action_integration.app_error", detailed_error=detail
    )


class InteractiveOps(ChannelOps):
    def __init__(
        self,
        state: State,
        hub: Hub,
        clock: Clock,
        public_url: Callable[[], str],
        trigger_ttl: float,
    ) -> None:
        super().__init__(state, hub, clock, public_url)
        self.trigger_ttl = trigger_ttl
        self.integration_timeout = 30.0
        self.http: aiohttp.ClientSession | None = None
        self._secret = secrets.token_bytes(32)

    # ---- outgoing HTTP ---------------------------------------------------
    async def call_integration(
        self,
        url: str,
        body: bytes | None,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        method: str = "POST",
    ) -> tuple[int, str, bytes]:
        """Send a request to an integration: (status, content type, body).

        Raises :class:`AddressForbidden` (an ``aiohttp.ClientError``) when the server's
        untrusted HTTP client would refuse the address (see ``config.py``)."""
        self.state.config.check_integration_url(url)
        if self.http is None:
            self.http = aiohttp.ClientSession()
        all_headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if body is not None:
            all_headers["Content-Type"] = content_type
        all_headers.update(headers or {})
        timeout = aiohttp.ClientTimeout(total=self.integration_timeout)
        async with self.http.request(
            method, url, data=body, headers=all_headers, timeout=timeout
        ) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), await resp.read()

    # ---- trigger ids -----------------------------------------------------
    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._secret, payload.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def new_trigger(self, user_id: str, channel_id: str, team_id: str) -> tuple[str, str]:
        """(client trigger id, the long trigger id handed to integrations)."""
        client_id = new_id()
        at = now_ms()
        payload = f"{client_id}:{user_id}:{at}"
        long_id = base64.b64encode(f"{payload}:{self._sign(payload)}".encode()).decode()
        self.state.triggers[client_id] = Trigger(client_id, user_id, channel_id, team_id, at)
        return client_id, long_id

    def decode_trigger(self, trigger_id: str) -> Trigger:
        failed = MattermostHTTPError(
            400, "interactive_message.decode_trigger_id.failed", detailed_error="Invalid trigger ID"
        )
        try:
            parts = base64.b64decode(trigger_id, validate=True).decode().split(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise failed from None
        if len(parts) != 4:
            raise failed
        client_id, _user_id, at, signature = parts
        expected = self._sign(f"{client_id}:{_user_id}:{at}")
        record = self.state.triggers.get(client_id)
        if record is None or not hmac.compare_digest(expected, signature):
            raise failed
        if now_ms() - record.create_at > self.trigger_ttl * 1000:
            raise MattermostHTTPError(
                400, "interactive_message.decode_trigger_id.expired", name=f"{self.trigger_ttl:g}"
            )
        return record

    # ---- dialogs ---------------------------------------------------------
    def open_dialog(self, body: object) -> Json:
        if not isinstance(body, dict):
            raise invalid_body("dialog")
        url = body.get("url")
        if not isinstance(url, str) or not url:
            raise invalid_body("url")
        trigger = self.decode_trigger(str(body.get("trigger_id") or ""))
        problems = dialog_problems(body.get("dialog"))
        if problems:  # newer servers only warn; tests fail on any (see scenario harness)
            self.state.dialog_problems.extend(problems)
        payload: Json = {
            "trigger_id": trigger.client_id,
            "url": url,
            "dialog": normalise_dialog(body.get("dialog")),
        }
        self.state.dialogs.setdefault(trigger.user_id, []).append(payload)
        self.state.dialog_context[trigger.client_id] = trigger
        self.hub.emit("open_dialog", {"dialog": dumps(payload)}, user_id=trigger.user_id)
        return {"status": "OK"}

    async def submit_dialog(self, user: User, body: object) -> Json:
        if not isinstance(body, dict):
            raise invalid_body("dialog")
        url = body.get("url")
        if not isinstance(url, str) or not url:
            raise invalid_body("url")
        channel = self.state.channels.get(str(body.get("channel_id") or ""))
        if channel is None or not self.state.holds_channel_role(user, channel):
            # 5.36 api4/integration_action.go: read_channel at channel scope
            raise permission_error(user.id, "read_channel")
        team_id = str(body.get("team_id") or "")
        if channel.type != "D":
            self.state.require_team(user, team_id)
        submission = body.get("submission")
        request = {
            "type": "dialog_submission",
            "callback_id": str(body.get("callback_id") or ""),
            "state": str(body.get("state") or ""),
            "user_id": user.id,
            "channel_id": channel.id,
            "team_id": team_id,
            "submission": submission if isinstance(submission, dict) else {},
            "cancelled": bool(body.get("cancelled")),
        }
        reply = await self._json_call(url, request)
        out: Json = {}
        if isinstance(reply.get("error"), str) and reply["error"]:
            out["error"] = reply["error"]
        if isinstance(reply.get("errors"), dict) and reply["errors"]:
            out["errors"] = reply["errors"]
        return out

    async def _json_call(self, url: str, request: Json) -> Json:
        try:
            status, _ctype, raw = await self.call_integration(url, dumps(request).encode())
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise action_error(f"err={exc!r}") from None
        if status != 200:
            raise action_error(f"status={status}")
        if not raw.strip():
            return {}
        try:
            reply = json.loads(raw)
        except ValueError:
            raise action_error("invalid JSON") from None
        if not isinstance(reply, dict):
            raise action_error("invalid JSON")
        return reply

    # ---- message actions ---------------------------------------------------
    def _cookie_action(self, user: User, post_id: str, cookie: str) -> tuple[Json, Json]:
        try:
            info = json.loads(base64.b64decode(cookie))
        except (ValueError, binascii.Error):
            raise action_error("invalid cookie") from None
        if not isinstance(info, dict) or info.get("post_id") != post_id:
            raise action_error("invalid cookie")
        post = self.find_ephemeral(user.id, post_id)
        if post is None:
            post = {
                "id": post_id,
                "channel_id": info.get("channel_id", ""),
                "root_id": info.get("root_id", ""),
                "props": {},
            }
        action = {
            "type": info.get("type", ""),
            "data_source": info.get("data_source", ""),
            "integration": info.get("integration"),
        }
        return post, action

    async def do_post_action(
        self, user: User, post_id: str, action_id: str, selected_option: str = "", cookie: str = ""
    ) -> Json:
        """POST /posts/{post_id}/actions/{action_id} after the router matched it."""
        ephemeral = self.find_ephemeral(user.id, post_id)
        if cookie:
            post, found = self._cookie_action(user, post_id, cookie)
            ephemeral = ephemeral or post
        else:
            post = ephemeral or self.live_post(post_id) or {}
            found = next(
                (a for a in iter_actions(post.get("props", {})) if a.get("id") == action_id), {}
            )
        channel = self.state.channels.get(str(post.get("channel_id", "")))
        if channel is None or not self.state.holds_channel_role(user, channel):
            # 5.36 api4/integration_action.go: read_channel at channel scope
            raise permission_error(user.id, "read_channel")
        integration = found.get("integration")
        if not isinstance(integration, dict) or not integration.get("url"):
            raise MattermostHTTPError(
                404,
                "api.post.do_action.action_id.app_error",
                detailed_error=f"action={found or None}",
            )
        team = self.state.teams.get(channel.team_id)
        client_id, long_id = self.new_trigger(user.id, channel.id, channel.team_id)
        context = copy.deepcopy(integration.get("context")) or None
        if found.get("type") == "select":
            context = dict(context or {})
            context["selected_option"] = selected_option
        request: Json = {
            "user_id": user.id,
            "user_name": user.username,
            "channel_id": channel.id,
            "channel_name": channel.name,
            "team_id": channel.team_id,
            "team_domain": team.name if team else "",
            "post_id": post_id,
            "trigger_id": long_id,
            "type": found.get("type", ""),
            "data_source": found.get("data_source", ""),
        }
        if context:
            request["context"] = context
        reply = await self._json_call(str(integration["url"]), request)
        update = reply.get("update")
        if isinstance(update, dict):
            self._apply_update(user, post, update, ephemeral=ephemeral is not None)
        text = reply.get("ephemeral_text")
        if isinstance(text, str) and text:
            text = parse_ephemeral_text(text, bool(reply.get("skip_slack_parsing")))
            self.send_ephemeral(
                user.id, channel.id, text, sender_id=user.id, root_id=post.get("root_id") or post_id
            )
        return {"status": "OK", "trigger_id": client_id}

    def _apply_update(self, user: User, post: Json, update: Json, *, ephemeral: bool) -> None:
        # 5.36 app/integration_action.go DoPostActionWithCookie: with new props, the keys of
        # model.PostActionRetainPropKeys keep the original post's value, and are dropped when
        # the original had none (an integration cannot add them); without props, the
        # original props stay whole.
        props = update.get("props")
        if isinstance(props, dict):
            props = {k: v for k, v in props.items() if k not in RETAIN_PROP_KEYS}
            props.update({k: post["props"][k] for k in RETAIN_PROP_KEYS if k in post["props"]})
        else:
            props = post["props"]
        message = str(update.get("message") or "")
        if not ephemeral:
            self.apply_edit(post, message=message, props=props)
            return
        if "message" not in post:  # an ephemeral post this user never received
            return
        post["message"] = message
        post["props"] = normalise_props(props, new_id)
        post["edit_at"] = self.clock.tick()
        self.hub.emit(
            "post_edited",
            {"post": dumps(self.ephemeral_view(post))},
            channel_id=post["channel_id"],
            user_id=user.id,
        )
