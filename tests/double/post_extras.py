"""The server's application layer, part 2: ephemeral posts and reactions."""

from __future__ import annotations

import base64
import re
from typing import Any

from .errors import MattermostHTTPError, permission_error
from .payloads import iter_actions, normalise_props
from .posts import PostOps
from .state import Reaction, User
from .util import Json, dumps, new_id
from .wire import reaction_json

_EMOJI = re.compile(r"^[a-zA-Z0-9_+-]{1,64}$")


class PostExtraOps(PostOps):
    """Ephemeral posts (never stored in a channel) and reactions."""

    # ---- ephemeral -------------------------------------------------------
    def send_ephemeral(
        self,
        target_id: str,
        channel_id: str,
        message: str,
        *,
        sender_id: str,
        props: Any = None,
        root_id: str = "",
    ) -> Json:
        post: Json = {
            "id": new_id(),
            "create_at": self.clock.tick(),
            "update_at": 0,
            "edit_at": 0,
            "delete_at": 0,
            "is_pinned": False,
            "user_id": sender_id,
            "channel_id": channel_id,
            "root_id": root_id,
            "message": message,
            "type": "system_ephemeral",
            "props": normalise_props(props, new_id),
            "pending_post_id": "",
            "file_ids": [],
        }
        self.state.ephemerals.setdefault(target_id, []).append(post)
        self.hub.emit(
            "ephemeral_message",
            {"post": dumps(self.ephemeral_view(post))},
            channel_id=channel_id,
            user_id=target_id,
        )
        return post

    def ephemeral_view(self, post: Json) -> Json:
        """Buttons of an ephemeral post carry a `cookie` instead of `integration`."""
        view = self.post_view(post, strip=False, ephemeral=True)
        for action in iter_actions(view["props"]):
            integration = action.pop("integration", None)
            if integration:
                cookie = {
                    "type": action.get("type", ""),
                    "data_source": action.get("data_source", ""),
                    "post_id": post["id"],
                    "channel_id": post["channel_id"],
                    "root_id": post["root_id"],
                    "integration": integration,
                }
                action["cookie"] = base64.b64encode(dumps(cookie).encode()).decode()
        return view

    def find_ephemeral(self, user_id: str, post_id: str) -> Json | None:
        return next((p for p in self.state.ephemerals.get(user_id, []) if p["id"] == post_id), None)

    # ---- reactions -------------------------------------------------------
    def react(self, user: User, post_id: str, emoji: str) -> Json:
        if not _EMOJI.match(emoji):
            raise MattermostHTTPError(
                400,
                "model.reaction.is_valid.emoji_name.app_error",
                detailed_error=f"emoji_name={emoji}",
            )
        post = self.live_post(post_id)
        channel = self.state.channels.get(post["channel_id"]) if post else None
        if post is None or channel is None or not self.state.holds_channel_role(user, channel):
            raise permission_error(user.id, "add_reaction")
        if channel.delete_at:  # 5.36 app/reaction.go SaveReactionForPost
            raise MattermostHTTPError(403, "api.reaction.save.archived_channel.app_error")
        existing = self.state.reactions.setdefault(post_id, [])
        for r in existing:
            if r.user_id == user.id and r.emoji_name == emoji:
                return reaction_json(r)
        reaction = Reaction(user.id, post_id, emoji, self.clock.tick())
        existing.append(reaction)
        post["update_at"] = reaction.create_at
        data = {"reaction": dumps(reaction_json(reaction))}
        self.hub.emit("reaction_added", data, channel_id=channel.id)
        return reaction_json(reaction)

    def unreact(self, user: User, user_id: str, post_id: str, emoji: str) -> None:
        if user_id != user.id and not user.is_admin:
            raise permission_error(user.id, "remove_others_reactions")
        post = self.live_post(post_id)
        channel = self.state.channels.get(post["channel_id"]) if post else None
        # 5.36 api4/reaction.go deleteReaction: remove_reaction is channel-scoped; then
        # app/reaction.go DeleteReactionForPost refuses in an archived channel.
        if post is None or channel is None or not self.state.holds_channel_role(user, channel):
            raise permission_error(user.id, "remove_reaction")
        if channel.delete_at:
            raise MattermostHTTPError(403, "api.reaction.delete.archived_channel.app_error")
        existing = self.state.reactions.get(post_id, [])
        match = [r for r in existing if r.user_id == user_id and r.emoji_name == emoji]
        if not match:
            return
        existing.remove(match[0])
        at = self.clock.tick()
        post["update_at"] = at
        data = {"reaction": dumps(reaction_json(match[0], removed_at=at))}
        self.hub.emit("reaction_removed", data, channel_id=channel.id)
