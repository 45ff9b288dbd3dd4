"""Phone numbers as people type them, turned into the international form every channel needs."""

from __future__ import annotations

import re

from konenut.domain.errors import FieldInvalid
from konenut.domain.state import SiteState

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
SEPARATORS = re.compile(r"[\s\-().]")
# The site file's `country_code` when it has none: the demo and the first sites are in Israel.
DEFAULT_COUNTRY_CODE = "972"
# Digits after the trunk 0 of a local number: Israeli, Thai and Nepali numbers have 8 (landline)
# to 10; fewer is a number typed short, which must not become someone else's.
MIN_NATIONAL_DIGITS = 8
PHONE_HINT = "use the international form, e.g. +972501234567, or the local one, e.g. 0501234567"


def normalise_phone(raw: str, country_code: str) -> str | None:
    """`raw` in E.164 form, or None when it is not a number we can be sure of.

    "+972 50-123 4567" and "00972501234567" are international; "050-123 4567" (one leading 0,
    the trunk prefix) is a number of the site's country. A number with neither may belong to
    any country, so it is refused rather than guessed.
    """
    compact = SEPARATORS.sub("", raw.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    elif compact.startswith("0"):
        national = compact[1:]
        if len(national) < MIN_NATIONAL_DIGITS:
            return None
        compact = "+" + country_code + national
    return compact if E164.match(compact) else None


def site_country_code(state: SiteState) -> str:
    """The dialling code of the site's own numbers (site file `country_code`)."""
    return str((state.site or {}).get("country_code") or DEFAULT_COUNTRY_CODE)


def site_phone(state: SiteState, raw: str | None, loc: str) -> str | None:
    """A phone field of a command in E.164 (None when left empty); FieldInvalid at `loc`."""
    if raw is None or not raw.strip():
        return None
    number = normalise_phone(raw, site_country_code(state))
    if number is None:
        raise FieldInvalid(loc, f"'{raw}' is not a phone number: {PHONE_HINT}")
    return number
