"""``/incident check``, ``/incident stage`` and ``/incident task``: numbers are as shown (1-based).

Numbers are resolved to a task's stable id against the state the caller sees; the change is
then applied to the current state by id, so a concurrent edit never redirects it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.domain import checklist
from bot.domain.models import Incident, Task, new_task_id
from bot.domain.stages import title_problem
from bot.errors import InputError, InvalidTransition
from bot.render import checklist as text
from bot.services.checklist import Change, ChecklistService
from bot.services.container import Services

from .incident import USERNAME
from .router import CommandRequest, CommandRouter, Reply

NOBODY = ("nobody", "none", "-")


def register(router: CommandRouter) -> None:
    router.add("check", check, help=text.HELP["check"])
    router.add("stage", stage, help=text.HELP["stage"])
    router.add("task", task, help=text.HELP["task"])


# ---- argument parsing -------------------------------------------------------------------


def arity(command: str, args: list[str], count: int) -> None:
    if len(args) < count:
        raise InputError("missing_argument", field=command)
    if len(args) > count:
        raise InputError("too_many_arguments", field=command)


def number(arg: str, command: str) -> int:
    if not arg.isascii() or not arg.isdigit() or len(arg) > 6:
        raise InputError("not_a_number", field=command, detail=text.not_a_number(arg))
    return int(arg)


def stage_index(incident: Incident, arg: str, command: str) -> int:
    """The 0-based index of the stage numbered ``arg``."""
    if not incident.stages:
        raise InvalidTransition("no_stages")
    n = number(arg, command)
    if not 1 <= n <= len(incident.stages):
        raise InputError(
            "stage_out_of_range", field=command, detail=text.stage_range(len(incident.stages))
        )
    return n - 1


def task_ref(incident: Incident, stage_arg: str, task_arg: str, command: str) -> checklist.TaskRef:
    s = stage_index(incident, stage_arg, command)
    n = number(task_arg, command)
    stage = incident.stages[s]
    if not 1 <= n <= len(stage.tasks):
        raise InputError("task_out_of_range", field=command, detail=text.task_range(s + 1, stage))
    return checklist.TaskRef(s, n - 1, stage.tasks[n - 1])


async def member_incident(svc: Services, req: CommandRequest) -> Incident:
    incident = await svc.incidents.in_channel(req.channel_id)
    await svc.directory.require_member(incident, req.user_id)
    return incident


# ---- check and stage --------------------------------------------------------------------


async def check(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    incident = await member_incident(svc, req)
    arity("check", args, 2)
    ref = task_ref(incident, args[0], args[1], "check")
    now = svc.clock.now_ms()
    await ChecklistService.of(svc).change(
        incident.id,
        lambda cur: checklist.toggle(cur, task_id=ref.task.id, actor_id=req.user_id, now=now),
    )
    return Reply()


async def stage(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    incident = await member_incident(svc, req)
    arity("stage", args, 1)
    direction = args[0].lower()
    if direction == "next":
        await ChecklistService.of(svc).next_stage(
            incident, req.user_id, req.trigger_id, from_stage=incident.active_stage
        )
    elif direction in ("prev", "previous"):
        checklist.stage_target(incident, -1)
        await ChecklistService.of(svc).move_stage(
            incident, req.user_id, step=-1, from_stage=incident.active_stage
        )
    else:
        raise InputError("bad_stage_direction", field="stage")
    return Reply()


# ---- task add|edit|remove|move|state|assign ----------------------------------------------


@dataclass(frozen=True)
class TaskCall:
    """One ``/incident task <op> …`` call: who, where, the words after ``<op>``, and when."""

    svc: Services
    req: CommandRequest
    incident: Incident
    args: list[str]
    now: int

    @property
    def actor(self) -> str:
        return self.req.user_id

    def ref(self, count: int) -> checklist.TaskRef:
        """``<stage#> <task#>`` plus ``count - 2`` more words, exactly."""
        arity("task", self.args, count)
        return task_ref(self.incident, self.args[0], self.args[1], "task")

    async def apply(self, change: Change) -> None:
        await ChecklistService.of(self.svc).change(self.incident.id, change)


async def task(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    incident = await member_incident(svc, req)
    if not args:
        raise InputError("missing_argument", field="task")
    op = TASK_OPS.get(args[0].lower())
    if op is None:
        raise InputError("bad_task_subcommand", field="task")
    await op(TaskCall(svc, req, incident, args[1:], svc.clock.now_ms()))
    return Reply()


async def task_add(call: TaskCall) -> None:
    if not call.args:
        raise InputError("missing_argument", field="task")
    s = stage_index(call.incident, call.args[0], "task")
    title = " ".join(call.args[1:])
    if not title:
        await _open_task_dialog(call, stage=s)
        return
    if why := title_problem(title):
        raise InputError(why, field="task")
    fields = checklist.TaskFields(title=title)
    task_id = new_task_id()
    await call.apply(
        lambda cur: checklist.add_task(
            cur, stage=s, task_id=task_id, fields=fields, actor_id=call.actor, now=call.now
        )
    )


async def task_edit(call: TaskCall) -> None:
    ref = call.ref(2)
    await _open_task_dialog(call, stage=ref.stage, task=ref.task)


async def task_remove(call: TaskCall) -> None:
    ref = call.ref(2)
    await call.apply(
        lambda cur: checklist.remove_task(
            cur, task_id=ref.task.id, actor_id=call.actor, now=call.now
        )
    )


async def task_move(call: TaskCall) -> None:
    ref = call.ref(3)
    stage = call.incident.stages[ref.stage]
    position = number(call.args[2], "task")
    if not 1 <= position <= len(stage.tasks):
        raise InputError(
            "position_out_of_range", field="task", detail=text.task_range(ref.stage + 1, stage)
        )
    await call.apply(
        lambda cur: checklist.move_task(
            cur, task_id=ref.task.id, position=position - 1, actor_id=call.actor, now=call.now
        )
    )


async def task_state(call: TaskCall) -> None:
    ref = call.ref(3)
    state = text.STATE_WORDS.get(call.args[2].lower())
    if state is None:
        raise InputError("bad_task_state", field="task")
    await call.apply(
        lambda cur: checklist.set_state(
            cur, task_id=ref.task.id, state=state, actor_id=call.actor, now=call.now
        )
    )


async def task_assign(call: TaskCall) -> None:
    ref = call.ref(3)
    who = call.args[2].lower()
    user_id = ""
    if who not in NOBODY:
        if not USERNAME.match(who):
            raise InputError("bad_username", field="task")
        user_id = (await call.svc.directory.by_username(who)).id
    await ChecklistService.of(call.svc).assign(
        call.incident, actor_id=call.actor, task_id=ref.task.id, user_id=user_id
    )


TASK_OPS: dict[str, Callable[[TaskCall], Awaitable[None]]] = {
    "add": task_add,
    "edit": task_edit,
    "remove": task_remove,
    "move": task_move,
    "state": task_state,
    "assign": task_assign,
}


async def _open_task_dialog(call: TaskCall, *, stage: int, task: Task | None = None) -> None:
    service = ChecklistService.of(call.svc)
    dialog = service.task_dialog(call.incident, call.actor, stage=stage, task=task)
    await service.open_dialog(call.req.trigger_id, dialog)
