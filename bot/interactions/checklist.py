"""The checklist's buttons and menus, and the dialogs of stages and tasks.

Every click names its task by stable id and its intent (``to: done`` / ``to: open``, the stage
it moves from), so each is applied to the current state and a repeat changes nothing.
Confirming "Next stage" while tasks are open uses a dialog opened with the click's trigger id.
"""

from __future__ import annotations

from typing import Any

from bot.domain import checklist
from bot.domain.ids import is_mm_id
from bot.domain.models import Incident, new_task_id
from bot.domain.run_policy import RunMode
from bot.domain.signing import Claims
from bot.domain.stages import task_problems
from bot.errors import InputError, InvalidTransition, NotFound
from bot.interactions.router import (
    ActionRequest,
    ActionResponse,
    DialogResponse,
    DialogSubmission,
    InteractionRouter,
    one_shot,
)
from bot.render import checklist as text
from bot.render import messages
from bot.services.checklist import ChecklistService
from bot.services.container import Services


def register(router: InteractionRouter) -> None:
    router.action("taskcheck", click_check)
    router.action("taskassign", click_assign)
    router.action("taskrun", click_run)
    router.action("taskinfo", click_info)
    router.action("stagenext", click_next)
    router.action("stageprev", click_prev)
    router.dialog("stagenext", submit_next)
    router.dialog("taskedit", submit_task)


async def _clicked(svc: Services, req: ActionRequest, claims: Claims) -> Incident:
    """The incident of the clicked post, once the clicker is known to be a member."""
    incident = await svc.incidents.get(claims.i)
    if incident.channel_id != req.channel_id:
        raise NotFound("incident")
    await svc.directory.require_member(incident, req.user_id)
    return incident


def _task_id(claims: Claims) -> str:
    return str(claims.p.get("t", ""))


async def click_check(svc: Services, req: ActionRequest, claims: Claims) -> ActionResponse:
    incident = await _clicked(svc, req, claims)
    done = claims.p.get("to") == "done"
    now = svc.clock.now_ms()
    await ChecklistService.of(svc).change(
        incident.id,
        lambda cur: checklist.set_done(
            cur, task_id=_task_id(claims), done=done, actor_id=req.user_id, now=now
        ),
    )
    return ActionResponse()


async def click_assign(svc: Services, req: ActionRequest, claims: Claims) -> ActionResponse:
    incident = await _clicked(svc, req, claims)
    chosen = req.selected_option
    if not is_mm_id(chosen):
        raise NotFound("user")
    await ChecklistService.of(svc).assign(
        incident, actor_id=req.user_id, task_id=_task_id(claims), user_id=chosen
    )
    return ActionResponse()


async def click_run(svc: Services, req: ActionRequest, claims: Claims) -> ActionResponse:
    incident = await _clicked(svc, req, claims)
    ran = claims.p.get("ran")
    service = ChecklistService.of(svc)
    decision = await service.run(
        incident,
        actor_id=req.user_id,
        task_id=_task_id(claims),
        seen_run=ran if isinstance(ran, int) else None,
    )
    if decision.mode is RunMode.HAND_OVER:
        task = checklist.locate(incident, _task_id(claims)).task
        return ActionResponse(ephemeral_text=text.run_handed_over(task.command, decision))
    return ActionResponse()


async def click_info(svc: Services, req: ActionRequest, claims: Claims) -> ActionResponse:
    incident = await _clicked(svc, req, claims)
    ref = checklist.locate(incident, _task_id(claims))
    decision = ChecklistService.of(svc).run_decision(incident, ref.task.command)
    return ActionResponse(
        ephemeral_text=text.task_info(ref.index + 1, ref.task, decision.mode is RunMode.EXECUTE)
    )


async def click_prev(svc: Services, req: ActionRequest, claims: Claims) -> ActionResponse:
    incident = await _clicked(svc, req, claims)
    await ChecklistService.of(svc).move_stage(
        incident, req.user_id, step=-1, from_stage=_from(claims)
    )
    return ActionResponse()


async def click_next(svc: Services, req: ActionRequest, claims: Claims) -> ActionResponse:
    incident = await _clicked(svc, req, claims)
    await ChecklistService.of(svc).next_stage(
        incident, req.user_id, req.trigger_id, from_stage=_from(claims)
    )
    return ActionResponse()


def _from(claims: Claims) -> int:
    value = claims.p.get("from")
    if not isinstance(value, int):
        raise InputError("stale_button")
    return value


async def submit_next(svc: Services, sub: DialogSubmission, claims: Claims) -> DialogResponse:
    incident = await svc.incidents.get(claims.i)
    await svc.directory.require_member(incident, sub.user_id)
    await ChecklistService.of(svc).move_stage(
        incident, sub.user_id, step=+1, from_stage=_from(claims), once=one_shot(claims)
    )
    return DialogResponse()


# ---- the task dialog (add or edit) ------------------------------------------------------


def task_fields(sub: DialogSubmission) -> tuple[checklist.TaskFields, dict[str, str]]:
    """The dialog's task, and a field error for every rule it breaks (the rules of every path)."""
    fields = checklist.TaskFields(
        title=sub.text("title"), description=sub.text("description"), command=sub.text("command")
    )
    problems = task_problems(
        title=fields.title, description=fields.description, command=fields.command
    )
    return fields, {field: messages.field_error(reason) for field, reason in problems}


async def submit_task(svc: Services, sub: DialogSubmission, claims: Claims) -> DialogResponse:
    incident = await svc.incidents.get(claims.i)
    await svc.directory.require_member(incident, sub.user_id)
    fields, errors = task_fields(sub)
    if errors:
        return DialogResponse(errors=errors)
    params: dict[str, Any] = claims.p
    now = svc.clock.now_ms()
    service = ChecklistService.of(svc)
    if "t" in params:
        task_id = str(params["t"])
        await service.change(
            incident.id,
            lambda cur: checklist.edit_task(
                cur, task_id=task_id, fields=fields, actor_id=sub.user_id, now=now
            ),
            once=one_shot(claims),
        )
        return DialogResponse()
    stage = params.get("stage")
    if not isinstance(stage, int):
        raise InvalidTransition("stage_gone")
    task_id = new_task_id()
    await service.change(
        incident.id,
        lambda cur: checklist.add_task(
            cur, stage=stage, task_id=task_id, fields=fields, actor_id=sub.user_id, now=now
        ),
        once=one_shot(claims),
    )
    return DialogResponse()
