"""Builders for the JSON shapes Mattermost 5.36 puts on the wire."""

from __future__ import annotations

import copy
from typing import Any

from .state import Channel, Command, FileRecord, Member, Reaction, Team, User
from .util import Json

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
        "delete_at": 0,
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
        "delete_at": 0,
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


# ---- message attachments -------------------------------------------------
_ATTACHMENT_FIELDS: list[tuple[str, Any]] = [
    ("id", 0),
    ("fallback", ""),
    ("color", ""),
    ("pretext", ""),
    ("author_name", ""),
    ("author_link", ""),
    ("author_icon", ""),
    ("title", ""),
    ("title_link", ""),
    ("text", ""),
    ("fields", None),
    ("image_url", ""),
    ("thumb_url", ""),
    ("footer", ""),
    ("footer_icon", ""),
    ("ts", None),
]
_ACTION_FIELDS = (
    "id", "name", "type", "disabled", "style", "data_source",
    "options", "default_option", "integration", "cookie",
)  # fmt: skip


def _option(o: Any) -> Json:
    o = o if isinstance(o, dict) else {}
    return {"text": str(o.get("text", "")), "value": str(o.get("value", ""))}


def normalise_action(raw: Any, new_id: str) -> Json:
    raw = raw if isinstance(raw, dict) else {}
    out: Json = {}
    for key in _ACTION_FIELDS:
        value = raw.get(key)
        if key == "id" and not value:
            value = new_id
        if key == "options" and isinstance(value, list):
            value = [_option(o) for o in value]
        if key == "integration" and isinstance(value, dict):
            value = {"url": str(value.get("url", ""))} | (
                {"context": value["context"]} if value.get("context") else {}
            )
        if value:  # Go's omitempty
            out[key] = value
    return out


def normalise_attachment(raw: Any, id_factory: Any) -> Json:
    raw = raw if isinstance(raw, dict) else {}
    out: Json = {key: raw.get(key, default) for key, default in _ATTACHMENT_FIELDS}
    fields = raw.get("fields")
    if isinstance(fields, list) and fields:
        out["fields"] = [
            {
                "title": f.get("title", ""),
                "value": f.get("value", ""),
                "short": bool(f.get("short")),
            }
            for f in fields
            if isinstance(f, dict)
        ]
    else:
        out["fields"] = None
    actions = raw.get("actions")
    if isinstance(actions, list) and actions:
        out["actions"] = [normalise_action(a, id_factory()) for a in actions]
    return out


def normalise_props(props: Any, id_factory: Any) -> Json:
    """Props as the server stores them: attachments parsed through its structs."""
    out: Json = dict(props) if isinstance(props, dict) else {}
    attachments = out.get("attachments")
    if isinstance(attachments, list):
        out["attachments"] = [normalise_attachment(a, id_factory) for a in attachments]
    return out


def strip_integrations(props: Json) -> Json:
    """Recorded fact 5: what clients see never carries `integration`."""
    out = copy.deepcopy(props)
    for att in out.get("attachments") or []:
        for action in att.get("actions") or [] if isinstance(att, dict) else []:
            if isinstance(action, dict):
                action.pop("integration", None)
    return out


def iter_actions(props: Json) -> list[Json]:
    found: list[Json] = []
    for att in props.get("attachments") or []:
        if isinstance(att, dict):
            found.extend(a for a in att.get("actions") or [] if isinstance(a, dict))
    return found


# ---- other payloads ------------------------------------------------------
def command_response(raw: Any, id_factory: Any, trigger_id: str = "") -> Json:
    raw = raw if isinstance(raw, dict) else {}
    attachments = raw.get("attachments")
    extra = raw.get("extra_responses")
    return {
        "response_type": str(raw.get("response_type") or ""),
        "text": str(raw.get("text") or ""),
        "username": str(raw.get("username") or ""),
        "channel_id": str(raw.get("channel_id") or ""),
        "icon_url": str(raw.get("icon_url") or ""),
        "type": str(raw.get("type") or ""),
        "props": raw.get("props") or None,
        "goto_location": str(raw.get("goto_location") or ""),
        "trigger_id": trigger_id,
        "skip_slack_parsing": bool(raw.get("skip_slack_parsing")),
        "attachments": (
            [normalise_attachment(a, id_factory) for a in attachments]
            if isinstance(attachments, list)
            else None
        ),
        "extra_responses": (
            [command_response(r, id_factory) for r in extra] if isinstance(extra, list) else None
        ),
    }


_ELEMENT_FIELDS: list[tuple[str, Any]] = [
    ("display_name", ""),
    ("name", ""),
    ("type", ""),
    ("subtype", ""),
    ("default", ""),
    ("placeholder", ""),
    ("help_text", ""),
    ("optional", False),
    ("min_length", 0),
    ("max_length", 0),
    ("data_source", ""),
]


def normalise_dialog(raw: Any) -> Json:
    raw = raw if isinstance(raw, dict) else {}
    elements = raw.get("elements")
    norm_elements: list[Json] | None = None
    if isinstance(elements, list):
        norm_elements = []
        for e in elements:
            e = e if isinstance(e, dict) else {}
            el: Json = {k: e.get(k) if e.get(k) is not None else d for k, d in _ELEMENT_FIELDS}
            options = e.get("options")
            el["options"] = [_option(o) for o in options] if isinstance(options, list) else None
            norm_elements.append(el)
    return {
        "callback_id": str(raw.get("callback_id") or ""),
        "title": str(raw.get("title") or ""),
        "introduction_text": str(raw.get("introduction_text") or ""),
        "icon_url": str(raw.get("icon_url") or ""),
        "elements": norm_elements,
        "submit_label": str(raw.get("submit_label") or ""),
        "notify_on_cancel": bool(raw.get("notify_on_cancel")),
        "state": str(raw.get("state") or ""),
    }


def broadcast(*, user_id: str = "", channel_id: str = "", team_id: str = "") -> Json:
    return {"omit_users": None, "user_id": user_id, "channel_id": channel_id, "team_id": team_id}


def route_not_found_body(path: str) -> str:
    """The router's 404 (recorded: no request_id, served as text/plain)."""
    from .util import dumps

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
