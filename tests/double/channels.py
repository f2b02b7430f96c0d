"""The server's application layer, part 3: channels and memberships."""

from __future__ import annotations

import re

from .errors import (
    MattermostHTTPError,
    channel_member_missing,
    permission_error,
    team_member_missing,
    user_not_found,
)
from .post_extras import PostExtraOps
from .state import Channel, Member, User
from .util import Json, dumps, new_id, sanitize_unicode
from .wire import channel_json, user_json

# model.IsValidChannelIdentifier on 5.36: lowercase, starts and ends alphanumeric, 2..64.
_CHANNEL_NAME = re.compile(r"^[a-z0-9]+([a-z\-_0-9]+|(__)?)[a-z0-9]+$")


_ID = re.compile(r"^[a-z0-9]{26}$")  # model.IsValidId


def valid_channel_name(name: str) -> bool:
    return 2 <= len(name) <= 64 and _CHANNEL_NAME.match(name) is not None


class ChannelOps(PostExtraOps):
    def new_channel(
        self,
        team_id: str,
        name: str,
        display_name: str,
        channel_type: str,
        *,
        creator_id: str = "",
        header: str = "",
        purpose: str = "",
    ) -> Channel:
        at = self.clock.now()
        channel = Channel(
            id=new_id(),
            team_id=team_id,
            name=name,
            display_name=display_name,
            type=channel_type,
            header=header,
            purpose=purpose,
            creator_id=creator_id,
            create_at=at,
            update_at=at,
        )
        self.state.channels[channel.id] = channel
        self.state.members[channel.id] = {}
        return channel

    def put_member(self, channel: Channel, user_id: str, *, admin: bool = False) -> Member:
        at = self.clock.now()
        member = Member(
            channel_id=channel.id,
            user_id=user_id,
            roles="channel_user channel_admin" if admin else "channel_user",
            last_update_at=at,
        )
        self.state.members.setdefault(channel.id, {})[user_id] = member
        return member

    @staticmethod
    def validate_channel(name: str, display_name: str, header: str, purpose: str) -> None:
        if not display_name or len(display_name) > 64:
            raise MattermostHTTPError(400, "model.channel.is_valid.display_name.app_error")
        if not valid_channel_name(name):
            raise MattermostHTTPError(400, "model.channel.is_valid.2_or_more.app_error")
        # Channel.IsValid (5.36 model/channel.go): "<id>__<id>" is kept for direct channels.
        halves = name.split("__")
        if len(halves) == 2 and all(_ID.match(h) for h in halves):
            raise MattermostHTTPError(400, "model.channel.is_valid.name.app_error")
        if len(header) > 1024:
            raise MattermostHTTPError(400, "model.channel.is_valid.header.app_error")
        if len(purpose) > 250:
            raise MattermostHTTPError(400, "model.channel.is_valid.purpose.app_error")

    def _clash(self, team_id: str, name: str) -> None:
        existing = self.state.channel_by_name(team_id, name)
        if existing is not None:
            raise MattermostHTTPError(
                400,
                "store.sql_channel.save_channel.exists.app_error",
                detailed_error=(
                    f"Channelexists id={existing.id} pq: duplicate key value violates "
                    'unique constraint "channels_name_teamid_key"'
                ),
            )

    def create_channel(self, user: User, body: Json) -> Channel:
        channel_type = str(body.get("type") or "")
        team_id = str(body.get("team_id") or "")
        if channel_type in ("O", "P"):
            perm = "create_public_channel" if channel_type == "O" else "create_private_channel"
            self.state.require_team(user, team_id, perm)
        # Channel.PreSave (5.36 model/channel.go) sanitizes both names before IsValid.
        name = sanitize_unicode(str(body.get("name") or ""))
        display_name = sanitize_unicode(str(body.get("display_name") or ""))
        header = str(body.get("header") or "")
        purpose = str(body.get("purpose") or "")
        self.validate_channel(name, display_name, header, purpose)
        if channel_type not in ("O", "P"):
            raise MattermostHTTPError(400, "model.channel.is_valid.type.app_error")
        self.state.team_of(team_id)
        self._clash(team_id, name)
        channel = self.new_channel(
            team_id,
            name,
            display_name,
            channel_type,
            creator_id=user.id,
            header=header,
            purpose=purpose,
        )
        self.put_member(channel, user.id, admin=True)
        self.system_post(
            user,
            channel,
            "system_join_channel",
            f"{user.username} joined the channel.",
            {"username": user.username},
        )
        self.hub.emit(
            "channel_created", {"channel_id": channel.id, "team_id": team_id}, user_id=user.id
        )
        return channel

    def patch_channel(self, user: User, channel: Channel, patch: Json) -> Channel:
        if not self.state.can_manage(user, channel):
            kind = "public" if channel.type == "O" else "private"
            raise permission_error(user.id, f"manage_{kind}_channel_properties")
        name = patch.get("name")
        display_name = patch.get("display_name")
        header = patch.get("header")
        purpose = patch.get("purpose")
        # Channel.PreUpdate (5.36 model/channel.go) sanitizes both names again.
        new_name = sanitize_unicode(str(name)) if name is not None else channel.name
        new_display = (
            sanitize_unicode(str(display_name))
            if display_name is not None
            else channel.display_name
        )
        new_header = str(header) if header is not None else channel.header
        new_purpose = str(purpose) if purpose is not None else channel.purpose
        if channel.type != "D":
            self.validate_channel(new_name, new_display, new_header, new_purpose)
            if new_name != channel.name:
                self._clash(channel.team_id, new_name)
        old = (channel.display_name, channel.header, channel.purpose)
        channel.name, channel.display_name = new_name, new_display
        channel.header, channel.purpose = new_header, new_purpose
        channel.update_at = self.clock.now()
        self.hub.emit(
            "channel_updated", {"channel": dumps(channel_json(channel))}, channel_id=channel.id
        )
        for kind, before, after in (
            ("header", old[1], new_header),
            ("purpose", old[2], new_purpose),
            ("displayname", old[0], new_display),
        ):
            if before != after:
                self._change_post(user, channel, kind, before, after)
        return channel

    def archive_channel(self, user: User, channel: Channel) -> None:
        """DELETE /channels/{id} (5.36 ``api4/channel.go`` deleteChannel, ``app/channel.go``
        DeleteChannel): channel members may archive (``channel_user`` holds
        ``delete_public_channel``/``delete_private_channel`` after the 5.x permission migration
        that moves them from ``team_user``, ``app/permissions_migrations.go``); a system post,
        then
        ``channel_deleted`` {channel_id, delete_at} to the team. Members stay members."""
        if channel.type not in ("O", "P"):
            raise MattermostHTTPError(400, "api.channel.delete_channel.type.invalid")
        if not self.state.can_manage(user, channel):
            kind = "public" if channel.type == "O" else "private"
            raise permission_error(user.id, f"delete_{kind}_channel")
        if channel.delete_at:
            raise MattermostHTTPError(400, "api.channel.delete_channel.deleted.app_error")
        if channel.name == "town-square":
            raise MattermostHTTPError(400, "api.channel.delete_channel.cannot.app_error")
        self.system_post(
            user,
            channel,
            "system_channel_deleted",
            f"{user.username} archived the channel",
            {"username": user.username},
        )
        channel.delete_at = channel.update_at = self.clock.now()
        self.hub.emit(
            "channel_deleted",
            {"channel_id": channel.id, "delete_at": channel.delete_at},
            team_id=channel.team_id,
        )

    def convert_channel(self, user: User, channel: Channel, *, private: bool) -> Channel:
        """PUT /channels/{id}/privacy (5.36 ``api4/channel.go`` updateChannelPrivacy,
        ``app/channel.go`` UpdateChannelPrivacy): ``convert_*`` permissions, which the 5.x
        migration gives to holders of ``manage_team`` (system admins here); the channel is
        updated (``channel_updated`` with the new ``type``), a system post, then
        ``channel_converted`` {channel_id} to the team."""
        kind = "public_channel_to_private" if private else "private_channel_to_public"
        self.state.require_admin(user, f"convert_{kind}")
        if channel.name == "town-square" and private:
            raise MattermostHTTPError(
                400, "api.channel.update_channel_privacy.default_channel_error"
            )
        channel.type = "P" if private else "O"
        channel.update_at = self.clock.now()
        self.hub.emit(
            "channel_updated", {"channel": dumps(channel_json(channel))}, channel_id=channel.id
        )
        text = (
            "This channel has been converted to a Private Channel."
            if private
            else "This channel has been converted to a Public Channel and can be joined by any"
            " team member."
        )
        self.system_post(
            user, channel, "system_change_chan_privacy", text, {"username": user.username}
        )
        self.hub.emit("channel_converted", {"channel_id": channel.id}, team_id=channel.team_id)
        return channel

    def restore_channel(self, user: User, channel: Channel) -> None:
        """POST /channels/{id}/restore (5.36 restoreChannel): needs ``manage_team`` (system
        admins here; team admins are not modelled); ``channel_restored`` {channel_id} to the team,
        then a system post."""
        self.state.require_admin(user, "manage_team")
        if not channel.delete_at:
            raise MattermostHTTPError(400, "api.channel.restore_channel.restored.app_error")
        channel.delete_at = 0
        channel.update_at = self.clock.now()
        self.hub.emit("channel_restored", {"channel_id": channel.id}, team_id=channel.team_id)
        self.system_post(
            user,
            channel,
            "system_channel_restored",
            f"{user.username} unarchived the channel",
            {"username": user.username},
        )

    def set_active(self, actor: User, user: User, *, active: bool) -> None:
        """PUT /users/{id}/active and DELETE /users/{id} (5.36 ``app/user.go`` UpdateActive):
        ``delete_at`` set (or cleared), then ``user_updated`` with the sanitised user as a
        plain object (not a JSON string) to every connection. Team and channel memberships
        stay: 5.36 does not refuse adding a deactivated user to a channel."""
        if actor.id != user.id and not actor.is_admin:
            raise MattermostHTTPError(
                403, "api.user.update_active.permissions.app_error", detailed_error=user.id
            )
        user.update_at = self.clock.now()
        user.delete_at = 0 if active else user.update_at
        self.hub.emit("user_updated", {"user": user_json(user, full=False)})

    def patch_user(self, actor: User, user: User, patch: Json) -> User:
        """PUT /users/{id}/patch (5.36 ``api4/user.go`` patchUser, ``app/user.go`` UpdateUser):
        self or an admin; ``user_updated`` with the sanitised user object, as for UpdateActive.
        Only ``username`` and ``first_name`` are modelled."""
        if actor.id != user.id and not actor.is_admin:
            raise permission_error(actor.id, "edit_other_users")
        username = patch.get("username")
        if isinstance(username, str) and username.lower() != user.username:
            taken = self.state.user_by_name(username)
            if taken is not None:
                raise MattermostHTTPError(400, "app.user.save.username_exists.app_error")
            user.username = username.lower()
        first = patch.get("first_name")
        if isinstance(first, str):
            user.first_name = first
        user.update_at = self.clock.now()
        self.hub.emit("user_updated", {"user": user_json(user, full=False)})
        return user

    def _change_post(self, user: User, channel: Channel, kind: str, old: str, new: str) -> None:
        label = {"header": "header", "purpose": "purpose", "displayname": "display name"}[kind]
        who = "@" + user.username
        if not old:
            text = f"{who} updated the channel {label} to: {new}"
        elif not new:
            text = f"{who} removed the channel {label} (was: {old})"
        else:
            text = f"{who} updated the channel {label} from: {old} to: {new}"
        props = {"username": user.username, f"old_{kind}": old, f"new_{kind}": new}
        self.system_post(user, channel, f"system_{kind}_change", text, props)

    def add_member(self, actor: User, channel: Channel, user_id: str) -> Member:
        if channel.type == "D":
            raise MattermostHTTPError(400, "api.channel.add_user_to_channel.type.app_error")
        self_join = actor.id == user_id and channel.type == "O"
        if not (
            self.state.can_manage(actor, channel)
            or (self_join and self.state.in_team(actor.id, channel.team_id))
        ):
            kind = "public" if channel.type == "O" else "private"
            raise permission_error(actor.id, f"manage_{kind}_channel_members")
        target = self.state.users.get(user_id)
        if target is None:
            raise user_not_found(user_id)
        if not self.state.in_team(user_id, channel.team_id):
            raise team_member_missing(channel.team_id, user_id)
        existing = self.state.members.get(channel.id, {}).get(user_id)
        if existing is not None:
            return existing
        member = self.put_member(channel, user_id)
        self.hub.emit(
            "user_added", {"team_id": channel.team_id, "user_id": user_id}, channel_id=channel.id
        )
        if actor.id == user_id:
            self.system_post(
                actor,
                channel,
                "system_join_channel",
                f"{actor.username} joined the channel.",
                {"username": actor.username},
            )
        else:
            text = f"{target.username} added to the channel by {actor.username}."
            props = {
                "userId": actor.id,
                "username": actor.username,
                "addedUserId": target.id,
                "addedUsername": target.username,
            }
            self.system_post(actor, channel, "system_add_to_channel", text, props)
        return member

    def remove_member(self, actor: User, channel: Channel, user_id: str) -> None:
        if channel.type == "D":
            raise MattermostHTTPError(400, "api.channel.remove_user_from_channel.type.app_error")
        if actor.id != user_id and not self.state.can_manage(actor, channel):
            kind = "public" if channel.type == "O" else "private"
            raise permission_error(actor.id, f"manage_{kind}_channel_members")
        target = self.state.users.get(user_id)
        if target is None:
            raise user_not_found(user_id)
        if not self.state.is_member(user_id, channel.id):
            raise channel_member_missing(channel.id, user_id)
        del self.state.members[channel.id][user_id]
        self.hub.emit(
            "user_removed", {"remover_id": actor.id, "user_id": user_id}, channel_id=channel.id
        )
        self.hub.emit(
            "user_removed", {"channel_id": channel.id, "remover_id": actor.id}, user_id=user_id
        )
        if actor.id == user_id:
            self.system_post(
                actor,
                channel,
                "system_leave_channel",
                f"{actor.username} left the channel.",
                {"username": actor.username},
            )
        else:
            self.system_post(
                actor,
                channel,
                "system_remove_from_channel",
                f"@{target.username} removed from the channel.",
                {"removedUserId": target.id, "removedUsername": target.username},
            )

    def direct_channel(self, actor: User, user_ids: list[str]) -> Channel:
        if actor.id not in user_ids and not actor.is_admin:
            raise permission_error(actor.id, "manage_system")
        for uid in user_ids:
            if uid not in self.state.users:
                raise MattermostHTTPError(
                    400,
                    "api.channel.create_direct_channel.invalid_user.app_error",
                    detailed_error=f"user_id={uid}",
                )
        name = "__".join(sorted(user_ids))
        existing = self.state.channel_by_name("", name)
        if existing is not None:
            return existing
        channel = self.new_channel("", name, "", "D", creator_id=actor.id)
        for uid in set(user_ids):
            self.put_member(channel, uid)
        other = next((u for u in user_ids if u != actor.id), actor.id)
        self.hub.emit("direct_added", {"teammate_id": other}, channel_id=channel.id)
        return channel
