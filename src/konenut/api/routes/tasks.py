"""Tasks of an incident: given by those who run the squad, answered by the assignees' phones."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from konenut.api.deps import Access, idempotency_key, incident_for, permit
from konenut.app.handlers import tasks
from konenut.domain.event_types.tasks import TASK_AUDIENCE
from konenut.domain.events import Scope
from konenut.domain.tasks import TaskState, is_overdue
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(prefix="/api/v1/incidents", tags=["tasks"])

Key = Depends(idempotency_key)


@router.get("/{incident_id}/tasks", operation_id="list_tasks")
def list_tasks(
    incident_id: str, access: Access = Depends(permit("list_tasks"))
) -> list[dict[str, Any]]:
    """The tasks the caller sees (an assignee, theirs; those who run the squad, all), the
    newest first, each `overdue` when its deadline passed by the server's clock."""
    incident = incident_for(access, incident_id)
    viewer = access.actor.viewer
    sees_all = any(
        r in TASK_AUDIENCE and TASK_AUDIENCE[r].scope is not Scope.TARGETED for r in viewer.roles
    )
    now = access.runtime.store.clock()
    shown = sorted(incident.tasks.values(), key=lambda t: t.created_at, reverse=True)
    return [
        {**t.model_dump(), "overdue": is_overdue(t.state, t.deadline, now)}
        for t in shown
        if sees_all or viewer.subject_id in t.assignee_ids
    ]


@router.post("/{incident_id}/tasks", operation_id="create_task", status_code=201)
async def create_task(
    incident_id: str,
    body: tasks.CreateTask,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("create_task")),
) -> JSONResponse:
    """A task for one or more people: what, where, by when."""
    incident_for(access, incident_id)
    return await access.run(tasks.create_task(access.actor, incident_id, body), idem)


async def _answer(
    access: Access,
    incident_id: str,
    task_id: str,
    to: TaskState,
    body: tasks.TaskAnswer,
    idem: IdempotencyKey,
) -> JSONResponse:
    task = tasks.task_in(incident_for(access, incident_id), task_id)
    if access.scope is Scope.OWN and access.actor.subject_id not in task.assignee_ids:
        raise access.deny("you may act only on a task given to you")
    return await access.run(tasks.answer_task(access.actor, incident_id, task_id, to, body), idem)


@router.post("/{incident_id}/tasks/{task_id}/accept", operation_id="accept_task", status_code=201)
async def accept_task(
    incident_id: str,
    task_id: str,
    body: tasks.TaskAnswer,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("accept_task")),
) -> JSONResponse:
    """An assignee takes it on."""
    return await _answer(access, incident_id, task_id, TaskState.ACCEPTED, body, idem)


@router.post("/{incident_id}/tasks/{task_id}/done", operation_id="complete_task", status_code=201)
async def complete_task(
    incident_id: str,
    task_id: str,
    body: tasks.TaskAnswer,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("complete_task")),
) -> JSONResponse:
    """Done."""
    return await _answer(access, incident_id, task_id, TaskState.DONE, body, idem)


@router.post("/{incident_id}/tasks/{task_id}/failed", operation_id="fail_task", status_code=201)
async def fail_task(
    incident_id: str,
    task_id: str,
    body: tasks.TaskAnswer,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("fail_task")),
) -> JSONResponse:
    """It could not be done; the text says why."""
    return await _answer(access, incident_id, task_id, TaskState.FAILED, body, idem)
