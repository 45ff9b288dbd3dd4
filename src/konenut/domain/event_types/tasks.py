"""Tasks the commander gives (open gate 3, guide the unit in), and the assignees' answers."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from konenut.domain.event_types.audiences import ORDER_AUDIENCE
from konenut.domain.event_types.vocabulary import Id, Name, Ref, Stamp
from konenut.domain.events import EventType, Payload

Note = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]
TASK_MAX_ASSIGNEES = 50


class TaskCreated(Payload):
    """A task for one or more people; the place is the event's location and/or a house."""

    task_id: Id
    title: Name
    assignee_ids: list[Id] = Field(min_length=1, max_length=TASK_MAX_ASSIGNEES)
    building_ref: Ref | None = None
    deadline: Stamp | None = None
    text: Note = ""


class TaskStep(Payload):
    """An answer on a task: who gave it, and whom the task is for (its audience)."""

    task_id: Id
    person_id: Id
    assignee_ids: list[Id] = Field(min_length=1, max_length=TASK_MAX_ASSIGNEES)
    text: Note = ""


class TaskAccepted(TaskStep):
    """An assignee took it on."""


class TaskCompleted(TaskStep):
    """Done (by an assignee, or marked so by the commander)."""


class TaskFailed(TaskStep):
    """It could not be done; the text says why."""


# A task reaches its assignees and those who run the squad (and the liaison): like an order,
# the rest of the squad's phones are not cluttered with what is not theirs.
TASK_AUDIENCE = ORDER_AUDIENCE

TASK_EVENT_TYPES: tuple[EventType, ...] = tuple(
    EventType(name, 1, payload, TASK_AUDIENCE, targets_field="assignee_ids", requires_incident=True)
    for name, payload in (
        ("task.created", TaskCreated),
        ("task.accepted", TaskAccepted),
        ("task.completed", TaskCompleted),
        ("task.failed", TaskFailed),
    )
)
