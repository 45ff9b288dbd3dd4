"""The site's configuration: its name, plan, muster templates, caution and guest settings."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from konenut.domain.event_types.vocabulary import CountryCode, Lang, Name, PublicUrl, Ref
from konenut.domain.events import Payload
from konenut.domain.site_plan import SitePlan


class MusterTemplate(BaseModel):
    """A site's own muster call: its text per language, and where to gather."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]
    kind: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "hostile_infiltration"
    rally_point_ref: Ref = "R1"
    texts: dict[Lang, Annotated[str, StringConstraints(min_length=1, max_length=300)]] = Field(
        min_length=1
    )


class CautionSettings(BaseModel):
    """How near is too near (domain/caution.py); the site TOML's [caution] table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    radius_m: float = Field(default=150.0, ge=10, le=2000)
    converge_m: float = Field(default=50.0, ge=5, le=1000)


class GuestSettings(BaseModel):
    """How much one guest poster may bring in (app/guests.py); the site TOML's [guests] table.

    A poster hangs where anyone can scan it: one code redeemed 20 times put 10,000 people in one
    building. Defaults: a building's poster serves a few families; a shelter raises them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_devices_per_poster: int = Field(default=30, ge=1, le=10_000)  # per incident
    max_people_per_guest: int = Field(default=20, ge=1, le=500)  # per redemption or check-in
    # Redemptions a minute: one phone per family, a shelter's Wi-Fi puts several on one address.
    redemptions_per_address_per_min: int = Field(default=10, ge=1, le=10_000)
    redemptions_per_poster_per_min: int = Field(default=20, ge=1, le=10_000)


class SiteConfigured(Payload):
    name: Name
    names: dict[Lang, Name] = Field(default_factory=dict)
    default_language: Lang = "he"
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "Asia/Jerusalem"
    plan: dict[str, Any] | None = None
    muster_templates: list[MusterTemplate] | None = Field(default=None, max_length=30)
    caution: CautionSettings | None = None
    guests: GuestSettings | None = None
    public_url: PublicUrl | None = None  # links' base (app/identity.py links_url)
    country_code: CountryCode | None = None  # phones typed 0XX... (domain/phones.py)

    @field_validator("plan")
    @classmethod
    def _valid_plan(cls, plan: dict[str, Any] | None) -> dict[str, Any] | None:
        if plan is not None:
            SitePlan.model_validate(plan)
        return plan
