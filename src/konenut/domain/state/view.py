"""What the projection's parts share: the view base, the applier's type and the fold's helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from konenut.domain.events import Event

if TYPE_CHECKING:
    from konenut.domain.state.incidents import IncidentView
    from konenut.domain.state.site import SiteState


class View(BaseModel):
    """Base of every view: no unknown fields (a snapshot of another shape fails to load)."""

    model_config = ConfigDict(extra="forbid")


# Folds one event of its type into the state; the payload is as the registry normalised it.
Applier = Callable[["SiteState", Event], None]


def at(event: Event) -> str:
    """When the event happened, as views keep times."""
    return event.occurred_text


def incident_of(state: SiteState, event: Event) -> IncidentView | None:
    """The incident the event belongs to, if it is known."""
    return state.incidents.get(event.incident_id) if event.incident_id else None


def file_under(index: dict[Any, set[str]], key: Any, item: str) -> None:
    """Keep `item` under `key` in a lookup beside the views (None: nowhere)."""
    if key is not None:
        index.setdefault(key, set()).add(item)


def unfile(index: dict[Any, set[str]], key: Any, item: str) -> None:
    """The opposite of `file_under`; an emptied key goes, as a rebuild would never have made it."""
    filed = index.get(key)
    if filed is not None:
        filed.discard(item)
        if not filed:
            del index[key]
