"""Built-in slash commands of 5.36 that a bot may run with /commands/execute."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .payloads import command_response
from .state import Channel, User
from .util import Json, new_id

if TYPE_CHECKING:
    from .commands import CommandOps

BUILTINS = ("echo", "me", "shrug", "away", "online", "offline", "dnd", "header", "purpose", "msg")
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
