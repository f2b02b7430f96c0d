"""Run one slash command: route, call the handler, map every error to a short reply."""

from __future__ import annotations

from bot.errors import WarroomError
from bot.log import get_logger
from bot.render import conversation, messages
from bot.services.container import Services
from bot.services.ports import NeedsTrigger

from .language import suggest
from .router import CommandRequest, CommandRouter, Reply, split

log = get_logger(__name__)


async def run_command(svc: Services, router: CommandRouter, req: CommandRequest) -> Reply:
    """Every transport's one dispatcher: ``/incident``, direct messages, @mentions, buttons.

    An unknown subcommand gets a did-you-mean; a handler that wanted to open a dialog
    without a trigger id (a chat message) gives ``Reply(dialog_title=…)``.
    """
    sub, args, rest = split(req.text)
    if not sub:
        sub = "help"
    entry = router.get(sub)
    if entry is None:
        near = suggest(sub, router.names())
        text = conversation.not_a_command(sub[:32], near, chat=req.via != "slash")
        return Reply(text, refused=True)
    try:
        reply = await entry.handler(svc, req, args, rest)
    except NeedsTrigger as exc:
        log.info("command_needs_dialog", subcommand=sub, via=req.via)
        return Reply(dialog_title=exc.title)
    except WarroomError as exc:
        log.info("command_refused", subcommand=sub, error=type(exc).__name__, detail=repr(exc))
        return Reply(messages.error_text(exc, sub), refused=True)
    except Exception:
        log.exception("command_failed", subcommand=sub)
        return Reply(messages.unexpected_error(), refused=True)
    # debug: each transport logs its own line per command answered (command_answered,
    # chat_answered), one line per request at info.
    log.debug("command_handled", subcommand=sub, via=req.via)
    return reply
