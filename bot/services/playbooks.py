"""Playbooks: loading ``playbooks.yaml`` (names resolved against the server) and who may use which."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from bot.clock import Clock
from bot.domain.models import Playbook, StageTemplate, TaskTemplate
from bot.errors import NotFound
from bot.log import get_logger
from bot.services.directory import Directory
from bot.services.playbook_file import PlaybookFileError, PlaybookSpec, read
from bot.services.ports import ChatClient, ChatRefused
from bot.store.playbooks import PlaybookStore

log = get_logger(__name__)


def file_playbook_id(team_id: str, title: str) -> str:
    digest = hashlib.sha256(f"{team_id}\0{title.lower()}".encode()).hexdigest()
    return "f" + digest[:25]


class PlaybookService:
    def __init__(
        self,
        *,
        store: PlaybookStore,
        chat: ChatClient,
        directory: Directory,
        clock: Clock,
        file: Path,
    ) -> None:
        self._store = store
        self._chat = chat
        self._dir = directory
        self._clock = clock
        self.file = file
        self._reload_lock = asyncio.Lock()
        self.severity_levels: list[str] = []  # from the file; empty: the settings' levels

    async def reload(self) -> list[Playbook]:
        """Read, validate and resolve the file; replace the file's playbooks only if all is well.

        Raises :class:`PlaybookFileError` (the last good set stays in force).
        """
        async with self._reload_lock:
            spec = await asyncio.to_thread(read, self.file)
            resolved: list[Playbook] = []
            problems: list[str] = []
            for n, pb in enumerate(spec.playbooks):
                try:
                    resolved.append(await self._resolve(pb))
                except PlaybookFileError as exc:
                    problems.extend(f"playbooks[{n}].{p}" for p in exc.problems)
            if problems:
                raise PlaybookFileError(self.file, problems)
            await self._store.replace_file_playbooks(resolved, self._clock.now_ms())
            self.severity_levels = list(spec.severity_levels)
            log.info("playbooks_loaded", file=str(self.file), count=len(resolved))
            return resolved

    async def _resolve(self, pb: PlaybookSpec) -> Playbook:
        problems: list[str] = []
        try:
            team = await self._chat.get_team_by_name(pb.team)
        except ChatRefused:
            raise PlaybookFileError(self.file, [f"team: no team named {pb.team!r}"]) from None

        async def user_id(field: str, n: int, name: str) -> str:
            try:
                return (await self._dir.by_username(name)).id
            except NotFound:
                problems.append(f"{field}[{n}]: no user @{name}")
                return ""

        invite = [await user_id("invite", n, u) for n, u in enumerate(pb.invite)]
        members = [await user_id("members", n, u) for n, u in enumerate(pb.members)]
        broadcast = ""
        if pb.broadcast_channel:
            try:
                broadcast = (await self._chat.get_channel_by_name(team.id, pb.broadcast_channel)).id
            except ChatRefused:
                problems.append(
                    f"broadcast_channel: no channel ~{pb.broadcast_channel} that the bot can see"
                )
        if problems:
            raise PlaybookFileError(self.file, problems)
        return Playbook(
            id=file_playbook_id(team.id, pb.title),
            title=pb.title,
            team_id=team.id,
            description=pb.description,
            stages=tuple(
                StageTemplate(
                    title=s.title,
                    tasks=tuple(
                        TaskTemplate(title=t.title, description=t.description, command=t.command)
                        for t in s.tasks
                    ),
                )
                for s in pb.stages
            ),
            private_channel=pb.private,
            broadcast_channel_id=broadcast,
            reminder_minutes=pb.reminder_minutes or None,
            status_template=pb.status_template,
            invite_user_ids=tuple(invite),
            member_ids=tuple(members),
            team_wide=pb.team_wide,
            source="file",
        )

    async def usable(self, team_id: str, user_id: str) -> list[Playbook]:
        """The playbooks ``user_id`` may start incidents with in ``team_id``, sorted by title."""
        playbooks = await self._store.for_team(team_id)
        if not playbooks:
            return []
        is_admin = await self._dir.is_admin(user_id)
        usable = [pb for pb in playbooks if pb.usable_by(user_id, is_admin=is_admin)]
        return sorted(usable, key=lambda pb: pb.title.lower())

    async def get_usable(self, team_id: str, user_id: str, playbook_id: str) -> Playbook | None:
        for pb in await self.usable(team_id, user_id):
            if pb.id == playbook_id:
                return pb
        return None
