"""Playbooks: loading ``playbooks.yaml`` (names resolved against the server) and who may use which."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.clock import Clock
from bot.domain.ids import is_mm_id, new_id
from bot.domain.models import Playbook, Webhook
from bot.domain.oneshot import OneShot
from bot.domain.run_policy import refused_of
from bot.domain.webhooks import host_allowed
from bot.errors import InputError, NotFound, PermissionDenied
from bot.log import get_logger
from bot.services.directory import Directory
from bot.services.playbook_export import to_yaml
from bot.services.playbook_file import (
    PlaybookFile,
    PlaybookFileError,
    PlaybookSpec,
    read,
    stage_templates,
)
from bot.services.playbook_import import ImportDraft, NotImportable
from bot.services.playbook_rules import Caller, PlaybookDraft, match
from bot.services.ports import (
    ChatClient,
    ChatRefused,
    InTransaction,
    NonceSpender,
    PlaybookRows,
)

log = get_logger(__name__)

ALL_TEAMS = "*"  # `team: "*"` in playbooks.yaml: every team the bot belongs to
USERNAME = re.compile(r"^@?[a-z0-9][a-z0-9._\-]{0,63}$")


def file_playbook_id(team_id: str, title: str) -> str:
    digest = hashlib.sha256(f"{team_id}\0{title.lower()}".encode()).hexdigest()
    return "f" + digest[:25]


class PlaybookService:
    def __init__(
        self,
        *,
        store: PlaybookRows,
        chat: ChatClient,
        directory: Directory,
        clock: Clock,
        file: Path,
        nonces: NonceSpender | None = None,
        webhook_hosts: frozenset[str] = frozenset(),
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """``webhook_hosts``: the hosts besides loopback webhooks may target; ``environ``:
        where a webhook's ``secret_env`` is looked up (the process environment by default)."""
        self._store = store
        self._webhook_hosts = webhook_hosts
        self._environ = environ if environ is not None else os.environ
        self._nonces = nonces
        self._chat = chat
        self._dir = directory
        self._clock = clock
        self.file = file
        self._reload_lock = asyncio.Lock()
        self.severity_levels: list[str] = []  # from the file; empty: the settings' levels
        # Called with the file's playbooks after each good (re)load (signals re-index).
        self.reloaded: list[Callable[[list[Playbook]], None]] = []

    async def reload(self) -> list[Playbook]:
        """Read, validate and resolve the file; replace the file's playbooks only if all is well.

        Raises :class:`PlaybookFileError` (the last good set stays in force).
        """
        async with self._reload_lock:
            spec = await asyncio.to_thread(read, self.file)
            resolved = await self.check(spec)
            await self._store.replace_file_playbooks(resolved, self._clock.now_ms())
            self.severity_levels = list(spec.severity_levels)
            for hook in self.reloaded:
                hook(resolved)
            log.info("playbooks_loaded", file=str(self.file), count=len(resolved))
            for playbook in resolved:
                refused = refused_of(playbook.run_commands)
                if refused:
                    log.warning(
                        "run_commands_refused",
                        playbook=playbook.title,
                        triggers=refused,
                        hint="built-ins that change memberships, channels or settings are never"
                        " run by the bot: Run hands them to the clicker",
                    )
            return resolved

    async def check(self, spec: PlaybookFile) -> list[Playbook]:
        """Resolve every playbook of ``spec`` against the server (teams, users, channels) and
        the chat playbooks, exactly as a reload does, without saving anything.

        Raises :class:`PlaybookFileError` with every problem found (all playbooks, all
        fields), or returns the resolved playbooks.
        """
        resolved: list[Playbook] = []
        problems: list[str] = []
        seen: dict[tuple[str, str], int] = {}
        for n, pb in enumerate(spec.playbooks):
            try:
                playbooks = await self._resolve(pb)
            except PlaybookFileError as exc:
                problems.extend(f"playbooks[{n}].{p}" for p in exc.problems)
                continue
            for playbook in playbooks:
                key = (playbook.team_id, playbook.title.lower())
                if key in seen:  # e.g. a `team: "*"` playbook and one of the same title
                    problems.append(
                        f"playbooks[{n}].title: same title as playbooks[{seen[key]}]"
                        " in one of the teams"
                    )
                seen.setdefault(key, n)
                resolved.append(playbook)
        problems += await self._clashes_with_chat(resolved)
        if problems:
            raise PlaybookFileError(self.file, problems)
        return resolved

    async def _clashes_with_chat(self, resolved: list[Playbook]) -> list[str]:
        problems: list[str] = []
        chat: dict[str, set[str]] = {}
        for n, pb in enumerate(resolved):
            if pb.team_id not in chat:
                chat[pb.team_id] = {
                    p.title.lower() for p in await self._store.for_team(pb.team_id)
                    if p.source != "file"
                }  # fmt: skip
            if pb.title.lower() in chat[pb.team_id]:
                problems.append(
                    f"playbooks[{n}].title: a playbook created in chat already has this title"
                    " in this team; rename one of them"
                )
        return problems

    async def _resolve(self, pb: PlaybookSpec) -> list[Playbook]:
        """The playbook in its team, or in every team the bot is in for ``team: "*"``."""
        if pb.team == ALL_TEAMS:
            teams = await self._chat.my_teams()
        else:
            try:
                teams = [await self._chat.get_team_by_name(pb.team)]
            except ChatRefused:
                # Users are global: name their problems too, not only the team's.
                users = await self._user_problems(pb)
                raise PlaybookFileError(
                    self.file, [f"team: no team named {pb.team!r}", *users]
                ) from None
        return [
            await self._resolve_in(pb, team.id, playbook_id=file_playbook_id(team.id, pb.title))
            for team in teams
        ]

    async def _user_problems(self, pb: PlaybookSpec) -> list[str]:
        problems: list[str] = []
        for key, names in (("invite", pb.invite), ("members", pb.members)):
            for n, name in enumerate(names):
                try:
                    await self._dir.by_username(name)
                except NotFound:
                    problems.append(f"{key}[{n}]: no user @{name}")
        return problems

    async def _resolve_in(
        self, pb: PlaybookSpec, team_id: str, *, playbook_id: str, source: str = "file"
    ) -> Playbook:
        problems: list[str] = []

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
                broadcast = (await self._chat.get_channel_by_name(team_id, pb.broadcast_channel)).id
            except ChatRefused:
                problems.append(
                    f"broadcast_channel: no channel ~{pb.broadcast_channel} that the bot can see"
                )
        signal_channels = []
        for n, name in enumerate(pb.signal_channels):
            try:
                signal_channels.append((await self._chat.get_channel_by_name(team_id, name)).id)
            except ChatRefused:
                problems.append(f"signal_channels[{n}]: no channel ~{name} that the bot can see")
        webhooks = self._webhooks(pb, problems) if source == "file" else ()
        if problems:
            raise PlaybookFileError(self.file, problems)
        return Playbook(
            id=playbook_id,
            title=pb.title,
            team_id=team_id,
            description=pb.description,
            stages=stage_templates(pb.stages),
            private_channel=pb.private,
            broadcast_channel_id=broadcast,
            reminder_minutes=pb.reminder_minutes or None,
            status_template=pb.status_template,
            invite_user_ids=tuple(invite),
            member_ids=tuple(members),
            team_wide=pb.team_wide,
            source=source,
            run_commands=tuple(pb.run_commands) if source == "file" else (),
            signal_keywords=tuple(pb.signal_keywords),
            signal_channel_ids=tuple(signal_channels),
            webhooks=webhooks,
        )

    def _webhooks(self, pb: PlaybookSpec, problems: list[str]) -> tuple[Webhook, ...]:
        """The file's webhooks; a target outside loopback and the allowed hosts, or a secret
        variable that is not set, is a problem of the file (said when it is loaded)."""
        hooks = []
        for n, spec in enumerate(pb.webhooks):
            if not host_allowed(spec.url, self._webhook_hosts):
                problems.append(
                    f"webhooks[{n}].url: only loopback and WARROOM_WEBHOOK_ALLOWED_HOSTS"
                    " may be webhook targets"
                )
            if not self._environ.get(spec.secret_env):
                problems.append(f"webhooks[{n}].secret_env: {spec.secret_env} is not set")
            hooks.append(
                Webhook(url=spec.url, events=tuple(spec.events), secret_env=spec.secret_env)
            )
        return tuple(hooks)

    async def file_playbooks(self) -> list[Playbook]:
        """The file's playbooks in force (the last good set), every team."""
        return await self._store.file_playbooks()

    # ---- who may see and change which playbook -------------------------------------------

    async def caller(self, team_id: str, user_id: str) -> Caller:
        user = await self._dir.user(user_id)
        in_team = user.is_admin or await self._chat.is_team_member(team_id, user_id)
        return Caller(
            user_id=user_id,
            team_id=team_id,
            is_admin=user.is_admin,
            in_team=in_team,
            is_guest=user.is_guest,
        )

    async def visible(self, caller: Caller) -> list[Playbook]:
        """What ``caller`` may see and start incidents with, sorted by title."""
        if not caller.in_team:
            return []
        playbooks = await self._store.for_team(caller.team_id)
        return sorted((pb for pb in playbooks if caller.sees(pb)), key=lambda p: p.title.lower())

    async def usable(self, team_id: str, user_id: str) -> list[Playbook]:
        """The playbooks ``user_id`` may start incidents with in ``team_id``, sorted by title."""
        return await self.visible(await self.caller(team_id, user_id))

    async def stored(self, playbook_id: str) -> Playbook | None:
        """The stored playbook ``playbook_id`` (None if none), whoever may see it: the
        caller decides visibility (:meth:`caller`, ``Caller.sees``)."""
        return await self._store.get(playbook_id)

    async def get_usable(self, team_id: str, user_id: str, playbook_id: str) -> Playbook | None:
        for pb in await self.usable(team_id, user_id):
            if pb.id == playbook_id:
                return pb
        return None

    async def find(self, caller: Caller, ref: str) -> Playbook:
        """A visible playbook by id, title or unambiguous title prefix (case-insensitive)."""
        found = match(await self.visible(caller), ref)
        if not found:
            raise NotFound("playbook", ref)
        if len(found) > 1:
            raise InputError(
                "ambiguous_playbook", field="playbook", detail=", ".join(p.title for p in found)
            )
        return found[0]

    async def editable(self, caller: Caller, playbook_id: str) -> Playbook:
        """The stored playbook, if ``caller`` may change it (raises otherwise)."""
        pb = await self._store.get(playbook_id)
        if pb is None or pb.team_id != caller.team_id or not caller.sees(pb):
            raise NotFound("playbook")
        if pb.source == "file":
            raise PermissionDenied("playbook_from_file")
        if not caller.edits(pb):
            raise PermissionDenied("not_playbook_member")
        return pb

    @staticmethod
    def require_author(caller: Caller) -> None:
        if not caller.in_team:
            raise PermissionDenied("not_team_member")
        if caller.is_guest and not caller.is_admin:
            raise PermissionDenied("guest_cannot_author")

    # ---- changes made in chat ----------------------------------------------------------------

    async def create(
        self, caller: Caller, draft: PlaybookDraft, *, once: OneShot | None = None
    ) -> Playbook:
        """Save a new playbook; ``once`` (the dialog's nonce) is spent with it."""
        self.require_author(caller)
        pb = draft.apply(
            Playbook(id=new_id(), title=draft.title, team_id=caller.team_id, source="chat"),
        ).model_copy(update={"member_ids": (caller.user_id,)})
        pb = _broadcast_chosen_by(pb, Playbook(id="", title="", team_id=""), caller.user_id)
        await self._save(pb, once)
        log.info("playbook_created", playbook_id=pb.id, user_id=caller.user_id)
        return pb

    async def update(
        self,
        caller: Caller,
        playbook_id: str,
        draft: PlaybookDraft,
        *,
        once: OneShot | None = None,
    ) -> Playbook:
        """Save the edited playbook; ``once`` (the dialog's nonce) is spent with it."""
        before = await self.editable(caller, playbook_id)
        pb = _broadcast_chosen_by(draft.apply(before), before, caller.user_id)
        await self._save(pb, once)
        log.info("playbook_updated", playbook_id=pb.id, user_id=caller.user_id)
        return pb

    async def delete(
        self, caller: Caller, playbook_id: str, *, once: OneShot | None = None
    ) -> Playbook:
        """Delete the playbook; ``once`` (the dialog's nonce) is spent with it."""
        pb = await self.editable(caller, playbook_id)
        await self._store.delete(pb.id, also=self._spending(once))
        log.info("playbook_deleted", playbook_id=pb.id, user_id=caller.user_id)
        return pb

    async def change_members(
        self, caller: Caller, playbook_id: str, *, add: bool, user_ids: list[str]
    ) -> tuple[Playbook, list[str]]:
        """Add or remove members; returns the playbook and the ids that actually changed."""
        pb = await self.editable(caller, playbook_id)
        if add:
            changed = [u for u in dict.fromkeys(user_ids) if u not in pb.member_ids]
            members = (*pb.member_ids, *changed)
        else:
            changed = [u for u in dict.fromkeys(user_ids) if u in pb.member_ids]
            members = tuple(u for u in pb.member_ids if u not in changed)
            if not members:
                raise InputError("last_member", field="members")
        pb = pb.model_copy(update={"member_ids": members})
        await self._save(pb)
        return pb, changed

    async def _save(self, pb: Playbook, once: OneShot | None = None) -> None:
        for other in await self._store.for_team(pb.team_id):
            if other.id != pb.id and other.title.lower() == pb.title.lower():
                raise InputError("duplicate_title", field="title")
        # InputError on a duplicate title (the store maps it)
        await self._store.upsert(pb, self._clock.now_ms(), also=self._spending(once))

    def _spending(self, once: OneShot | None) -> InTransaction | None:
        """The step that spends the dialog's nonce in the change's own transaction, so a
        kill between the two cannot let the same dialog apply twice. Raises
        :class:`InputError` ``stale_dialog`` (rolling the change back) if it was spent."""
        nonces = self._nonces
        if once is None or nonces is None:
            return None

        async def spend(tx: Any) -> None:
            if not await nonces.spend(tx, once, now=self._clock.now_ms()):
                raise InputError("stale_dialog")

        return spend

    # ---- names the people write, checked against the server ---------------------------------

    async def team_users(self, team_id: str, usernames: list[str], *, field: str) -> list[str]:
        """User ids of ``@names`` that exist and belong to the team; InputError names the first bad one."""
        ids: list[str] = []
        for name in usernames:
            if not USERNAME.match(name.lower()):
                raise InputError("bad_username", field=field, detail=f"`{name[:64]}`")
            try:
                user = await self._dir.by_username(name)
            except NotFound:
                raise InputError("unknown_user", field=field, detail=name.lstrip("@")) from None
            if not await self._chat.is_team_member(team_id, user.id):
                raise InputError("user_not_in_team", field=field, detail=user.username)
            ids.append(user.id)
        return list(dict.fromkeys(ids))

    async def team_channel(self, team_id: str, channel_id: str, *, field: str, user_id: str) -> str:
        """``channel_id`` if it is a channel of the team that both the bot and ``user_id`` see.

        The person who sets a chat playbook's broadcast channel must be able to read it
        themselves (issue 9, kind 1): warroom's later posts there are made on their say-so.
        A channel they cannot read is refused like one that does not exist.
        """
        if not channel_id:
            return ""
        try:
            channel = await self._dir.readable_channel_by_id(channel_id, user_id)
        except (NotFound, ChatRefused):
            raise InputError("broadcast_not_visible", field=field) from None
        if channel.team_id != team_id:
            raise InputError("broadcast_not_visible", field=field)
        return channel.id

    # ---- import and export ------------------------------------------------------------------

    async def import_draft(
        self, caller: Caller, draft: ImportDraft, *, once: OneShot | None = None
    ) -> ImportReport:
        self.require_author(caller)
        report = ImportReport(draft=draft)
        if draft.spec is not None:
            spec = draft.spec
            if spec.signal_keywords or spec.signal_channels:  # signals: playbooks.yaml only
                draft.unmapped += ["signal_keywords", "signal_channels"]
                spec = spec.model_copy(update={"signal_keywords": [], "signal_channels": []})
            if spec.webhooks:  # webhooks: playbooks.yaml only (the operator's targets)
                draft.unmapped.append("webhooks")
                spec = spec.model_copy(update={"webhooks": []})
            try:
                pb = await self._resolve_in(
                    spec, caller.team_id, playbook_id=new_id(), source="chat"
                )
            except PlaybookFileError as exc:
                raise NotImportable("import_invalid", exc.problems) from None
            if pb.broadcast_channel_id:
                try:  # the importer must be able to read it, not only the bot
                    await self.team_channel(
                        caller.team_id,
                        pb.broadcast_channel_id,
                        field="broadcast",
                        user_id=caller.user_id,
                    )
                except InputError:
                    report.unknown_channels.append(draft.spec.broadcast_channel)
                    pb = pb.model_copy(update={"broadcast_channel_id": ""})
            pb = pb.model_copy(update={"member_ids": (caller.user_id, *pb.member_ids)})
        else:
            pb = Playbook(
                id=new_id(),
                title=draft.title,
                team_id=caller.team_id,
                description=draft.description,
                stages=draft.stages,
                private_channel=draft.private,
                broadcast_channel_id=await self._known_channel(
                    caller.team_id, caller.user_id, draft, report
                ),
                reminder_minutes=draft.reminder_minutes or None,
                status_template=draft.status_template,
                invite_user_ids=tuple(await self._known_users(caller, draft.invite_ids, report)),
                member_ids=(
                    caller.user_id,
                    *await self._known_users(caller, draft.member_ids, report),
                ),
                team_wide=draft.team_wide,
                source="chat",
            )
        pb = pb.model_copy(update={"member_ids": tuple(dict.fromkeys(pb.member_ids))})
        pb = _broadcast_chosen_by(pb, Playbook(id="", title="", team_id=""), caller.user_id)
        await self._save(pb, once)
        report.playbook = pb
        log.info("playbook_imported", playbook_id=pb.id, kind=draft.kind, user_id=caller.user_id)
        return report

    async def _known_users(self, caller: Caller, ids: list[str], report: ImportReport) -> list[str]:
        known: list[str] = []
        for uid in ids:
            if uid == caller.user_id:
                continue
            if is_mm_id(uid) and await self._is_team_user(caller.team_id, uid):
                known.append(uid)
            elif uid not in report.unknown_users:
                report.unknown_users.append(uid)
        return known

    async def _is_team_user(self, team_id: str, user_id: str) -> bool:
        try:
            await self._dir.user(user_id)
        except NotFound:
            return False
        return await self._chat.is_team_member(team_id, user_id)

    async def _known_channel(
        self, team_id: str, user_id: str, draft: ImportDraft, report: ImportReport
    ) -> str:
        for cid in draft.broadcast_ids:
            try:
                if is_mm_id(cid):
                    return await self.team_channel(team_id, cid, field="broadcast", user_id=user_id)
            except InputError:
                pass
            report.unknown_channels.append(cid)
        return ""

    async def broadcast_name(self, pb: Playbook, viewer_id: str) -> str | None:
        """The URL name of ``pb``'s broadcast channel as ``viewer_id`` may see it.

        ``""`` when the playbook has none; ``None`` when it has one that the viewer may not
        read (or that is gone): its name is read with the viewer's rights, never the bot's
        (issue 9, kind 1), so a private channel's name reaches only its readers.
        """
        if not pb.broadcast_channel_id:
            return ""
        try:
            channel = await self._dir.readable_channel_by_id(pb.broadcast_channel_id, viewer_id)
        except (NotFound, ChatRefused):
            return None
        return channel.name

    async def export(self, pb: Playbook, viewer_id: str) -> str:
        """``pb`` as the YAML ``playbooks.yaml`` accepts, as ``viewer_id`` may read it (a
        broadcast channel they cannot read is left out)."""
        team = await self._chat.get_team(pb.team_id)
        names = await self._dir.names([*pb.invite_user_ids, *pb.member_ids])
        channel = await self.broadcast_name(pb, viewer_id) or ""
        return to_yaml(pb, team_name=team.name, usernames=names.by_id, broadcast_channel=channel)


def _broadcast_chosen_by(pb: Playbook, before: Playbook, user_id: str) -> Playbook:
    """``pb`` noting ``user_id`` as the chooser when its broadcast channel is new or changed."""
    if not pb.broadcast_channel_id:
        return pb.model_copy(update={"broadcast_set_by": ""})
    if pb.broadcast_channel_id != before.broadcast_channel_id or not before.broadcast_set_by:
        return pb.model_copy(update={"broadcast_set_by": user_id})
    return pb


@dataclass
class ImportReport:
    draft: ImportDraft
    playbook: Playbook | None = None
    unknown_users: list[str] = field(default_factory=list)
    unknown_channels: list[str] = field(default_factory=list)
