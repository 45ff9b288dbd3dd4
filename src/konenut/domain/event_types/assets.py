"""Keys, radios and kits: who holds them and who was asked to bring them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints

from konenut.domain.event_types.vocabulary import Id, Name, Ref
from konenut.domain.events import Payload


class AssetKind(StrEnum):
    GATE_KEY = "gate_key"
    ARMORY_KEY = "armory_key"
    RADIO = "radio"
    WEAPONS_LOCKER = "weapons_locker"
    VEHICLE = "vehicle"
    MEDICAL_KIT = "medical_kit"
    OTHER = "other"


class AssetAdded(Payload):
    asset_id: Id
    ref: Ref
    kind: AssetKind
    name: Name
    holder_person_id: Id | None = None
    holder_ref: Ref | None = None  # the holder's ref when given by ref (maybe nobody's yet)
    opens_ref: Ref | None = None  # for keys: the gate or building ref it opens
    needed_at_muster: bool = True  # the muster board says when nobody coming carries it


class AssetHandedOver(Payload):
    asset_id: Id
    holder_person_id: Id | None = None  # None: back in the armory / unassigned
    holder_ref: Ref | None = None  # the holder's ref when given by ref (maybe nobody's yet)


class AssetRequested(Payload):
    asset_id: Id
    person_id: Id  # the holder asked to bring it
    text: Annotated[str, StringConstraints(max_length=300)] = ""
