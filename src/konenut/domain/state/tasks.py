"""Tasks in the projection: whom each is for, where, by when, and how far it got."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from pydantic import Field

from konenut.domain.events import Event, JsonDict
from konenut.domain.state.view import Applier, View, at, incident_of
from konenut.domain.tasks import TaskState

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class TaskView(View):
    task_id: str
    title: str
    assignee_ids: list[str]
    building_ref: str | None = None
    location: JsonDict | None = None
    deadline: str | None = None
    text: str = ""
    state: str = TaskState.OPEN.value
    created_at: str
    created_by: str | None = None
    accepted_by: dict[str, str] = Field(default_factory=dict)  # person -> time
    closed_at: str | None = None  # done or failed
    closed_by: str | None = None
    closed_text: str = ""


class TaskCreatedPayload(TypedDict):
    task_id: str
    title: str
    assignee_ids: list[str]
    building_ref: NotRequired[str]
    deadline: NotRequired[str]
    text: NotRequired[str]


class TaskStepPayload(TypedDict):
    task_id: str
    person_id: str
    text: NotRequired[str]


def _task_created(state: SiteState, event: Event) -> None:
    if incident := incident_of(state, event):
        p = cast(TaskCreatedPayload, event.payload)
        incident.tasks[p["task_id"]] = TaskView(
            task_id=p["task_id"],
            title=p["title"],
            assignee_ids=p["assignee_ids"],
            building_ref=p.get("building_ref"),
            location=event.location,
            deadline=p.get("deadline"),
            text=p.get("text", ""),
            created_at=at(event),
            created_by=event.actor,
        )


def _task_of(state: SiteState, event: Event) -> TaskView | None:
    incident = incident_of(state, event)
    task_id = cast(TaskStepPayload, event.payload)["task_id"]
    return incident.tasks.get(task_id) if incident else None


def _task_accepted(state: SiteState, event: Event) -> None:
    if task := _task_of(state, event):
        task.state = TaskState.ACCEPTED.value
        task.accepted_by.setdefault(cast(TaskStepPayload, event.payload)["person_id"], at(event))


def _closer(to: TaskState) -> Applier:
    def close(state: SiteState, event: Event) -> None:
        if task := _task_of(state, event):
            task.state = to.value
            task.closed_at = at(event)
            task.closed_by = cast(TaskStepPayload, event.payload)["person_id"]
            task.closed_text = cast(TaskStepPayload, event.payload).get("text", "")

    return close


APPLIERS: dict[str, Applier] = {
    "task.created": _task_created,
    "task.accepted": _task_accepted,
    "task.completed": _closer(TaskState.DONE),
    "task.failed": _closer(TaskState.FAILED),
}
