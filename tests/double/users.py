"""What a person does in the web app, as async methods of the double."""

from __future__ import annotations

import copy
import json
from typing import Any

from .commands import Core
from .errors import MattermostHTTPError, permission_error
from .interactive import ACTION_ID
from .payloads import iter_actions
from .plumbing import Control
from .routes_posts import _mime as mime_of
from .state import Channel, ClickResult, FileRecord, User
from .util import Json, new_id, now_ms
from .wire import member_json, route_not_found_body


class UserSide:
    """Mixin of `MattermostDouble`: user-side actions through the same code as REST."""

    _core: Core
    _control: Control

    def _user(self, user: User | str) -> User:
        return user if isinstance(user, User) else self._core.state.user(user)

    def _check_up(self) -> None:
        if self._control.outage:
            raise MattermostHTTPError(503, "double.outage")

    async def run_command(
        self,
        user: User | str,
        channel_id: str,
        text: str = "",
        trigger: str = "incident",
        *,
        root_id: str = "",
        team_id: str = "",
    ) -> Json:
        """Type `/<trigger> <text>` in a channel (POST /commands/execute). ``team_id`` is the
        team the web app is showing, which the server uses only in a direct or group channel."""
        self._check_up()
        command = f"/{trigger} {text}" if text else f"/{trigger}"
        return await self._core.execute_command(
            self._user(user), channel_id, command, root_id=root_id, team_id=team_id
        )

    async def submit_dialog(
        self,
        user: User | str,
        dialog_payload: Json,
        submission: dict[str, Any] | None = None,
        cancelled: bool = False,
        channel_id: str | None = None,
        team_id: str | None = None,
    ) -> Json:
        """Submit (or cancel) a dialog the user received (an entry of `dialogs()`).

        As the web app: a cancel of a dialog without `notify_on_cancel` is never sent
        to the integration (returns {}). Returns what the client gets back: {} or
        {"error": ...} / {"errors": {...}} from the integration.
        """
        self._check_up()
        dialog = dialog_payload.get("dialog", dialog_payload)
        context = self._core.state.dialog_context.get(str(dialog_payload.get("trigger_id", "")))
        if channel_id is None:
            channel_id = context.channel_id if context else ""
        if team_id is None:
            channel = self._core.state.channels.get(channel_id)
            team_id = context.team_id if context else (channel.team_id if channel else "")
        if cancelled and not dialog.get("notify_on_cancel"):
            return {}
        body = {
            "url": dialog_payload.get("url", ""),
            "callback_id": dialog.get("callback_id", ""),
            "state": dialog.get("state", ""),
            "channel_id": channel_id,
            "team_id": team_id,
            "submission": {} if cancelled else dict(submission or {}),
            "cancelled": cancelled,
        }
        return await self._core.submit_dialog(self._user(user), body)

    async def click(
        self,
        user: User | str,
        post_id: str,
        action_id: str,
        selected_option: str | None = None,
    ) -> ClickResult:
        """Click a button / choose a menu option: POST /posts/{id}/actions/{action_id}."""
        if self._control.outage:
            return ClickResult(503, MattermostHTTPError(503, "double.outage").body(new_id()))
        if not ACTION_ID.match(post_id) or not ACTION_ID.match(action_id):
            path = f"/api/v4/posts/{post_id}/actions/{action_id}"
            return ClickResult(404, json.loads(route_not_found_body(path)))
        try:
            body = await self._core.do_post_action(
                self._user(user), post_id, action_id, selected_option or ""
            )
        except MattermostHTTPError as err:
            return ClickResult(err.status, err.body(new_id()))
        return ClickResult(200, body)

    async def user_post(
        self,
        user: User | str,
        channel_id: str,
        message: str,
        root_id: str = "",
        *,
        props: Json | None = None,
    ) -> Json:
        self._check_up()
        core = self._core
        post = core.create_post(
            self._user(user), core.state.channel(channel_id), message, props=props, root_id=root_id
        )
        return core.post_view(post)

    async def post_file(
        self, user: User | str, channel_id: str, filename: str, data: bytes, message: str = ""
    ) -> Json:
        """Attach a file to a new post, as the web app does: POST /files, then POST /posts."""
        self._check_up()
        core = self._core
        who = self._user(user)
        channel = core.state.channel(channel_id)
        if not (who.is_admin or core.state.is_member(who.id, channel.id)):
            raise permission_error(who.id, "upload_file")
        rec = FileRecord(new_id(), who.id, channel.id, filename, data, mime_of(filename), now_ms())
        core.state.files[rec.id] = rec
        post = core.create_post(who, channel, message, file_ids=[rec.id])
        return core.post_view(post)

    async def edit_post(self, user: User | str, post_id: str, message: str) -> Json:
        self._check_up()
        return self._core.post_view(
            self._core.patch_post(self._user(user), post_id, {"message": message})
        )

    async def delete_post(self, user: User | str, post_id: str) -> None:
        self._check_up()
        self._core.delete_post(self._user(user), post_id)

    async def react(self, user: User | str, post_id: str, emoji: str) -> Json:
        self._check_up()
        return self._core.react(self._user(user), post_id, emoji)

    async def unreact(self, user: User | str, post_id: str, emoji: str) -> None:
        self._check_up()
        who = self._user(user)
        self._core.unreact(who, who.id, post_id, emoji)

    async def open_direct(self, user: User | str, other: User | str) -> Channel:
        """As the web app opening a direct message: POST /channels/direct (the existing
        direct channel when there is one)."""
        self._check_up()
        who = self._user(user)
        return self._core.direct_channel(who, [who.id, self._user(other).id])

    async def add_to_channel(self, actor: User | str, channel_id: str, user_id: str) -> Json:
        self._check_up()
        channel = self._core.state.channel(channel_id)
        return member_json(self._core.add_member(self._user(actor), channel, user_id))

    async def rename_channel(
        self, actor: User | str, channel_id: str, name: str, display_name: str | None = None
    ) -> None:
        """As the web app's channel settings: PUT /channels/{id}/patch (``channel_updated``)."""
        self._check_up()
        channel = self._core.state.channel(channel_id)
        patch: Json = {"name": name}
        if display_name is not None:
            patch["display_name"] = display_name
        self._core.patch_channel(self._user(actor), channel, patch)

    async def archive_channel(self, actor: User | str, channel_id: str) -> None:
        """DELETE /channels/{id} as ``actor`` (``channel_deleted``)."""
        self._check_up()
        self._core.archive_channel(self._user(actor), self._core.state.channel(channel_id))

    async def convert_channel(self, actor: User | str, channel_id: str, *, private: bool) -> None:
        """PUT /channels/{id}/privacy as ``actor`` (``channel_updated``, ``channel_converted``)."""
        self._check_up()
        channel = self._core.state.channel(channel_id)
        self._core.convert_channel(self._user(actor), channel, private=private)

    async def restore_channel(self, actor: User | str, channel_id: str) -> None:
        """POST /channels/{id}/restore as ``actor`` (``channel_restored``)."""
        self._check_up()
        self._core.restore_channel(self._user(actor), self._core.state.channel(channel_id))

    async def set_active(self, actor: User | str, user: User | str, *, active: bool) -> None:
        """PUT /users/{id}/active as ``actor`` (``user_updated``)."""
        self._check_up()
        target = self._core.state.user(user if isinstance(user, str) else user.id)
        self._core.set_active(self._user(actor), target, active=active)

    async def rename_user(self, actor: User | str, user: User | str, username: str) -> None:
        """PUT /users/{id}/patch {username} as ``actor`` (``user_updated``)."""
        self._check_up()
        target = self._core.state.user(user if isinstance(user, str) else user.id)
        self._core.patch_user(self._user(actor), target, {"username": username})

    async def remove_from_channel(self, actor: User | str, channel_id: str, user_id: str) -> None:
        self._check_up()
        channel = self._core.state.channel(channel_id)
        self._core.remove_member(self._user(actor), channel, user_id)

    # ---- finding buttons ---------------------------------------------------
    def _internal_post(self, post: Json | str) -> Json:
        post_id = post if isinstance(post, str) else str(post.get("id", ""))
        found = self._core.state.posts.get(post_id)
        if found is None:
            found = next(
                (
                    p
                    for ps in self._core.state.ephemerals.values()
                    for p in ps
                    if p["id"] == post_id
                ),
                None,
            )
        if found is None:
            raise LookupError(f"no post {post_id!r}")
        return found

    def actions(self, post: Json | str) -> list[Json]:
        """The attachment actions of a stored (or ephemeral) post, `integration` included."""
        return [copy.deepcopy(a) for a in iter_actions(self._internal_post(post)["props"])]

    def find_action(self, post: Json | str, name_or_id: str) -> Json:
        """The action whose id or label (`name`) is `name_or_id`."""
        actions = self.actions(post)
        for action in actions:
            if name_or_id in (action.get("id"), action.get("name")):
                return action
        labels = [(a.get("id"), a.get("name")) for a in actions]
        raise LookupError(f"no action {name_or_id!r} among {labels}")
