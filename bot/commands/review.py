"""Looking back: ``timeline``, ``review``, ``export`` (each for this channel's incident or
``~channel``), ``severity [level]`` and ``stats [days]``."""

from __future__ import annotations

import re

from bot.domain.models import Incident
from bot.errors import InputError, PermissionDenied
from bot.render import messages
from bot.render import review as render
from bot.services.container import Services

from .router import CommandRequest, CommandRouter, Reply

CHANNEL = re.compile(r"^~?[a-z0-9][a-z0-9_\-]{0,63}$")
DAYS = re.compile(r"^[0-9]{1,4}$")
DEFAULT_DAYS = 30
MAX_DAYS = 3650


def register(router: CommandRouter) -> None:
    router.add("timeline", timeline, help=messages.SUBCOMMAND_HELP["timeline"])
    router.add("review", review, help=messages.SUBCOMMAND_HELP["review"])
    router.add("export", export, help=messages.SUBCOMMAND_HELP["export"])
    router.add("severity", severity, help=messages.SUBCOMMAND_HELP["severity"])
    router.add("stats", stats, help=messages.SUBCOMMAND_HELP["stats"])


def refuse(text: str, command: str) -> Reply:
    return Reply(f"{text}\n{messages.usage(command)}")


async def target(svc: Services, req: CommandRequest, args: list[str], command: str) -> Incident:
    """This channel's incident, or the one whose channel is named; if the caller may view it."""
    if len(args) > 1:
        raise InputError("too_many_arguments", field=command)
    if not args:
        return await svc.incidents.in_channel(req.channel_id)
    name = args[0].lower()
    if not CHANNEL.match(name):
        raise InputError("bad_channel", field=command)
    incident = await svc.review.by_channel_name(req.team_id, name.lstrip("~"))
    if incident is None or not await svc.directory.can_view(
        incident, req.user_id, team_id=req.team_id
    ):
        raise NotVisible(name.lstrip("~"))
    return incident


class NotVisible(PermissionDenied):
    def __init__(self, name: str) -> None:
        super().__init__("cannot_view")
        self.name = name


async def timeline(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    try:
        incident = await target(svc, req, args, "timeline")
    except NotVisible as exc:
        return Reply(render.not_an_incident(exc.name))
    events = await svc.review.timeline(incident)
    names = await svc.directory.names(render.event_user_ids(events))
    return Reply(render.timeline(incident, events, names))


async def review(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    try:
        incident = await target(svc, req, args, "review")
    except NotVisible as exc:
        return Reply(render.not_an_incident(exc.name))
    if incident.channel_id == req.channel_id:
        await svc.review.post_review(incident, incident.channel_id)
        return Reply()
    # Elsewhere the review goes to the caller alone: the channel here may have other readers.
    await svc.review.post_review(
        incident, await svc.review.private_channel(req.user_id, svc.bot_user_id)
    )
    return Reply(render.review_sent_privately())


async def export(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    try:
        incident = await target(svc, req, args, "export")
    except NotVisible as exc:
        return Reply(render.not_an_incident(exc.name))
    await svc.review.export(incident, req.user_id)
    return Reply(render.export_done(incident))


async def severity(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    levels = svc.severity_levels()
    if len(args) > 1:
        raise InputError("too_many_arguments", field="severity")
    incident = await svc.incidents.in_channel(req.channel_id)
    if not args:
        return Reply(render.severity_is(incident, levels))
    level = next((lv for lv in levels if lv.lower() == args[0].lower()), None)
    if level is None:
        return refuse(render.unknown_severity(args[0], levels), "severity")
    await svc.directory.require_member(incident, req.user_id)
    if not await svc.review.set_severity(incident, req.user_id, level):
        return Reply(render.severity_same(level))
    return Reply()


async def stats(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    if len(args) > 1:
        raise InputError("too_many_arguments", field="stats")
    days = DEFAULT_DAYS
    if args:
        if not DAYS.match(args[0]) or not 1 <= int(args[0]) <= MAX_DAYS:
            return refuse(render.bad_days(args[0]), "stats")
        days = int(args[0])
    result = await svc.review.stats(req.team_id, req.user_id, days, svc.severity_levels())
    return Reply(render.stats(result))
