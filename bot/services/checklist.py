"""Stages and tasks use-cases: apply a checklist transition, then say it and refresh the posts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from bot.clock import Clock
from bot.domain import checklist
from bot.domain.models import EventKind, Incident, Task, TimelineEvent
from bot.domain.oneshot import OneShot
from bot.domain.run_policy import RunDecision, RunMode, decide
from bot.domain.signing import Signer
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

CONFIRM_TTL_MS = 15 * 60 * 1000
UNKNOWN_COMMAND = "api.command.execute_command.not_found.app_error"
Change = Callable[[Incident], Transition]


class ChecklistService:
    """Built from the app's services whenever a handler needs it; only runs in flight persist."""

    # "<incident id>:<task id>" of commands running now: a second click meanwhile runs nothing.
    _running: ClassVar[set[str]] = set()

    def __init__(
        self,
        *,
        incidents: IncidentService,
        directory: Directory,
        chat: ChatClient,
        notifier: Notifier,
        clock: Clock,
        tasks: TaskTracker,
        signer: Signer,
        dialog_url: str,
        run_commands: frozenset[str] = frozenset(),
    ) -> None:
        self._incidents = incidents
        self._dir = directory
        self._chat = chat
        self._notify = notifier
        self._clock = clock
        self._tasks = tasks
        self._signer = signer
        self._dialog_url = dialog_url
        self._run_commands = run_commands

    @classmethod
    def of(cls, svc: Services) -> ChecklistService:
        return cls(
            incidents=svc.incidents,
            directory=svc.directory,
            chat=svc.chat,
            notifier=svc.notifier,
            clock=svc.clock,
            tasks=svc.tasks,
            signer=svc.signer,
            dialog_url=svc.urls.dialog,
            run_commands=frozenset(svc.settings.run_commands),
        )

    def now(self) -> int:
        return self._clock.now_ms()

    async def change(
        self, incident_id: str, change: Change, *, once: OneShot | None = None
    ) -> tuple[Incident, list[TimelineEvent]]:
        """Apply ``change`` to the current state; if anything changed, say so and refresh.

        The lines are recorded with the change and posted exactly once (the outbox)."""
        saved, events = await self._incidents.mutate(
            incident_id, change, notices=self._lines, once=once
        )
        if events:
            self._incidents.refresh_later(saved, tell=events[0].actor_id)
        return saved, events

    async def _lines(self, _: Incident, events: list[TimelineEvent]) -> list[str]:
        ids = [e.actor_id for e in events]
        ids += [
            str(e.data[k])
            for e in events
            if e.kind is EventKind.TASK_ASSIGNED
            for k in ("from", "to")
        ]
        names = await self._dir.names(ids)
        return [text.change_line(event, names) for event in events]

    def confirmation(
        self, action: str, incident: Incident, actor_id: str, params: dict[str, Any]
    ) -> str:
        """A one-shot dialog state for ``action``, bound to the incident and the user."""
        return self._signer.sign(
            action,
            expires_at=self.now() + CONFIRM_TTL_MS,
            incident_id=incident.id,
            user_id=actor_id,
            one_shot=True,
            params=params,
        )

    async def open_dialog(self, trigger_id: str, dialog: dict[str, Any]) -> None:
        await self._chat.open_dialog(trigger_id, dialog["url"], dialog["dialog"])

    # ---- stages ---------------------------------------------------------------------------

    async def move_stage(
        self,
        incident: Incident,
        actor_id: str,
        *,
        step: int,
        from_stage: int,
        once: OneShot | None = None,
    ) -> None:
        now = self.now()
        await self.change(
            incident.id,
            lambda cur: checklist.move_stage(
                cur, from_stage=from_stage, step=step, actor_id=actor_id, now=now
            ),
            once=once,
        )

    async def next_stage(
        self, incident: Incident, actor_id: str, trigger_id: str, *, from_stage: int
    ) -> None:
        """Move on now, or, while the stage has open tasks, ask first in a dialog."""
        if incident.active_stage != from_stage:
            return  # someone already moved the stage: this intent is spent
        checklist.stage_target(incident, +1)
        still_open = checklist.open_tasks(incident)
        if not still_open:
            await self.move_stage(incident, actor_id, step=+1, from_stage=from_stage)
            return
        state = self.confirmation("stagenext", incident, actor_id, {"from": from_stage})
        intro = text.confirm_next_intro(incident, still_open)
        await self.open_dialog(
            trigger_id, text.stage_dialog(url=self._dialog_url, state=state, intro=intro)
        )

    def task_dialog(
        self, incident: Incident, actor_id: str, *, stage: int, task: Task | None = None
    ) -> dict[str, Any]:
        """The dialog that adds a task to ``stage`` or, given ``task``, edits it."""
        params: dict[str, Any] = {"t": task.id} if task else {"stage": stage}
        state = self.confirmation("taskedit", incident, actor_id, params)
        return text.task_dialog(
            url=self._dialog_url, state=state, stage=incident.stages[stage], task=task
        )

    # ---- operations that need more than a transition --------------------------------------

    async def assign(
        self, incident: Incident, *, actor_id: str, task_id: str, user_id: str
    ) -> None:
        """Assign the task to a member of the incident channel; ``user_id=""`` unassigns."""
        if user_id:
            user = await self._dir.current(user_id)  # fresh: deactivated or not
            if user.is_bot:
                raise InputError("assignee_is_bot")
            if user.is_deactivated:
                raise InputError("user_deactivated")
            await self._dir.require_in_incident(incident, user.id)
        now = self.now()
        await self.change(
            incident.id,
            lambda cur: checklist.assign(
                cur, task_id=task_id, assignee_id=user_id, actor_id=actor_id, now=now
            ),
        )

    def run_decision(self, incident: Incident, command: str) -> RunDecision:
        """Whether Run executes ``command`` as the bot or hands it to the clicker.

        Allowed: ``WARROOM_RUN_COMMANDS`` plus the ``run_commands`` of the incident's playbook
        in playbooks.yaml; refused built-ins stay refused either way.
        """
        return decide(command, self._run_commands | frozenset(incident.run_commands))

    async def run(
        self, incident: Incident, *, actor_id: str, task_id: str, seen_run: int | None
    ) -> RunDecision:
        """Act on a click of the task's Run button; never with rights the clicker lacks.

        By default the command is handed over: recorded on the timeline as given to
        ``actor_id``, who runs it themselves (the caller shows it to them). Only a trigger the
        administrator allowed, and not a refused built-in (``bot.domain.run_policy``), is run
        by the bot, in the background (it may be slow), once per click: ``seen_run`` is the
        task's last run as the clicked button showed it; if the task ran since, or is running
        now, this click is a repeat and runs nothing.
        """
        task = checklist.locate(incident, task_id).task
        if not task.command:
            raise InvalidTransition("no_command")
        decision = self.run_decision(incident, task.command)
        if decision.mode is RunMode.HAND_OVER:
            now = self.now()
            await self.change(
                incident.id,
                lambda cur: checklist.record_handover(
                    cur, task_id=task.id, actor_id=actor_id, now=now
                ),
            )
            log.info(
                "task_command_handed_over",
                incident_id=incident.id,
                trigger=decision.trigger,
                refused_builtin=decision.refused_builtin,
            )
            return decision
        key = f"{incident.id}:{task.id}"
        if key in self._running:
            raise InvalidTransition("already_running")
        if task.last_run_at != seen_run:
            raise InvalidTransition("just_ran")
        self._running.add(key)
        self._tasks.spawn(
            f"taskrun-{task.id}",
            self._run(incident, actor_id, task, key),
            report=self._notify.reporter(
                actor_id, incident.channel_id, text.run_crashed(task.command)
            ),
        )
        return decision

    async def _run(self, incident: Incident, actor_id: str, task: Task, key: str) -> None:
        try:
            why = await self._execute(incident, task)
            if why:
                await self._notify.tell(
                    actor_id, incident.channel_id, text.run_failed(task.command, why)
                )
                return
            now = self.now()
            await self.change(
                incident.id,
                lambda cur: checklist.record_run(cur, task_id=task.id, actor_id=actor_id, now=now),
            )
        except WarroomError as exc:  # e.g. the task was removed while its command ran
            log.info("task_run_not_recorded", incident_id=incident.id, detail=repr(exc))
        finally:
            self._running.discard(key)

    async def _execute(self, incident: Incident, task: Task) -> str:
        """Run an allowed command as the bot; "" when it ran, else why not ("maybe": the
        outcome is unknown, so the run is not recorded and the clicker is told to look)."""
        try:
            await self._chat.execute_command(incident.channel_id, task.command)
        except ChatRefused as exc:
            log.info("task_command_refused", incident_id=incident.id, error_id=exc.error_id)
            return "unknown" if exc.error_id == UNKNOWN_COMMAND else "refused"
        except ChatUnavailable as exc:  # a lost answer or a 500: it may have run
            return "maybe" if exc.outcome_unknown else "unavailable"
        return ""
