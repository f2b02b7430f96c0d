"""``/incident webhooks [~channel]``: the incident's webhook deliveries, for system admins;
``/incident webhooks enable <url>``: send again to an endpoint a 410 disabled."""

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
    if args and args[0].lower() == "enable":
        return await enable(svc, req, rest.partition(" ")[2].strip())
    if not await svc.directory.is_admin(req.user_id):
        return Reply(render.admins_only(), refused=True)
    try:
        incident = await target(svc, req, args, "webhooks")
    except NotVisible as exc:
        return Reply(review_render.not_an_incident(exc.name))
    rows = await svc.webhooks.store.for_incident(incident.id, render.SHOWN)
    return Reply(render.deliveries(incident, rows))


async def enable(svc: Services, req: CommandRequest, url: str) -> Reply:
    """``/incident webhooks enable <url>``: system admins send to an endpoint again after it
    answered 410 (only they see and manage webhook endpoints)."""
    if not await svc.directory.is_admin(req.user_id):
        return Reply(render.enable_admins_only(), refused=True)
    if not url:
        return Reply(render.enable_usage())
    return Reply(render.enabled(url, await svc.webhooks.enable(req.user_id, url)))
