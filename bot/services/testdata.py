"""Creating real test incidents (channel, members, card), backdated, optionally ended."""

from __future__ import annotations

import asyncio

from bot.domain.models import Incident
from bot.domain.testdata import Planned
from bot.log import get_logger
from bot.services.incidents import IncidentService
from bot.services.starts import StartRequest

log = get_logger(__name__)

SETUP_WAIT_S = 30.0


class TestData:
    """Starts incidents through the ordinary start path; ends the ones planned as ended once
    their channel is set up (ending earlier would leave the card showing "ongoing")."""

    __test__ = False  # not a pytest class

    def __init__(self, incidents: IncidentService) -> None:
        self._incidents = incidents
        self._ready: dict[str, asyncio.Future[None]] = {}
        incidents.hooks.started.append(self._set_up)

    async def _set_up(self, incident: Incident) -> None:
        waiting = self._ready.get(incident.id)
        if waiting is not None and not waiting.done():
            waiting.set_result(None)

    async def create(
        self, *, reporter_id: str, team_id: str, channel_id: str, planned: list[Planned]
    ) -> list[Incident]:
        created: list[Incident] = []
        loop = asyncio.get_running_loop()
        ends: list[tuple[Incident, int, asyncio.Future[None]]] = []
        for item in planned:
            incident = await self._incidents.start(
                StartRequest(
                    reporter_id=reporter_id,
                    team_id=team_id,
                    origin_channel_id=channel_id,
                    playbook=item.playbook,
                    name=item.name,
                    description="Test incident created by `/incident test`.",
                    created_at=item.created_at,
                )
            )
            created.append(incident)
            if item.ended_at is not None:
                ready = self._ready.setdefault(incident.id, loop.create_future())
                ends.append((incident, item.ended_at, ready))
        await asyncio.gather(*(self._end(reporter_id, *e) for e in ends))
        return created

    async def _end(
        self, reporter_id: str, incident: Incident, at: int, ready: asyncio.Future[None]
    ) -> None:
        try:
            await asyncio.wait_for(ready, SETUP_WAIT_S)
        except TimeoutError:
            log.warning("test_incident_setup_slow", incident_id=incident.id)
        finally:
            self._ready.pop(incident.id, None)
        await self._incidents.end(incident.id, reporter_id, at=at)
