"""Household cards: a standing pass per household, printed and kept by the door (issue 5).

A card's code enrols up to 10 devices as residents of that one household and never expires.
Issuing a new card revokes the household's previous card, so a lost card stops working; the
devices it already enrolled keep working (revoking the card itself ends them too, app/passes.py).
A card as printed (`printed_card`: link, QR, short instructions in the household's languages)
is the same for the API's printable page and `konenut cards print`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from konenut.app.commands import Body, Command
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers import new_event
from konenut.app.identity import Actor, hash_code, hash_secret
from konenut.app.passes import (
    PassRefused,
    new_pass_code,
    pass_link,
    qr_data_url,
    redeemable,
    redemption_events,
)
from konenut.domain.errors import NotFound
from konenut.domain.events import NewEvent
from konenut.domain.ids import new_id
from konenut.domain.roles import Role, SubjectKind
from konenut.domain.state import HouseholdView, SiteState
from konenut.i18n import LANGUAGES, catalogue, direction
from konenut.security.qr import format_code

PURPOSE = "household_card"
CARD_MAX_DEVICES = 10  # a family's phones, a carer's, a grandparent's: not a whole street

Code = Annotated[str, StringConstraints(min_length=16, max_length=40)]


class IssueCard(Command):
    """A new card for one household (its previous card stops working)."""


class IssueCards(Command):
    households: Literal["all"] | list[Annotated[str, StringConstraints(min_length=1)]] = Field(
        default="all",
        description='"all", or the households\' refs (house numbers) to print cards for',
    )


class RedeemCard(Body):
    code: Code = Field(description="The card's 16-character code (dashes and spaces ignored)")


def households_for(state: SiteState, wanted: Literal["all"] | Sequence[str]) -> list[HouseholdView]:
    """The households named by ref (or all of them, by ref); NotFound names the unknown refs."""
    households = sorted(list(state.households.values()), key=lambda h: _ref_key(h.ref))
    if wanted == "all":
        return households
    by_ref = {h.ref: h for h in households}
    unknown = [ref for ref in wanted if ref not in by_ref]
    if unknown:
        raise NotFound(f"no household(s) with ref {', '.join(unknown[:5])}")
    return [by_ref[ref] for ref in dict.fromkeys(wanted)]


def _ref_key(ref: str) -> tuple[int, str]:
    # House "9" before house "10"; non-numeric refs ("W1") after the numbers.
    digits = "".join(ch for ch in ref if ch.isdigit())
    return (int(digits) if digits.isdigit() and digits == ref else 10**9, ref)


def _card_events(
    state: SiteState, actor: Actor | None, cmd: Command, household_id: str, code: str, now: datetime
) -> tuple[list[NewEvent], str]:
    events = [
        new_event(
            "pass.revoked",
            {"pass_id": old.pass_id, "reason": "a new card was issued"},
            actor=actor,
            cmd=None,
            now=now,
        )
        for old in list(state.passes.values())
        if old.purpose == PURPOSE and old.household_id == household_id and old.revoked_at is None
    ]
    pass_id = new_id()
    payload: dict[str, Any] = {
        "pass_id": pass_id,
        "purpose": PURPOSE,
        "role": Role.RESIDENT.value,
        "household_id": household_id,
        "max_devices": CARD_MAX_DEVICES,
        "code_hash": hash_code(state.code_key, code),
    }
    events.append(new_event("pass.issued", payload, actor=actor, cmd=cmd, now=now))
    return events, pass_id


def issue_cards(actor: Actor | None, cmd: IssueCards, codes: Sequence[str] | None = None) -> Decide:
    """New cards for the chosen households, in house-number order: one pass each."""

    def decide(state: SiteState, now: datetime) -> Decision:
        households = households_for(state, cmd.households)
        given = list(codes or [])
        events: list[NewEvent] = []
        cards: list[dict[str, Any]] = []
        secrets: list[str] = []
        for index, household in enumerate(households):
            code = given[index] if index < len(given) else new_pass_code()
            made, pass_id = _card_events(state, actor, cmd, household.household_id, code, now)
            events.extend(made)
            cards.append(_card_of(household, pass_id))
            secrets.append(format_code(code))
        return Decision(events, extra={"cards": cards}, secrets={"codes": secrets})

    return decide


def issue_card(actor: Actor | None, household_id: str, cmd: IssueCard, code: str) -> Decide:
    """A new card for one household; its previous card is revoked in the same step."""

    def decide(state: SiteState, now: datetime) -> Decision:
        household = state.households.get(household_id)
        if household is None:
            raise NotFound(f"no household {household_id}")
        events, pass_id = _card_events(state, actor, cmd, household_id, code, now)
        return Decision(
            events, extra=_card_of(household, pass_id), secrets={"code": format_code(code)}
        )

    return decide


def _card_of(household: HouseholdView, pass_id: str) -> dict[str, Any]:
    return {
        "pass_id": pass_id,
        "household_id": household.household_id,
        "ref": household.ref,
        "name": household.name,
        "building_ref": household.building_ref,
        "languages": household.languages,
    }


def redeem_card(cmd: RedeemCard, token: str) -> Decide:
    """This device becomes a resident of the card's household, and of no other."""
    token_id = new_id()

    def decide(state: SiteState, now: datetime) -> Decision:
        try:
            found = redeemable(state, cmd.code, PURPOSE, now)
        except PassRefused as refused:
            if refused.slug != "pass-used-up":
                raise
            raise PassRefused(
                409,
                refused.slug,
                f"this household card has enrolled its {CARD_MAX_DEVICES} phones already; "
                "ask the squad's admin for a new card (the phones enrolled keep working)",
            ) from None
        household_id = found.household_id or ""
        if household_id not in state.households:
            raise NotFound(f"no household {household_id}")
        enrolled, audit = redemption_events(
            found,
            token_id=token_id,
            token_hash=hash_secret(token),
            subject_id=household_id,
            subject_kind=SubjectKind.HOUSEHOLD.value,
            now=now,
            incident_id=None,
            drill=False,
        )
        return Decision(
            [enrolled, audit],
            secrets={"token": token},
            extra={
                "token_id": token_id,
                "roles": [Role.RESIDENT.value],
                "household_id": household_id,
                "devices_left": CARD_MAX_DEVICES - found.redeemed - 1,
            },
        )

    return decide


def card_language(languages: list[str]) -> str:
    """The language a household's link opens in: its first one we have pages in."""
    return next((lang for lang in languages if lang in LANGUAGES), "he")


def card_texts(languages: list[str]) -> list[dict[str, str]]:
    """The card's short instructions in each of the household's languages we ship."""
    shown = [lang for lang in dict.fromkeys(languages) if lang in LANGUAGES] or ["he"]
    return [
        {
            "lang": lang,
            "dir": direction(lang),
            "title": catalogue(lang)["card.title"],
            "instructions": catalogue(lang)["card.instructions"],
        }
        for lang in shown
    ]


def printed_card(base_url: str, card: dict[str, Any], code: str) -> dict[str, Any]:
    """A card as printed: its data, the code, the link in the household's language, the QR."""
    link = pass_link(base_url, code, card_language(card["languages"]))
    return {
        **card,
        "code": code,
        "link": link,
        "qr_data_url": qr_data_url(link),
        "texts": card_texts(card["languages"]),
    }
