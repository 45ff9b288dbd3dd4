"""Whose language a message is written in: the person's, else the household's, else the site's."""

from __future__ import annotations

from collections.abc import Iterable

from konenut.domain.state import HouseholdView, PersonView, SiteState

# The languages we have texts in (the catalogues); a person may speak others too.
LANGUAGES = ("he", "ar", "en", "th", "ne")
FALLBACK_LANGUAGE = "en"  # a site whose own language we have no texts in


def readable(languages: Iterable[str]) -> list[str]:
    """The languages we have texts in, in the given order, once each."""
    return [lang for lang in dict.fromkeys(languages) if lang in LANGUAGES]


def site_language(state: SiteState) -> str:
    lang = str((state.site or {}).get("default_language", ""))
    return lang if lang in LANGUAGES else FALLBACK_LANGUAGE


def household_languages(state: SiteState, household: HouseholdView | None) -> list[str]:
    """Every language of the household we have texts in, else the site's (never empty)."""
    return readable(household.languages if household else []) or [site_language(state)]


def device_language(state: SiteState, token_id: str | None) -> str | None:
    """The language chosen on a device subscribed to push, if it chose one we have texts in."""
    subscription = state.push_subscriptions.get(token_id or "")
    chosen = readable([subscription.lang] if subscription and subscription.lang else [])
    return chosen[0] if chosen else None


def reader_languages(
    state: SiteState, person: PersonView | None, household: HouseholdView | None = None
) -> list[str]:
    """What one person reads, best first (contracts §4): their own languages we have texts in,
    else their household's, else the site's. Never empty."""
    own = readable(person.languages if person else [])
    if own:
        return own
    if household is None and person is not None and person.household_id:
        household = state.households.get(person.household_id)
    return household_languages(state, household)
