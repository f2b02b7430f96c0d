"""Stages and tasks use-cases: apply a checklist transition, then say it and refresh the posts."""

from __future__ import annotations

from collections.abc import Callable

from bot.clock import Clock
from bot.domain import checklist
from bot.domain.models import EventKind, Incident, Task, TimelineEvent
from bot.domain.transitions import Transition
from bot.errors import ChatUnavailable, InputError, InvalidTransition, WarroomError
from bot.log import get_logger
from bot.render import checklist as text
from bot.services.container import Services
from bot.services.directory import Directory
from bot.services.incidents import IncidentService
from bot.services.notify import Notifier
from bot.services.ports import ChatClient, ChatRefused
from bot.tasks import TaskTracker

log = get_logger(__name__)

UNKNOWN_COMMAND = "api.command.execute_command.not_found.app_error"
Change = Callable[[Incident], Transition]


class ChecklistService:
    """Stateless: built from the app's services whenever a handler needs it."""

    def __init__(
        self,
        *,
        incidents: IncidentService,
        directory: Directory,
        chat: ChatClient,
        notifier: Notifier,
        clock: Clock,
        tasks: TaskTracker,
    ) -> None:
        self._incidents = incidents
        self._dir = directory
        self._chat = chat
        self._notify = notifier
        self._clock = clock
        self._tasks = tasks

    @classmethod
    def of(cls, svc: Services) -> ChecklistService:
        return cls(
            incidents=svc.incidents,
            directory=svc.directory,
            chat=svc.chat,
            notifier=svc.notifier,
            clock=svc.clock,
            tasks=svc.tasks,
        )

    def now(self) -> int:
        return self._clock.now_ms()

    async def change(
        self, incident_id: str, change: Change
    ) -> tuple[Incident, list[TimelineEvent]]:
        """Apply ``change`` to the current state; if anything changed, say so and refresh."""
        saved, events = await self._incidents.mutate(incident_id, change)
        if events:
            ids = [e.actor_id for e in events]
            ids += [
                str(e.data[k])
                for e in events
                if e.kind is EventKind.TASK_ASSIGNED
                for k in ("from", "to")
            ]
            names = await self._dir.names(ids)
            for event in events:
                await self._say(saved, text.change_line(event, names))
            self._incidents.refresh_later(saved)
        return saved, events

    async def _say(self, incident: Incident, line: str) -> None:
        try:
            await self._chat.create_post(incident.channel_id, line)
        except (ChatRefused, ChatUnavailable):
            log.exception("checklist_line_failed", incident_id=incident.id)

    # ---- operations that need more than a transition --------------------------------------

    async def assign(
        self, incident: Incident, *, actor_id: str, task_id: str, user_id: str
    ) -> None:
        """Assign the task to a member of the incident channel; ``user_id=""`` unassigns."""
        if user_id:
            user = await self._dir.user(user_id)
            if user.is_bot:
                raise InputError("assignee_is_bot")
            if not await self._chat.is_channel_member(incident.channel_id, user.id):
                raise InputError("not_in_channel")
        now = self.now()
        await self.change(
            incident.id,
            lambda cur: checklist.assign(
                cur, task_id=task_id, assignee_id=user_id, actor_id=actor_id, now=now
            ),
        )

    async def run(self, incident: Incident, *, actor_id: str, task_id: str) -> None:
        """Check the task has a command, then run it in the background (it may be slow)."""
        task = checklist.locate(incident, task_id).task
        if not task.command:
            raise InvalidTransition("no_command")
        self._tasks.spawn(f"taskrun-{task.id}", self._run(incident, actor_id, task))

    async def _run(self, incident: Incident, actor_id: str, task: Task) -> None:
        why = ""
        try:
            await self._chat.execute_command(incident.channel_id, task.command)
        except ChatRefused as exc:
            why = "unknown" if exc.error_id == UNKNOWN_COMMAND else "refused"
            log.info("task_command_refused", incident_id=incident.id, error_id=exc.error_id)
        except ChatUnavailable:
            why = "unavailable"
        if why:
            await self._notify.tell(
                actor_id, incident.channel_id, text.run_failed(task.command, why)
            )
            return
        now = self.now()
        try:
            await self.change(
                incident.id,
                lambda cur: checklist.record_run(cur, task_id=task.id, actor_id=actor_id, now=now),
            )
        except WarroomError as exc:  # the task was removed while its command ran
            log.info("task_run_not_recorded", incident_id=incident.id, detail=repr(exc))
