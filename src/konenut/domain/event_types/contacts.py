"""Where a person can be reached beyond the app, and which addresses each channel takes."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import StringConstraints, model_validator

from konenut.domain.event_types.vocabulary import ClockTime, Id
from konenut.domain.events import Payload

# Where a person can be reached beyond the app; the phone of person.added is the SMS default.
ContactChannel = Literal["sms", "telegram", "signal", "whatsapp", "email", "voice"]
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
# Channels whose address is a phone number: typed ones are normalised (domain/phones.py).
PHONE_ADDRESS_CHANNELS = ("sms", "voice", "whatsapp", "signal")
ADDRESS_PATTERNS: dict[str, re.Pattern[str]] = {
    **dict.fromkeys(PHONE_ADDRESS_CHANNELS, _PHONE),
    "telegram": re.compile(r"^(-?[0-9]{3,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$"),
    "email": re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$"),
}
ADDRESS_HINTS: dict[str, str] = {
    "sms": "a phone number in international form, e.g. +972501234567",
    "voice": "a phone number in international form, e.g. +972501234567",
    "whatsapp": "a phone number in international form, e.g. +972501234567",
    "signal": "a phone number in international form, e.g. +972501234567",
    "telegram": "a numeric Telegram chat id or an @username",
    "email": "an e-mail address",
}


def address_problem(channel: str, address: str | None) -> str | None:
    """Why `address` cannot be used on `channel`, or None when it can (or is being removed)."""
    if address is None or ADDRESS_PATTERNS[channel].match(address):
        return None
    return f"not a valid {channel} address: {ADDRESS_HINTS[channel]}"


class ContactPointSet(Payload):
    person_id: Id
    channel: ContactChannel
    address: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    # Quiet hours (site time) hold back drills' calls on this channel; real incidents override.
    quiet_from: ClockTime | None = None
    quiet_until: ClockTime | None = None

    @model_validator(mode="after")
    def _address_fits_channel(self) -> ContactPointSet:
        problem = address_problem(self.channel, self.address)
        if problem:
            raise ValueError(problem)
        if (self.quiet_from is None) != (self.quiet_until is None):
            raise ValueError("quiet hours need both quiet_from and quiet_until")
        return self
