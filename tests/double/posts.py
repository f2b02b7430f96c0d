"""The server's application layer, part 1: posts.

Every state change made by a REST route or a user-side helper goes through
these methods, so both paths emit the same websocket events.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from .errors import MattermostHTTPError, permission_error, post_not_found
from .payloads import go_json_runes, normalise_props, strip_integrations
from .state import Channel, State, User
from .texts import Member as TextMember
from .texts import Mentions, find_mentions
from .util import Clock, Json, dumps, new_id
from .websocket import Hub
from .wire import file_info_json, reaction_json

MAX_MESSAGE_RUNES = 16383  # model/post.go POST_MESSAGE_MAX_RUNES_V2 (65535 bytes / 4)
MAX_PROPS_RUNES = 8000  # model/post.go POST_PROPS_MAX_RUNES


def check_props(props: Json, post_id: str) -> None:
    """``Post.IsValid`` (5.36 model/post.go): props as stored, Go-JSON, at most 8,000 runes.

    Measured after ``PreCommit`` re-read the attachments into their structs
    (``normalise_props``) and after ``CreatePost`` added ``from_bot``; the same check runs for
    create (``SqlPostStore.Save``) and for update, patch and an action's ``update``
    (``App.UpdatePost`` → ``SqlPostStore.Update``). Refused with 400.
    """
    if go_json_runes(props) > MAX_PROPS_RUNES:
        raise MattermostHTTPError(
            400, "model.post.is_valid.props.app_error", detailed_error=f"id={post_id}"
        )


# model/channel_mentions.go: ``~name`` not preceded by a word character (Go's ASCII \B).
_CHANNEL_MENTION = re.compile(r"\B~[a-zA-Z0-9\-_]+", re.ASCII)


def channel_mention_names(message: str) -> list[str]:
    """The ``~names`` the server reads in a message, distinct, in order
    (5.36 model/channel_mentions.go ChannelMentions)."""
    found = _CHANNEL_MENTION.findall(message) if "~" in message else []
    return list(dict.fromkeys(m[1:] for m in found))


def fill_in_channel_mentions(state: State, props: Json, message: str, team_id: str) -> None:
    """``App.FillInPostProps`` (5.36 app/post.go): for every ``~name`` in the *message* (not
    in attachments) that names a live public channel of the post's team, props get
    ``channel_mentions[name] = {display_name, team_name}``; without any, the key is removed.

    Runs on create and on every update, patch and pin (``UpdatePost`` calls it on the
    received post, whose props map the stored post shares), before the 8,000-rune props
    check, so these runes count towards the limit.
    """
    found: Json = {}
    for name in channel_mention_names(message):
        channel = state.channel_by_name(team_id, name) if team_id else None
        if channel is not None and channel.type == "O" and not channel.delete_at:
            team = state.teams.get(channel.team_id)
            found[name] = {
                "display_name": channel.display_name,
                "team_name": team.name if team else "",
            }
    if found:
        props["channel_mentions"] = found
    else:
        props.pop("channel_mentions", None)


_IN_ARCHIVED = {
    "edit_post": "api.post.update_post.can_not_update_post_in_deleted.error",
    "delete_post": "api.post.delete_post.can_not_delete_post_in_deleted.error",
}


class PostOps:
    """Posts: create, views (integration stripped), edit, delete, pin."""

    def __init__(self, state: State, hub: Hub, clock: Clock, public_url: Callable[[], str]) -> None:
        self.state = state
        self.hub = hub
        self.clock = clock
        self.public_url = public_url

    # ---- views -----------------------------------------------------------
    def reply_count(self, post: Json) -> int:
        root = post["root_id"] or post["id"]
        return sum(1 for p in self.state.replies.get(root, ()) if not p["delete_at"])

    def post_view(self, post: Json, *, strip: bool = True, ephemeral: bool = False) -> Json:
        props: Json = strip_integrations(post["props"]) if strip else copy.deepcopy(post["props"])
        metadata: Json = {}
        if not ephemeral:
            if props.get("attachments"):
                metadata["embeds"] = [{"type": "message_attachment"}]
            files = [self.state.files[f] for f in post["file_ids"] if f in self.state.files]
            if files:
                metadata["files"] = [file_info_json(f, with_post=True) for f in files]
            reactions = self.state.reactions.get(post["id"], [])
            if reactions:
                metadata["reactions"] = [reaction_json(r) for r in reactions]
        out: Json = {
            "id": post["id"],
            "create_at": post["create_at"],
            "update_at": post["update_at"],
            "edit_at": post["edit_at"],
            "delete_at": post["delete_at"],
            "is_pinned": post["is_pinned"],
            "user_id": post["user_id"],
            "channel_id": post["channel_id"],
            "root_id": post["root_id"],
            "parent_id": post["root_id"],
            "original_id": "",
            "message": post["message"],
            "type": post["type"],
            "props": props,
            "hashtags": "",
            "pending_post_id": post["pending_post_id"],
        }
        if post["file_ids"]:
            out["file_ids"] = list(post["file_ids"])
        if self.state.reactions.get(post["id"]):
            out["has_reactions"] = True
        out["reply_count"] = 0 if ephemeral else self.reply_count(post)
        out["last_reply_at"] = 0
        out["participants"] = None
        out["is_following"] = False
        out["metadata"] = metadata
        return out

    def full_post(self, post: Json) -> Json:
        """A stored post as a test sees it: wire shape, integration kept."""
        return self.post_view(post, strip=False)

    def live_post(self, post_id: str) -> Json | None:
        post = self.state.posts.get(post_id)
        return post if post is not None and not post["delete_at"] else None

    # ---- creating --------------------------------------------------------
    def create_post(
        self,
        user: User,
        channel: Channel,
        message: str,
        *,
        props: Any = None,
        root_id: str = "",
        file_ids: list[str] | None = None,
        post_type: str = "",
        pending_post_id: str = "",
        check: bool = True,
    ) -> Json:
        if check and not self.state.can_post(user, channel):
            raise permission_error(user.id, "create_post")
        if check and channel.delete_at:
            # 5.36 app/post.go CreatePostAsUser: no post in an archived channel, by anyone.
            raise MattermostHTTPError(400, "api.post.create_post.can_not_post_to_deleted.error")
        if len(message) > MAX_MESSAGE_RUNES:
            raise MattermostHTTPError(
                400, "model.post.is_valid.msg.app_error", detailed_error=f"id={root_id}"
            )
        if root_id:
            root = self.live_post(root_id)
            if root is None or root["channel_id"] != channel.id or root["root_id"]:
                raise MattermostHTTPError(
                    400,
                    "api.post.create_post.root_id.app_error",
                    detailed_error=f"post_root_id={root_id}",
                )
        stored_props = normalise_props(props, new_id)
        if user.is_bot:
            stored_props["from_bot"] = "true"
        fill_in_channel_mentions(self.state, stored_props, message, channel.team_id)
        post_id = new_id()
        check_props(stored_props, post_id)
        at = self.clock.tick()
        post: Json = {
            "id": post_id,
            "create_at": at,
            "update_at": at,
            "edit_at": 0,
            "delete_at": 0,
            "is_pinned": False,
            "user_id": user.id,
            "channel_id": channel.id,
            "root_id": root_id,
            "message": message,
            "type": post_type,
            "props": stored_props,
            "pending_post_id": pending_post_id,
            "file_ids": [],
        }
        for fid in file_ids or []:
            rec = self.state.files.get(fid)
            if rec is not None and rec.user_id == user.id and not rec.post_id:
                rec.post_id = post["id"]
                post["file_ids"].append(fid)
        self.state.add_post(post)
        channel.last_post_at = at
        if not post_type.startswith("system_"):
            channel.total_msg_count += 1
            member = self.state.members.get(channel.id, {}).get(user.id)
            if member is not None:
                member.msg_count = channel.total_msg_count
                member.last_viewed_at = member.last_update_at = at
        self._emit_posted(post, user, channel)
        return post

    def system_post(
        self, actor: User, channel: Channel, post_type: str, message: str, props: Json
    ) -> Json:
        return self.create_post(
            actor, channel, message, props=props, post_type=post_type, check=False
        )

    def _mentions(self, post: Json, sender: User, channel: Channel) -> list[str]:
        """Who the new post notifies (app/notification.go SendNotifications; see texts.py).

        Recorded per post in ``state.notified`` so that tests can assert who was notified and
        whether @channel, @all or @here fired. Channel mentions are allowed to everyone (the
        double has no permission schemes); "online" means having a websocket connected.
        """
        if post["type"].startswith("system_"):
            self.state.notified[post["id"]] = Mentions()
            return []
        if channel.type == "D":
            found = Mentions()
            found.user_ids = self.state.member_ids(channel.id) - {sender.id}
            if post["props"].get("from_webhook") == "true":
                found.user_ids.add(sender.id)
        else:
            online = self.hub.connected_users()
            members = [
                TextMember(u.id, u.username, u.id in online)
                for u in (self.state.users.get(i) for i in self.state.member_ids(channel.id))
                if u is not None
            ]
            found = find_mentions(
                post["message"],
                post["props"],
                members=members,
                sender_id="" if post["props"].get("from_webhook") == "true" else sender.id,
                allow_channel_mentions=True,
            )
        self.state.notified[post["id"]] = found
        return sorted(found.user_ids)

    def _emit_posted(self, post: Json, sender: User, channel: Channel) -> None:
        display = channel.display_name
        if channel.type == "D":
            display = "@" + sender.username
        data: Json = {
            "channel_display_name": display,
            "channel_name": channel.name,
            "channel_type": channel.type,
            "post": dumps(self.post_view(post)),
            "sender_name": "@" + sender.username,
            "set_online": True,
            "team_id": channel.team_id,
        }
        mentions = self._mentions(post, sender, channel)
        if mentions:
            data["mentions"] = dumps(mentions)
        self.hub.emit("posted", data, channel_id=channel.id)

    # ---- editing ---------------------------------------------------------
    def _editable(self, user: User, post_id: str, permission: str) -> Json:
        post = self.live_post(post_id)
        if post is None:
            raise permission_error(user.id, permission)
        channel = self.state.channel(post["channel_id"])
        # 5.36 api4/post.go patchPost/updatePost/deletePost: edit_post and delete_post are
        # channel-scoped (state.holds_channel_role): a post of one's own in a public channel
        # one has not joined (recorded fact 7) can be made but not edited nor deleted.
        if not self.state.holds_channel_role(user, channel):
            raise permission_error(user.id, permission)
        if post["user_id"] != user.id and not user.is_admin:
            raise permission_error(user.id, permission.replace("_post", "_others_posts"))
        if channel.delete_at:
            # 5.36 app/post.go UpdatePost / PatchPost / DeletePost refuse in archived channels.
            raise MattermostHTTPError(400, _IN_ARCHIVED[permission])
        return post

    def apply_edit(
        self, post: Json, *, message: str | None, props: Any = None, edited: bool = True
    ) -> Json:
        if message is not None and len(message) > MAX_MESSAGE_RUNES:
            raise MattermostHTTPError(
                400, "model.post.is_valid.msg.app_error", detailed_error=f"id={post['id']}"
            )
        new_props = (
            normalise_props(props, new_id) if props is not None else copy.deepcopy(post["props"])
        )
        channel = self.state.channels.get(post["channel_id"])
        fill_in_channel_mentions(
            self.state,
            new_props,
            post["message"] if message is None else message,
            channel.team_id if channel else "",
        )
        check_props(new_props, post["id"])
        if message is not None:
            post["message"] = message
        post["props"] = new_props
        at = self.clock.tick()
        post["update_at"] = at
        if edited:
            post["edit_at"] = at
        self.hub.emit(
            "post_edited", {"post": dumps(self.post_view(post))}, channel_id=post["channel_id"]
        )
        return post

    def update_post(
        self, user: User, post_id: str, message: str, props: Any, *, pinned: bool = False
    ) -> Json:
        """PUT /posts/{id}: message, props and pinned state replaced by what is sent (5.36
        app/post.go UpdatePost with safeUpdate false copies ``is_pinned`` from the request,
        so a PUT without it unpins the post); file ids are kept (api4/post.go updatePost)."""
        post = self._editable(user, post_id, "edit_post")
        post["is_pinned"] = pinned
        return self.apply_edit(post, message=message, props=props if props is not None else {})

    def patch_post(self, user: User, post_id: str, patch: Json) -> Json:
        post = self._editable(user, post_id, "edit_post")
        if "is_pinned" in patch and patch["is_pinned"] is not None:
            post["is_pinned"] = bool(patch["is_pinned"])
        if "file_ids" in patch and isinstance(patch["file_ids"], list):
            post["file_ids"] = [f for f in patch["file_ids"] if f in self.state.files]
        return self.apply_edit(post, message=patch.get("message"), props=patch.get("props"))

    def delete_post(self, user: User, post_id: str) -> None:
        post = self._editable(user, post_id, "delete_post")
        before = self.post_view(post)
        at = self.clock.tick()
        for p in [post, *self.state.replies.get(post["id"], ())]:
            p["delete_at"] = p["update_at"] = at
        self.hub.emit("post_deleted", {"post": dumps(before)}, channel_id=post["channel_id"])

    def set_pinned(self, user: User, post_id: str, pinned: bool) -> None:
        """POST /posts/{id}/pin|unpin (5.36 api4/post.go saveIsPinnedPost): ``read_channel``
        at channel scope (members and system admins only, even in a public channel), then
        App.PatchPost, which refuses a post in an archived channel with 400."""
        post = self.live_post(post_id)
        channel = self.state.channels.get(post["channel_id"]) if post else None
        if post is None or channel is None or not self.state.holds_channel_role(user, channel):
            raise permission_error(user.id, "read_channel")
        if channel.delete_at:
            raise MattermostHTTPError(
                400, "api.post.patch_post.can_not_update_post_in_deleted.error"
            )
        post["is_pinned"] = pinned
        self.apply_edit(post, message=None, edited=False)

    def get_post(self, user: User, post_id: str) -> Json:
        post = self.live_post(post_id)
        if post is None:
            raise post_not_found(post_id)
        self.state.require_read(user, self.state.channel(post["channel_id"]))
        return post
