"""Keys, radios and kits in the projection: who holds each, and who was asked to bring it."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from konenut.domain.events import Event
from konenut.domain.state.view import Applier, View, at, incident_of

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class AssetView(View):
    asset_id: str
    ref: str
    kind: str
    name: str
    holder_person_id: str | None = None
    holder_ref: str | None = None  # with no holder_person_id: "holder unknown" until registered
    opens_ref: str | None = None
    needed_at_muster: bool = True


class AssetHandedOverPayload(TypedDict):
    asset_id: str
    holder_person_id: NotRequired[str]  # absent: back in the armory, or held by a ref
    holder_ref: NotRequired[str]


def _asset_added(state: SiteState, event: Event) -> None:
    asset = AssetView.model_validate(event.payload)
    state.assets[asset.asset_id] = asset
    _resolve_holder(state, asset)


def _asset_handed_over(state: SiteState, event: Event) -> None:
    p = cast(AssetHandedOverPayload, event.payload)
    asset = state.assets.get(p["asset_id"])
    if asset is not None:
        asset.holder_person_id = p.get("holder_person_id")
        asset.holder_ref = p.get("holder_ref")
        _resolve_holder(state, asset)


def _resolve_holder(state: SiteState, asset: AssetView) -> None:
    """An asset held by a ref is the person's with that ref, once they are registered (a site
    can be set up in any order: keys first, people later)."""
    if asset.holder_person_id is None and asset.holder_ref is not None:
        person = state.person_by_ref(asset.holder_ref)
        asset.holder_person_id = person.person_id if person else None


def _asset_requested(state: SiteState, event: Event) -> None:
    if incident := incident_of(state, event):
        incident.asset_requests.append({**event.payload, "at": at(event), "by": event.actor})


APPLIERS: dict[str, Applier] = {
    "asset.added": _asset_added,
    "asset.handed_over": _asset_handed_over,
    "asset.requested": _asset_requested,
}
