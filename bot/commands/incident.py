"""The incident subcommands: help, start, end, restart, info, list, commander, announce."""

from __future__ import annotations

import re

from bot.domain.ids import is_mm_id
from bot.domain.limits import INCIDENT_NAME
from bot.domain.models import Incident
from bot.domain.naming import display_name
from bot.errors import InputError
from bot.interactions.incident import open_end_dialog
from bot.interactions.start_flow import open_start_dialog
from bot.render import cards, messages
from bot.render import review as review_render
from bot.services.container import Services
from bot.services.follow import read_origin

from .language import one_line_start
from .quickstart import start_now
from .review import NotVisible
from .review import target as target_incident
from .router import CommandRequest, CommandRouter, Reply

POST_LINK = re.compile(r"/pl/([a-z0-9]{26})\b")
USERNAME = re.compile(r"^@?[a-z0-9][a-z0-9._\-]{0,63}$")
CHANNEL = re.compile(r"^~?[a-z0-9][a-z0-9_\-]{0,63}$")
CORE = {"help", "start", "end", "restart", "info", "list", "commander", "announce"}


def register(router: CommandRouter) -> None:
    async def help_(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
        return Reply(
            messages.help_text(router.extra_help(CORE)),
            attachments=cards.start_button(svc.buttons, params={"team": req.team_id}),
        )

    router.add("help", help_)
    router.add("start", start)
    router.add("end", end)
    router.add("restart", restart)
    router.add("info", info)
    router.alias("status", "info")  # `@warroom status` in an incident channel: the summary
    router.add("list", list_)
    router.add("commander", commander)
    router.add("announce", announce)


def no_args(command: str, args: list[str]) -> None:
    if args:
        raise InputError("too_many_arguments", field=command)


def post_ref(text: str) -> str | None:
    """A post id from a permalink (``…/pl/<id>``) or a bare id; None if ``text`` is neither."""
    match = POST_LINK.search(text)
    if match:
        return match.group(1)
    return text if is_mm_id(text) else None


async def start(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    line = one_line_start(rest) if rest else None
    if line is not None:
        return await start_now(svc, req, line)
    ref = post_ref(rest) if rest else None
    rest = display_name(rest)
    if not ref and len(rest) > INCIDENT_NAME.most:  # said, not cut: the dialog would hide it
        raise InputError(INCIDENT_NAME.reason, field="start")
    text = await open_start_dialog(
        svc,
        user_id=req.user_id,
        team_id=req.team_id,
        team_name=req.team_domain,
        channel_id=req.channel_id,
        trigger_id=req.trigger_id,
        name="" if ref else rest,
        origin_post_id=ref or "",
    )
    return Reply(text)


async def _member_incident(svc: Services, req: CommandRequest) -> Incident:
    incident = await svc.incidents.in_channel(req.channel_id)
    await svc.directory.require_member(incident, req.user_id)
    return incident


async def end(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    """``end [~channel]``: from anywhere for the incident channel's members (its channel may
    be one nobody can type in, e.g. archived)."""
    try:
        incident = await target_incident(svc, req, args, "end")
    except NotVisible as exc:
        return Reply(review_render.not_an_incident(exc.name))
    await svc.directory.require_member(incident, req.user_id)
    await open_end_dialog(svc, incident, user_id=req.user_id, trigger_id=req.trigger_id)
    return Reply()


async def restart(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    """``restart [~channel]``, as ``end``; refused while the channel is archived."""
    try:
        incident = await target_incident(svc, req, args, "restart")
    except NotVisible as exc:
        return Reply(review_render.not_an_incident(exc.name))
    await svc.directory.require_member(incident, req.user_id)
    await svc.incidents.restart(incident.id, req.user_id)
    if incident.channel_id != req.channel_id:
        return Reply(messages.restarted_elsewhere(incident))
    return Reply()


async def info(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    if args:  # `info ~channel`: another incident of the team, if the caller may view it
        try:
            incident = await target_incident(svc, req, args, "info")
        except NotVisible as exc:
            return Reply(review_render.not_an_incident(exc.name))
    else:
        # Mattermost only runs a command in a channel the caller may read, and the incident
        # channel is in the caller's team: whoever runs it here may view the incident.
        incident = await svc.incidents.in_channel(req.channel_id)
    ids = [incident.commander_id, *(t.assignee_id for s in incident.stages for t in s.tasks)]
    names = await svc.directory.names(ids)
    last = await svc.incidents.last_update(incident)
    text = messages.info(incident, names, svc.clock.now_ms(), last)
    origin = await read_origin(svc.chat, svc.directory, incident, req.user_id)
    if origin is not None:  # read fresh: an edit or a deletion shows at once
        link = f"{svc.urls.mattermost.rstrip('/')}/{req.team_domain}/pl/{origin.post_id}"
        text += "\n" + messages.origin_line(link, origin.message, deleted=origin.deleted)
    return Reply(text)


async def list_(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    no_args("list", args)
    incidents, unknown = await svc.incidents.list_for(req.team_id, req.user_id)
    names = await svc.directory.names(i.commander_id for i in incidents)
    return Reply(messages.incident_list(incidents, names, svc.clock.now_ms(), unknown))


async def commander(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    if len(args) > 1:
        raise InputError("too_many_arguments", field="commander")
    if not args:
        incident = await svc.incidents.in_channel(req.channel_id)
        names = await svc.directory.names([incident.commander_id])
        return Reply(messages.commander_is(incident, names))
    if not USERNAME.match(args[0].lower()):
        raise InputError("bad_username", field="commander")
    incident = await _member_incident(svc, req)
    await svc.incidents.change_commander(incident.id, req.user_id, args[0])
    return Reply()


async def announce(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    if not args:
        raise InputError("missing_argument", field="announce")
    bad = [a for a in args if not CHANNEL.match(a.lower())]
    if bad:
        raise InputError("bad_channel", field="announce", detail=f"`{bad[0][:64]}`")
    incident = await _member_incident(svc, req)
    text = await svc.incidents.announce(
        incident, [a.lower().lstrip("~") for a in args], req.user_id
    )
    return Reply(text)
