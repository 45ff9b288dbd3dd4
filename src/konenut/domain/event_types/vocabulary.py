"""The words event payloads are made of: ids, refs, names, texts, languages, phones, times."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=32, strip_whitespace=True)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]
Lang = Literal["he", "ar", "en", "th", "ne", "ru", "am", "fr", "es"]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
# A country's dialling code without the "+" (972 Israel, 66 Thailand, 977 Nepal).
CountryCode = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,2}$")]
Stamp = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")]
# The address phones open: scheme, host and port only (pages live at /{lang}/...).
PublicUrl = Annotated[
    str, StringConstraints(pattern=r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?/?$", max_length=200)
]
Hash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Word = Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True)]
PhotoId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
