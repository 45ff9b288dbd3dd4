"""Tasks: given by the console or the commander's phone, accepted, done or failed by assignees."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from konenut.app.commands import Command
from konenut.app.decisions import Decide
from konenut.app.handlers.events import new_event
from konenut.app.handlers.incidents import in_open_incident
from konenut.app.handlers.supplies import check_place
from konenut.app.identity import Actor
from konenut.domain.errors import FieldInvalid, NotFound
from konenut.domain.event_types.tasks import TASK_MAX_ASSIGNEES, Note
from konenut.domain.event_types.vocabulary import Id, Name, Ref
from konenut.domain.events import NewEvent
from konenut.domain.ids import format_time, new_id
from konenut.domain.state import IncidentView, SiteState, TaskView
from konenut.domain.tasks import TaskState, check_deadline, check_transition


class CreateTask(Command):
    """A task for one or more people: what, where (`location` and/or a house), by when."""

    title: Name
    assignee_ids: list[Id] = Field(min_length=1, max_length=TASK_MAX_ASSIGNEES)
    building_ref: Ref | None = None
    deadline: datetime | None = Field(default=None, description="RFC 3339; still ahead")
    text: Note = ""


class TaskAnswer(Command):
    """Accepted, done or failed; a failure says why."""

    text: Note = ""


def create_task(actor: Actor, incident_id: str, cmd: CreateTask) -> Decide:
    task_id = new_id()

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        unknown = [p for p in cmd.assignee_ids if p not in state.persons]
        if unknown:
            raise FieldInvalid("body.assignee_ids", f"no person {unknown[0]}")
        check_deadline(cmd.deadline, now)
        if cmd.location is not None or cmd.building_ref is not None:
            check_place(state, cmd.location, cmd.building_ref)
        payload = {
            "task_id": task_id,
            **cmd.model_dump(exclude={"occurred_at", "location", "deadline"}, exclude_none=True),
            "assignee_ids": list(dict.fromkeys(cmd.assignee_ids)),
        }
        if cmd.deadline is not None:
            payload["deadline"] = format_time(cmd.deadline)
        return [
            new_event("task.created", payload, actor=actor, cmd=cmd, now=now, incident=incident)
        ]

    return in_open_incident(incident_id, inner, {"task_id": task_id})


def task_in(incident: IncidentView, task_id: str) -> TaskView:
    task = incident.tasks.get(task_id)
    if task is None:
        raise NotFound(f"no task {task_id} in incident {incident.ref}")
    return task


STEP_EVENTS = {
    TaskState.ACCEPTED: "task.accepted",
    TaskState.DONE: "task.completed",
    TaskState.FAILED: "task.failed",
}


def answer_task(
    actor: Actor, incident_id: str, task_id: str, to: TaskState, cmd: TaskAnswer
) -> Decide:
    """An assignee (or the commander) moves the task on, as its state machine allows."""

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        task = task_in(incident, task_id)
        check_transition(task.state, to)
        if to is TaskState.ACCEPTED and actor.subject_id in task.accepted_by:
            return []  # accepted already: nothing changes
        payload = {
            "task_id": task_id,
            "person_id": actor.subject_id,
            "assignee_ids": task.assignee_ids,
            **({"text": cmd.text} if cmd.text else {}),
        }
        event = new_event(
            STEP_EVENTS[to], payload, actor=actor, cmd=cmd, now=now, incident=incident
        )
        return [event]

    return in_open_incident(incident_id, inner)
