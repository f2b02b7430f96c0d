"""``/incident webhooks [~channel]``: the incident's webhook deliveries, for system admins."""

from __future__ import annotations

from bot.render import review as review_render
from bot.render import webhooks as render
from bot.services.container import Services

from .review import NotVisible, target
from .router import CommandRequest, CommandRouter, Reply


def register(router: CommandRouter) -> None:
    router.add("webhooks", webhooks, help=render.HELP)


async def webhooks(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    """Admins only: deliveries carry the playbook's endpoints, which members need not see."""
    if not await svc.directory.is_admin(req.user_id):
        return Reply(render.admins_only(), refused=True)
    try:
        incident = await target(svc, req, args, "webhooks")
    except NotVisible as exc:
        return Reply(review_render.not_an_incident(exc.name))
    rows = await svc.webhooks.store.for_incident(incident.id, render.SHOWN)
    return Reply(render.deliveries(incident, rows))
