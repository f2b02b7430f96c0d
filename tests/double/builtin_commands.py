"""Built-in slash commands of 5.36 that a bot may run with /commands/execute."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .payloads import command_response
from .state import Channel, User
from .util import Json, new_id

if TYPE_CHECKING:
    from .commands import CommandOps

BUILTINS = (
    "echo",
    "me",
    "shrug",
    "away",
    "online",
    "offline",
    "dnd",
    "header",
    "purpose",
    "msg",
    "invite",
)
# Texts of app/slashcommands/command_invite.go (5.36 i18n/en.json, api.command_invite.*).
INVITE_MISSING = "Missing Username and Channel."
INVITE_NO_USER = (
    "We couldn't find the user. They may have been deactivated by the System Administrator."
)
INVITE_NO_CHANNEL = (
    "Could not find the channel {name}. Please use the [channel handle]"
    "(https://about.mattermost.com/default-channel-handle-documentation) to identify channels."
)
INVITE_HIDDEN_CHANNEL = (
    "Could not find the channel {name}. Please use the channel handle to identify channels."
)
INVITE_NOT_ALLOWED = "You don't have enough permissions to add {user} in {channel}."
INVITE_DIRECT = "You can't add someone to a direct message channel."
INVITE_ALREADY = "{user} is already in the channel."
INVITE_NOT_IN_TEAM = "@{user} is not a member of the team."
INVITE_DONE = "{user} added to {channel} channel."
SHRUG = r"¯\_(ツ)_/¯"


def run_builtin(
    ops: CommandOps, trigger: str, user: User, channel: Channel, text: str, root_id: str
) -> Json:
    reply: Json = {}
    if trigger == "echo" and text.strip():
        ops.create_post(user, channel, text.strip().strip('"'), root_id=root_id, check=False)
    elif trigger == "me":
        reply = {
            "response_type": "in_channel",
            "type": "me",
            "text": f"*{text}*",
            "props": {"message": text},
        }
    elif trigger == "shrug":
        reply = {"response_type": "in_channel", "text": f"{text} {SHRUG}".lstrip()}
    elif trigger in ("away", "online", "offline", "dnd"):
        label = {"dnd": "in Do Not Disturb mode"}.get(trigger, trigger)
        reply = {"response_type": "ephemeral", "text": f"You are now {label}."}
    elif trigger in ("header", "purpose") and text:
        ops.patch_channel(user, channel, {trigger: text})
    elif trigger == "invite":
        reply = _invite(ops, user, channel, text)
    elif trigger == "msg":
        name, _, message = text.partition(" ")
        other = ops.state.user_by_name(name)
        if other is None:
            reply = {"response_type": "ephemeral", "text": "We couldn't find the user."}
        else:
            dm = ops.direct_channel(user, [user.id, other.id])
            if message.strip():
                ops.create_post(user, dm, message.strip(), check=False)
    if reply:
        ops.handle_command_response(reply, user, channel, root_id=root_id, builtin=True)
    return command_response(reply, new_id)


def _invite(ops: CommandOps, user: User, channel: Channel, text: str) -> Json:
    """``/invite @user [~channel]`` with the *caller's* rights, as InviteProvider.DoCommand.

    The server runs a built-in command as the user whose token called ``/commands/execute``
    and checks that user's own permission to manage the target channel's members
    (app/slashcommands/command_invite.go, 5.36): someone who may not read a private channel
    is told it cannot be found, as if it did not exist. Every refusal is an ephemeral reply
    (HTTP 200), not an error status.
    """

    def say(message: str) -> Json:
        return {"response_type": "ephemeral", "text": message}

    if not text.strip():
        return say(INVITE_MISSING)
    username, _, where = text.strip().partition(" ")
    target = ops.state.user_by_name(username.lstrip("@"))
    if target is None:
        return say(INVITE_NO_USER)
    into = channel
    if where.strip():
        name = where.strip().lstrip("~")
        found = ops.state.channel_by_name(channel.team_id, name)
        if found is None:
            return say(INVITE_NO_CHANNEL.format(name=name))
        into = found
    if into.type not in ("O", "P"):
        return say(INVITE_DIRECT)
    if not ops.state.can_manage(user, into):
        if into.type == "P" and not ops.state.is_member(user.id, into.id):
            return say(INVITE_HIDDEN_CHANNEL.format(name=into.name))
        return say(INVITE_NOT_ALLOWED.format(user=target.username, channel=into.name))
    if ops.state.is_member(target.id, into.id):
        return say(INVITE_ALREADY.format(user=target.username))
    if not ops.state.in_team(target.id, into.team_id):
        return say(INVITE_NOT_IN_TEAM.format(user=target.username))
    ops.add_member(user, into, target.id)
    if into.id != channel.id:
        return say(INVITE_DONE.format(user=target.username, channel=into.name))
    return {}
