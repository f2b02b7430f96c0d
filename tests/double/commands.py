"""The server's application layer, part 5: slash commands."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode, urlsplit

import aiohttp

from .builtin_commands import BUILTINS, run_builtin
from .errors import MattermostHTTPError, permission_error
from .interactive import InteractiveOps
from .payloads import command_response
from .state import Channel, Command, CommandHook, Team, User
from .texts import parse_command_response
from .util import Json, new_id, new_token, now_ms

HOOK_LIFETIME_MS = 30 * 60 * 1000
HOOK_MAX_USES = 5
_USER_MENTION = re.compile(r"@([a-z0-9][a-z0-9._-]*)", re.IGNORECASE)
_CHANNEL_MENTION = re.compile(r"~([a-z0-9][a-z0-9_-]*)")


def failed(trigger: str, detail: str) -> MattermostHTTPError:
    return MattermostHTTPError(
        500, "api.command.execute_command.failed.app_error", detailed_error=detail, name=trigger
    )


def parse_command_reply(content_type: str, raw: bytes) -> Json:
    """model.CommandResponseFromHTTPBody: JSON when declared, else plain text."""
    if "application/json" in content_type:
        if not raw.strip():
            return {}
        value = json.loads(raw)
        if not isinstance(value, dict):
            raise ValueError("not an object")
        return value
    text = raw.decode("utf-8", "replace")
    return {"text": text} if text else {}


class CommandOps(InteractiveOps):
    # ---- registration ----------------------------------------------------
    def validate_command(self, body: Json) -> None:
        trigger = str(body.get("trigger") or "")
        if not 1 <= len(trigger) <= 128 or trigger.startswith("/") or " " in trigger:
            raise MattermostHTTPError(400, "model.command.is_valid.trigger.app_error")
        url = str(body.get("url") or "")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise MattermostHTTPError(400, "model.command.is_valid.url.app_error")
        if str(body.get("method") or "P") not in ("P", "G"):
            raise MattermostHTTPError(400, "model.command.is_valid.method.app_error")

    def _duplicate(self, team_id: str, trigger: str, except_id: str = "") -> None:
        existing = self.state.command_by_trigger(team_id, trigger)
        if trigger in BUILTINS or (existing is not None and existing.id != except_id):
            raise MattermostHTTPError(400, "api.command.duplicate_trigger.app_error")

    def create_command(self, creator_id: str, body: Json) -> Command:
        self.validate_command(body)
        team_id = str(body.get("team_id") or "")
        if team_id not in self.state.teams:
            raise MattermostHTTPError(400, "model.command.is_valid.team_id.app_error")
        trigger = str(body["trigger"]).lower()
        self._duplicate(team_id, trigger)
        at = now_ms()
        cmd = Command(
            id=new_id(),
            team_id=team_id,
            trigger=trigger,
            url=str(body["url"]),
            token=new_token(),
            creator_id=creator_id,
            create_at=at,
            update_at=at,
        )
        self._copy_fields(cmd, body)
        self.state.commands[cmd.id] = cmd
        return cmd

    @staticmethod
    def _copy_fields(cmd: Command, body: Json) -> None:
        cmd.method = str(body.get("method") or "P")
        cmd.auto_complete = bool(body.get("auto_complete"))
        for name in (
            "auto_complete_desc",
            "auto_complete_hint",
            "display_name",
            "description",
            "icon_url",
            "username",
        ):
            setattr(cmd, name, str(body.get(name) or ""))

    def update_command(self, user: User, command_id: str, body: Json) -> Command:
        cmd = self.state.commands.get(command_id)
        if cmd is None:
            raise MattermostHTTPError(
                404, "app.command.getcommand.app_error", detailed_error=f"command_id={command_id}"
            )
        self.state.require_admin(user, "manage_slash_commands")
        if str(body.get("id") or "") != command_id:
            raise MattermostHTTPError(400, "api.context.invalid_param.app_error", name="id")
        if str(body.get("team_id") or cmd.team_id) != cmd.team_id:
            raise MattermostHTTPError(
                400,
                "api.command.team_mismatch.app_error",
                "Unable to update commands across teams.",
            )
        self.validate_command(body)
        trigger = str(body["trigger"]).lower()
        self._duplicate(cmd.team_id, trigger, except_id=cmd.id)
        cmd.trigger, cmd.url = trigger, str(body["url"])
        self._copy_fields(cmd, body)
        cmd.update_at = now_ms()
        return cmd

    # ---- execution ---------------------------------------------------------
    async def execute_command(
        self, user: User, channel_id: str, command: str, *, team_id: str = "", root_id: str = ""
    ) -> Json:
        channel = self.state.channels.get(channel_id)
        if channel is None or not (user.is_admin or self.state.is_member(user.id, channel.id)):
            raise permission_error(user.id, "use_slash_commands")
        head, _, rest = command.partition(" ")
        head = head.lower()
        if not head.startswith("/"):
            raise MattermostHTTPError(400, "api.command.execute_command.start.app_error")
        trigger, text = head[1:], rest.lstrip(" ")
        if channel.type != "D":
            team_id = channel.team_id
        elif not (user.is_admin or self.state.in_team(user.id, team_id)):
            raise permission_error(user.id, "use_slash_commands")
        if trigger in BUILTINS:
            return run_builtin(self, trigger, user, channel, text, root_id)
        self.state.require_commands_enabled()  # app/command.go tryExecuteCustomCommand
        cmd = self.state.command_by_trigger(team_id, trigger)
        if cmd is None:
            raise MattermostHTTPError(
                404, "api.command.execute_command.not_found.app_error", name=trigger
            )
        return await self.invoke_command(cmd, user, channel, text, root_id=root_id)

    def _command_mentions(self, team_id: str, text: str) -> list[tuple[str, str]]:
        fields: list[tuple[str, str]] = []
        for name in dict.fromkeys(n.lower() for n in _USER_MENTION.findall(text)):
            user = self.state.user_by_name(name)
            if user is not None and self.state.in_team(user.id, team_id):
                fields += [("user_mentions", user.username), ("user_mentions_ids", user.id)]
        for name in dict.fromkeys(_CHANNEL_MENTION.findall(text)):
            channel = self.state.channel_by_name(team_id, name)
            if channel is not None and channel.type == "O":
                fields += [("channel_mentions", name), ("channel_mentions_ids", channel.id)]
        return fields

    async def invoke_command(
        self, cmd: Command, user: User, channel: Channel, text: str, *, root_id: str = ""
    ) -> Json:
        team: Team = self.state.team_of(cmd.team_id)
        client_id, long_id = self.new_trigger(user.id, channel.id, team.id)
        hook = CommandHook(new_id(), user.id, channel.id, team.id, root_id, now_ms(), cmd.id)
        self.state.hooks[hook.id] = hook
        fields = [
            ("token", cmd.token),
            ("team_id", team.id),
            ("team_domain", team.name),
            ("channel_id", channel.id),
            ("channel_name", channel.name),
            ("user_id", user.id),
            ("user_name", user.username),
            ("command", "/" + cmd.trigger),
            ("text", text),
            ("trigger_id", long_id),
            ("response_url", f"{self.public_url()}/hooks/commands/{hook.id}"),
            *self._command_mentions(team.id, text),
        ]
        encoded = urlencode(sorted(fields, key=lambda kv: kv[0]))  # Go's url.Values.Encode
        auth = {"Authorization": "Token " + cmd.token}
        try:
            if cmd.method == "G":
                status, ctype, raw = await self.call_integration(
                    f"{cmd.url}?{encoded}", None, headers=auth, method="GET"
                )
            else:
                status, ctype, raw = await self.call_integration(
                    cmd.url,
                    encoded.encode(),
                    headers=auth,
                    content_type="application/x-www-form-urlencoded",
                )
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise failed(cmd.trigger, f"err={exc!r}") from None
        if status != 200:
            raise failed(cmd.trigger, f"status={status} body={raw[:200]!r}")
        try:
            reply = parse_command_reply(ctype, raw)
        except ValueError as exc:
            raise failed(cmd.trigger, f"err={exc}") from None
        self.handle_command_response(reply, user, channel, icon_url=cmd.icon_url, root_id=root_id)
        return command_response(reply, new_id, trigger_id=client_id)

    def handle_command_response(
        self,
        reply: Json,
        user: User,
        channel: Channel,
        *,
        icon_url: str = "",
        root_id: str = "",
        builtin: bool = False,
    ) -> None:
        extra = reply.get("extra_responses")
        for raw in [reply, *(extra if isinstance(extra, list) else [])]:
            resp = command_response(raw, new_id)
            parse_command_response(resp, self._username_of)
            target = channel
            if resp["channel_id"] and resp["channel_id"] != channel.id:
                other = self.state.channels.get(resp["channel_id"])
                if other is None or not self.state.is_member(user.id, other.id):
                    continue
                target = other
            props: Json = dict(resp["props"] or {})
            if not builtin:
                props["from_webhook"] = "true"
            props["override_icon_url"] = icon_url or resp["icon_url"]
            if resp["attachments"] is not None:
                props["attachments"] = resp["attachments"]
            if resp["type"].startswith("system_"):
                continue
            if resp["response_type"] == "in_channel":
                self.create_post(
                    user,
                    target,
                    resp["text"],
                    props=props,
                    root_id=root_id,
                    post_type=resp["type"],
                    check=False,
                )
            elif resp["response_type"] in ("", "ephemeral") and (
                resp["text"] or resp["attachments"] is not None
            ):
                self.send_ephemeral(
                    user.id,
                    target.id,
                    resp["text"],
                    sender_id=user.id,
                    props=props,
                    root_id=root_id,
                )

    def _username_of(self, user_id: str) -> str | None:
        user = self.state.users.get(user_id)
        return user.username if user is not None else None

    # ---- late replies: POST /hooks/commands/{id} ---------------------------
    def command_hook(self, hook_id: str, content_type: str, raw: bytes) -> None:
        hook = self.state.hooks.get(hook_id)
        if (
            hook is None
            or now_ms() - hook.create_at > HOOK_LIFETIME_MS
            or hook.uses >= HOOK_MAX_USES
        ):
            raise MattermostHTTPError(400, "web.command_webhook.invalid.app_error")
        try:
            reply = parse_command_reply(content_type, raw)
        except ValueError:
            raise MattermostHTTPError(400, "web.command_webhook.parse.app_error") from None
        hook.uses += 1
        cmd = self.state.commands.get(hook.command_id)
        self.handle_command_response(
            reply,
            self.state.user(hook.user_id),
            self.state.channel(hook.channel_id),
            icon_url=cmd.icon_url if cmd else "",
            root_id=hook.root_id,
        )


class Core(CommandOps):
    """The whole application layer of the double."""
