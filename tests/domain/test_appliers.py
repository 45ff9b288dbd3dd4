"""The projection's table of appliers against the registry of event types: every registered
type is folded into the state or listed as not projected, and appliers read only payload
fields the type's schema has (their TypedDicts say which)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any, ForwardRef, is_typeddict

from pydantic.fields import FieldInfo

import konenut.domain.state
from konenut.domain.event_types import EVENT_TYPES, REGISTRY
from konenut.domain.state import NOT_PROJECTED
from konenut.domain.state.site import APPLIERS

# TypedDicts read for several types; any other is named after its type's payload model.
SHARED_SHAPES = {
    "NotificationSettledPayload": ("notification.delivered", "notification.failed"),
    "VolunteerDecidedPayload": ("volunteer.approved", "volunteer.declined"),
    "TaskStepPayload": ("task.accepted", "task.completed", "task.failed"),
}


def test_every_registered_type_is_projected_or_listed_as_not_projected() -> None:
    projected, registered = set(APPLIERS), set(REGISTRY)
    assert registered - projected - NOT_PROJECTED == set(), "neither projected nor listed"
    assert projected & NOT_PROJECTED == set(), "projected and listed as not projected"
    assert (projected | NOT_PROJECTED) - registered == set(), "not a registered type"


def _payload_shapes() -> Iterator[Any]:
    for info in pkgutil.iter_modules(konenut.domain.state.__path__):
        module = importlib.import_module(f"konenut.domain.state.{info.name}")
        for value in vars(module).values():
            if is_typeddict(value) and value.__module__ == module.__name__:
                yield value


def _types_read_by(shape: Any) -> tuple[str, ...]:
    if shape.__name__ in SHARED_SHAPES:
        return SHARED_SHAPES[shape.__name__]
    model = shape.__name__.removesuffix("Payload")
    return tuple(etype.name for etype in EVENT_TYPES if etype.payload.__name__ == model)


def _not_required(annotation: Any) -> bool:
    """NotRequired[...] (`__required_keys__` misses it under postponed annotations in 3.11)."""
    text = annotation.__forward_arg__ if isinstance(annotation, ForwardRef) else repr(annotation)
    return str(text).startswith(("NotRequired[", "typing.NotRequired["))


def _may_be_absent(fields: dict[str, FieldInfo], key: str) -> bool:
    field = fields.get(key)
    return field is None or (field.default is None and not field.is_required())


def test_appliers_read_only_fields_their_payloads_have() -> None:
    shapes = list(_payload_shapes())
    assert len(shapes) > 20
    for shape in shapes:
        names = _types_read_by(shape)
        assert names, f"{shape.__name__} names no registered payload model"
        models = [REGISTRY[name].payload.model_fields for name in names]
        for key, annotation in shape.__annotations__.items():
            assert any(key in fields for fields in models), f"{shape.__name__}.{key}: no field"
            # Payloads are stored without their None fields: such a key may be absent, as is
            # one that only some of the types read have.
            if any(_may_be_absent(fields, key) for fields in models):
                assert _not_required(annotation), f"{shape.__name__}.{key}: NotRequired"
