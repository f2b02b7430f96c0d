"""Run one slash command: route, call the handler, map every error to a short reply."""

from __future__ import annotations

from bot.errors import WarroomError
from bot.log import get_logger
from bot.render import messages
from bot.services.container import Services

from .router import CommandRequest, CommandRouter, Reply, split

log = get_logger(__name__)


async def run_command(svc: Services, router: CommandRouter, req: CommandRequest) -> Reply:
    sub, args, rest = split(req.text)
    if not sub:
        sub = "help"
    entry = router.get(sub)
    if entry is None:
        return Reply(messages.unknown_subcommand(sub[:32]))
    try:
        reply = await entry.handler(svc, req, args, rest)
    except WarroomError as exc:
        log.info("command_refused", subcommand=sub, error=type(exc).__name__, detail=repr(exc))
        return Reply(messages.error_text(exc, sub))
    except Exception:
        log.exception("command_failed", subcommand=sub)
        return Reply(messages.unexpected_error())
    log.info("command_handled", subcommand=sub)
    return reply
