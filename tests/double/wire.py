"""Builders for the JSON shapes Mattermost 5.36 puts on the wire."""

from __future__ import annotations

from .state import Channel, Command, FileRecord, Member, Reaction, Team, User
from .util import Json, dumps

NOTIFY_PROPS = {
    "channel": "true",
    "comments": "never",
    "desktop": "mention",
    "desktop_sound": "true",
    "email": "true",
    "first_name": "false",
    "mention_keys": "",
    "push": "mention",
    "push_status": "away",
}
TIMEZONE = {"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"}
MEMBER_NOTIFY_PROPS = {
    "desktop": "default",
    "email": "default",
    "ignore_channel_mentions": "default",
    "mark_unread": "all",
    "push": "default",
}


def user_json(user: User, *, full: bool) -> Json:
    """A user; `full` for the user itself (notify_props, last_password_update)."""
    out: Json = {
        "id": user.id,
        "create_at": user.create_at,
        "update_at": user.update_at,
        "delete_at": user.delete_at,
        "username": user.username,
        "auth_data": "",
        "auth_service": "",
        "email": user.email,
        "nickname": "",
        "first_name": user.first_name,
        "last_name": "",
        "position": "",
        "roles": user.roles,
    }
    if full:
        out["notify_props"] = dict(NOTIFY_PROPS)
        out["last_password_update"] = user.create_at
    out["locale"] = "en"
    out["timezone"] = dict(TIMEZONE)
    out["disable_welcome_email"] = False
    if user.is_bot:
        out["is_bot"] = True
        out["bot_description"] = user.bot_description
    return out


def bot_json(user: User) -> Json:
    return {
        "user_id": user.id,
        "username": user.username,
        "display_name": user.bot_display_name,
        "description": user.bot_description,
        "owner_id": user.owner_id,
        "create_at": user.create_at,
        "update_at": user.create_at,
        "delete_at": 0,
    }


def team_json(team: Team) -> Json:
    return {
        "id": team.id,
        "create_at": team.create_at,
        "update_at": team.create_at,
        "delete_at": 0,
        "display_name": team.display_name,
        "name": team.name,
        "description": "",
        "email": "admin@example.com",
        "type": "O",
        "company_name": "",
        "allowed_domains": "",
        "invite_id": team.invite_id,
        "allow_open_invite": False,
        "scheme_id": None,
        "group_constrained": None,
        "policy_id": None,
    }


def team_member_json(team_id: str, user_id: str, *, admin: bool = False) -> Json:
    return {
        "team_id": team_id,
        "user_id": user_id,
        "roles": "team_user team_admin" if admin else "team_user",
        "delete_at": 0,
        "scheme_guest": False,
        "scheme_user": True,
        "scheme_admin": admin,
        "explicit_roles": "",
    }


def channel_json(channel: Channel) -> Json:
    return {
        "id": channel.id,
        "create_at": channel.create_at,
        "update_at": channel.update_at,
        "delete_at": channel.delete_at,
        "team_id": channel.team_id,
        "type": channel.type,
        "display_name": channel.display_name,
        "name": channel.name,
        "header": channel.header,
        "purpose": channel.purpose,
        "last_post_at": channel.last_post_at,
        "total_msg_count": channel.total_msg_count,
        "extra_update_at": 0,
        "creator_id": channel.creator_id,
        "scheme_id": None,
        "props": None,
        "group_constrained": None,
        "shared": False if channel.type == "D" else None,
        "total_msg_count_root": channel.total_msg_count,
        "policy_id": None,
    }


def member_json(member: Member) -> Json:
    admin = "channel_admin" in member.roles.split()
    return {
        "channel_id": member.channel_id,
        "user_id": member.user_id,
        "roles": member.roles,
        "last_viewed_at": member.last_viewed_at,
        "msg_count": member.msg_count,
        "mention_count": 0,
        "mention_count_root": 0,
        "msg_count_root": member.msg_count,
        "notify_props": dict(MEMBER_NOTIFY_PROPS),
        "last_update_at": member.last_update_at,
        "scheme_guest": False,
        "scheme_user": True,
        "scheme_admin": admin,
        "explicit_roles": "",
    }


def command_json(cmd: Command) -> Json:
    return {
        "id": cmd.id,
        "token": cmd.token,
        "create_at": cmd.create_at,
        "update_at": cmd.update_at,
        "delete_at": 0,
        "creator_id": cmd.creator_id,
        "team_id": cmd.team_id,
        "trigger": cmd.trigger,
        "method": cmd.method,
        "username": cmd.username,
        "icon_url": cmd.icon_url,
        "auto_complete": cmd.auto_complete,
        "auto_complete_desc": cmd.auto_complete_desc,
        "auto_complete_hint": cmd.auto_complete_hint,
        "display_name": cmd.display_name,
        "description": cmd.description,
        "url": cmd.url,
        "plugin_id": "",
    }


def file_info_json(rec: FileRecord, *, with_post: bool = False) -> Json:
    ext = rec.name.rsplit(".", 1)[-1].lower() if "." in rec.name else ""
    out: Json = {
        "id": rec.id,
        "user_id": rec.user_id,
        "channel_id": "",
        "create_at": rec.create_at,
        "update_at": rec.create_at,
        "delete_at": 0,
        "name": rec.name,
        "extension": ext,
        "size": len(rec.data),
        "mime_type": rec.mime_type,
        "mini_preview": None,
        "remote_id": "",
    }
    if with_post and rec.post_id:
        out["post_id"] = rec.post_id
    return out


def reaction_json(r: Reaction, *, removed_at: int = 0) -> Json:
    return {
        "user_id": r.user_id,
        "post_id": r.post_id,
        "emoji_name": r.emoji_name,
        "create_at": 0 if removed_at else r.create_at,
        "update_at": removed_at or r.create_at,
        "delete_at": 0,
        "remote_id": "",
    }


def broadcast(*, user_id: str = "", channel_id: str = "", team_id: str = "") -> Json:
    return {"omit_users": None, "user_id": user_id, "channel_id": channel_id, "team_id": team_id}


def route_not_found_body(path: str) -> str:
    """The router's 404 (recorded: no request_id, served as text/plain)."""
    return dumps(
        {
            "id": "api.context.404.app_error",
            "message": "Sorry, we could not find the page.",
            "detailed_error": (
                f"There doesn't appear to be an api call for the url='{path}'.  "
                "Typo? are you missing a team_id or user_id as part of the url?"
            ),
            "status_code": 404,
        }
    )
