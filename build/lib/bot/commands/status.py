"""``/incident update``: open the status update dialog."""

from __future__ import annotations

from bot.interactions.status import open_status_dialog
from bot.render import messages
from bot.services.container import Services

from .incident import no_args
from .router import CommandRequest, CommandRouter, Reply


def register(router: CommandRouter) -> None:
    router.add("update", update, help=messages.SUBCOMMAND_HELP["update"])


async def update(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    no_args("update", args)
    incident = await svc.incidents.in_channel(req.channel_id)
    await open_status_dialog(svc, incident, user_id=req.user_id, trigger_id=req.trigger_id)
    return Reply()
