"""The teams an API caller belongs to: the scope of lists, playbooks and stats."""

from __future__ import annotations

from bot.errors import NotFound
from bot.services.container import Services
from bot.services.ports import ChatRefused


async def require_team(svc: Services, user_id: str, team_id: str) -> str:
    """``team_id`` if ``user_id`` is a member of it (or a system admin); else
    :class:`NotFound` ("team"): a team one is not in is not shown to exist, as in chat,
    where a command only ever runs in a team of the caller."""
    if await svc.directory.is_admin(user_id):
        return team_id
    try:
        member = await svc.chat.is_team_member(team_id, user_id)
    except ChatRefused:
        member = False
    if not member:
        raise NotFound("team")
    return team_id


async def teams_of(svc: Services, user_id: str) -> list[str]:
    """The teams with incidents that ``user_id`` may look into."""
    found = []
    for team_id in await svc.incidents.store.team_ids():
        try:
            found.append(await require_team(svc, user_id, team_id))
        except NotFound:
            continue
    return found
