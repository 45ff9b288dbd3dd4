"""One normaliser for every phone input: typed forms in, E.164 out, with the site's country."""

from __future__ import annotations

import pytest

from konenut.domain.phones import normalise_phone


@pytest.mark.parametrize(
    ("typed", "country_code", "stored"),
    [
        ("0521234567", "972", "+972521234567"),
        ("052-123 4567", "972", "+972521234567"),
        ("(052) 123-4567", "972", "+972521234567"),
        ("02-123 4567", "972", "+97221234567"),
        ("081 234 5678", "66", "+66812345678"),
        ("+972 52-123-4567", "66", "+972521234567"),
        ("00977 9812345678", "972", "+9779812345678"),
        (" +66812345678 ", "972", "+66812345678"),
    ],
)
def test_local_and_international_forms_give_one_number(
    typed: str, country_code: str, stored: str
) -> None:
    assert normalise_phone(typed, country_code) == stored


@pytest.mark.parametrize(
    "typed",
    ["", "052-123", "521234567", "+0521234567", "0521234567x", "+97252123456789012", "phone"],
)
def test_what_cannot_be_one_number_is_refused(typed: str) -> None:
    assert normalise_phone(typed, "972") is None
