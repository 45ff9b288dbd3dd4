"""The household registry as a flat sheet (CSV or XLSX): read, check every row, import, export.

One row per person; the household columns repeat on each of its rows (or are left blank after
the first). Everything is checked before anything is stored, and only what differs from the
log becomes events, all of them in one Decision. docs/registry.md describes the columns.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, get_args

from konenut.app.decisions import Decide, Decision
from konenut.app.identity import Actor
from konenut.domain.errors import InvalidEvent
from konenut.domain.event_types import AgeGroup, HouseholdFields, Lang, PersonFields, SafeRoom
from konenut.domain.events import NewEvent
from konenut.domain.ids import new_id
from konenut.domain.phones import (
    MIN_NATIONAL_DIGITS,
    PHONE_HINT,
    normalise_phone,
    site_country_code,
)
from konenut.domain.site_plan import FeatureKind, plan_refs
from konenut.domain.state import HouseholdView, PersonView, SiteState

HOUSEHOLD_COLUMNS = (
    "household_ref",
    "household_name",
    "building_ref",
    "safe_room",
    "household_languages",
    "foreman",
    "pets",
)
PERSON_COLUMNS = ("person_ref", "name", "age_group", "languages", "phone", "special_needs")
COLUMNS = HOUSEHOLD_COLUMNS + PERSON_COLUMNS
# Columns the header must have; the others may be left out of the sheet.
REQUIRED_COLUMNS = ("household_ref", "household_name", "building_ref", "safe_room", "person_ref")
# Household columns that at least one of the household's rows must fill in.
# building_ref may stay blank (a household not placed yet), but a given one must be on the plan.
REQUIRED_HOUSEHOLD_VALUES = ("household_name", "safe_room")

CSV_TYPES = frozenset({"text/csv", "application/csv", "text/plain"})
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LANGUAGES: tuple[str, ...] = get_args(Lang)
SPECIAL_NEEDS = ("mobility", "medical", "infants", "hearing")
SAFE_ROOMS: tuple[str, ...] = tuple(r.value for r in SafeRoom)
AGE_GROUPS: tuple[str, ...] = tuple(g.value for g in AgeGroup)
MAX_REF, MAX_NAME, MAX_PETS, MAX_LANGUAGES = 32, 200, 200, 5
MAX_ROWS = 100_000
# Caps on what reading a sheet may cost, each refusing the whole file with its own message: a
# 27 KiB workbook once expanded to 449 MiB in memory. Our own export of 100,000 people is a
# 5 MiB XLSX that expands to 65 MiB.
MAX_XLSX_EXPANDED_BYTES = 128 * 2**20  # the zip's members, as declared (zipfile holds to it)
MAX_SHEET_ROWS = 2 * MAX_ROWS  # row numbers, blank rows included
MAX_SHEET_COLUMNS = 64  # the sheet has 13 columns; spreadsheets add some empty ones
MAX_CELL_CHARS = 1_000  # the longest value allowed is 200 characters
# A spreadsheet takes a cell that starts with one of these for a formula (OWASP, CSV injection;
# ASVS 1.2.10): an export writes such a value after a single quote, which the import takes off.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
FORMULA_ESCAPE = "'"


def _choices(values: Iterable[str]) -> str:
    listed = list(values)
    return ", ".join(listed[:-1]) + f" or {listed[-1]}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the sheet: where (row as the user sees it, header = 1) and what."""

    row: int
    column: str
    msg: str

    def as_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "msg": self.msg}


class RegistryRejected(InvalidEvent):
    """The sheet has problems; nothing of it was stored. `errors` lists them row by row."""

    slug = "invalid-registry"

    def __init__(self, problems: list[Problem]) -> None:
        rows = len({p.row for p in problems})
        super().__init__(
            f"{len(problems)} problem(s) on {rows} row(s) of the sheet; nothing was imported",
            [p.as_json() for p in problems],
        )
        self.problems = problems


@dataclass(frozen=True)
class Sheet:
    """The sheet as read: its columns and its non-empty rows with their row numbers."""

    columns: tuple[str, ...]
    rows: list[tuple[int, dict[str, str]]]
    problems: list[Problem] = field(default_factory=list)


# --- reading ----------------------------------------------------------------------------------
def read_sheet(data: bytes, media_type: str) -> Sheet:
    """The sheet in a CSV or XLSX file; RegistryRejected when it cannot be read at all."""
    kind = media_type.split(";")[0].strip().lower()
    if kind == XLSX_TYPE or data[:4] == b"PK\x03\x04":
        with closing(_xlsx_rows(data)) as rows:  # the workbook is closed however reading ends
            return _sheet(rows)
    if kind in CSV_TYPES or not kind:
        return _sheet(_csv_rows(data))
    raise RegistryRejected([Problem(1, "", f"cannot read a {kind} file: send CSV or XLSX")])


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RegistryRejected(
            [Problem(line, "", "the file is not UTF-8 text: save it as 'CSV UTF-8'")]
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as exc:
        line = reader.line_num or 1
        raise RegistryRejected([Problem(line, "", f"not readable as CSV: {exc}")]) from None


def _xlsx_rows(data: bytes) -> Generator[list[str], None, None]:
    """The first sheet's rows, read one at a time (openpyxl's read-only mode streams the XML)."""
    _check_expanded_size(data)
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise _not_a_workbook() from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # a false <dimension> would pad every row out to its size
        rows = sheet.iter_rows(values_only=True)
        while (values := _next_row(rows)) is not None:
            yield [_cell_text(v) for v in values]
    finally:
        book.close()


def _check_expanded_size(data: bytes) -> None:
    """Refuse a zip bomb before reading it: the sizes the zip declares bound what zipfile
    (and so openpyxl) will ever expand, as it stops with an error at a member's declared size."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _not_a_workbook() from None
    expanded_bytes = sum(member.file_size for member in members)
    if expanded_bytes > MAX_XLSX_EXPANDED_BYTES:
        raise RegistryRejected(
            [
                Problem(
                    1,
                    "",
                    f"the workbook expands to {expanded_bytes // 2**20:,} MiB, over the cap of "
                    f"{MAX_XLSX_EXPANDED_BYTES // 2**20} MiB for an XLSX file: save it as CSV",
                )
            ]
        )


def _next_row(rows: Iterator[tuple[Any, ...]]) -> tuple[Any, ...] | None:
    try:
        return next(rows, None)
    except Exception:
        raise RegistryRejected(
            [Problem(1, "", "the workbook's first sheet cannot be read: save it again as .xlsx")]
        ) from None


def _not_a_workbook() -> RegistryRejected:
    return RegistryRejected(
        [Problem(1, "", "the file is not an XLSX workbook: save it as .xlsx or CSV")]
    )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sheet(records: Iterator[list[str]]) -> Sheet:
    header = next(records, None)
    if header is not None:
        _check_caps(1, header)
    if header is None or not any(cell.strip() for cell in header):
        raise RegistryRejected(
            [Problem(1, "", "the file is empty: the first row names the columns")]
        )
    columns = tuple(cell.strip().lower() for cell in header)
    problems = _header_problems(columns)
    if problems:
        raise RegistryRejected(problems)
    while columns and not columns[-1]:  # spreadsheets often carry empty trailing columns
        columns = columns[:-1]
    rows: list[tuple[int, dict[str, str]]] = []
    for number, record in enumerate(records, start=2):
        _check_caps(number, record)
        cells = [unescape_formula(cell.strip()) for cell in record]
        if not any(cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise RegistryRejected([Problem(number, "", f"more than {MAX_ROWS} rows")])
        extra = [cell for cell in cells[len(columns) :] if cell]
        if extra:
            problems.append(
                Problem(number, "", f"{len(columns)} columns in the header, a value beyond them")
            )
        rows.append((number, dict(zip(columns, cells, strict=False))))
    return Sheet(columns, rows, problems)


def _check_caps(number: int, record: list[str]) -> None:
    """Refuse the file at the first row beyond a cap, naming it (a file this far out of shape
    is not a registry, and reading on would only cost memory and time)."""
    if number > MAX_SHEET_ROWS:
        msg = f"the sheet goes on beyond row {MAX_SHEET_ROWS:,}, the cap (blank rows count)"
    elif len(record) > MAX_SHEET_COLUMNS:
        msg = f"row {number} has more than {MAX_SHEET_COLUMNS} columns, the cap"
    elif any(len(cell) > MAX_CELL_CHARS for cell in record):
        msg = f"row {number} has a cell of more than {MAX_CELL_CHARS:,} characters, the cap"
    else:
        return
    raise RegistryRejected([Problem(number, "", msg)])


def escape_formula(value: str) -> str:
    """`value` as an export writes it: after a single quote when a spreadsheet would take it
    for a formula (`=HYPERLINK(...)`, `@SUM(...)`, `+972...`), so that it stays text."""
    return FORMULA_ESCAPE + value if value.startswith(FORMULA_TRIGGERS) else value


def unescape_formula(value: str) -> str:
    """The value an export escaped (escape_formula), so that an export imports back unchanged."""
    if value.startswith(FORMULA_ESCAPE) and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def _header_problems(columns: tuple[str, ...]) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for name in columns:
        if not name:
            continue
        if name not in COLUMNS:
            problems.append(
                Problem(1, name, f"unknown column '{name}': the columns are {', '.join(COLUMNS)}")
            )
        elif name in seen:
            problems.append(Problem(1, name, f"column '{name}' appears twice"))
        seen.add(name)
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            problems.append(Problem(1, name, f"the column '{name}' is missing"))
    return problems


# --- checking ---------------------------------------------------------------------------------
@dataclass
class PersonRow:
    row: int
    ref: str
    fields: dict[str, Any]


@dataclass
class HouseholdRows:
    """A household as the sheet describes it, with the rows it came from."""

    ref: str
    first_row: int
    values: dict[str, Any] = field(default_factory=dict)  # household column -> parsed value
    seen_on: dict[str, int] = field(default_factory=dict)  # household column -> row
    filled: set[str] = field(default_factory=set)  # columns with a value, good or bad
    persons: list[PersonRow] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)


@dataclass
class Checked:
    households: list[HouseholdRows]
    problems: list[Problem]
    bad_households: set[str]


def _phone(raw: str, country_code: str) -> str | tuple[str]:
    number = normalise_phone(raw, country_code)
    if number is not None:
        return number
    hint = PHONE_HINT
    if raw.isdigit() and len(raw) >= MIN_NATIONAL_DIGITS:
        hint += " (the spreadsheet dropped the leading 0? format the column as text)"
    return (f"phone '{raw}' is not a phone number: {hint}",)


def _languages(column: str, raw: str) -> list[str] | tuple[str]:
    codes = [c.strip().lower() for c in re.split(r"[;,\s]+", raw) if c.strip()]
    for code in codes:
        if code not in LANGUAGES:
            return (f"unknown language '{code}' in {column}: use {_choices(LANGUAGES)}",)
    unique = list(dict.fromkeys(codes))
    if len(unique) > MAX_LANGUAGES:
        return (f"{column} lists {len(unique)} languages; at most {MAX_LANGUAGES}",)
    return unique


def _special_needs(raw: str) -> list[str] | tuple[str]:
    needs = [n.strip().lower() for n in raw.split(";") if n.strip()]
    for need in needs:
        if need not in SPECIAL_NEEDS:
            return (f"unknown special need '{need}': use {_choices(SPECIAL_NEEDS)}, ; separated",)
    return list(dict.fromkeys(needs))


def _text(column: str, raw: str, limit: int) -> str | tuple[str]:
    if len(raw) > limit:
        return (f"{column} is {len(raw)} characters long; at most {limit}",)
    return raw


class _RowChecker:
    """Parses one row's values, collecting a Problem for each bad one."""

    def __init__(
        self, number: int, values: dict[str, str], buildings: set[str] | None, country_code: str
    ) -> None:
        self.number, self.values, self.buildings = number, values, buildings
        self.country_code = country_code
        self.problems: list[Problem] = []

    def get(self, column: str, required: bool = False) -> Any:
        raw = self.values.get(column, "")
        if not raw:
            if required:
                self.problems.append(Problem(self.number, column, f"{column} is missing"))
            return None
        parsed = self._parse(column, raw)
        if isinstance(parsed, tuple):
            self.problems.append(Problem(self.number, column, parsed[0]))
            return None
        return parsed

    def _parse(self, column: str, raw: str) -> Any:
        if column in ("household_ref", "person_ref", "foreman", "building_ref"):
            parsed = _text(column, raw, MAX_REF)
            if column == "building_ref" and isinstance(parsed, str):
                return self._building(parsed)
            return parsed
        if column in ("household_name", "name"):
            return _text(column, raw, MAX_NAME)
        if column == "pets":
            return _text(column, raw, MAX_PETS)
        if column == "safe_room":
            room = raw.lower()
            return (
                room
                if room in SAFE_ROOMS
                else (f"unknown safe_room '{raw}': use {_choices(SAFE_ROOMS)}",)
            )
        if column == "age_group":
            group = raw.lower()
            return (
                group
                if group in AGE_GROUPS
                else (f"unknown age_group '{raw}': use {_choices(AGE_GROUPS)}",)
            )
        if column in ("languages", "household_languages"):
            return _languages(column, raw)
        if column == "phone":
            return _phone(raw, self.country_code)
        return _special_needs(raw)

    def _building(self, ref: str) -> str | tuple[str]:
        if self.buildings is None:
            return (f"building '{ref}' cannot be checked: the site has no plan yet",)
        if ref not in self.buildings:
            return (f"building '{ref}' is not on the site plan",)
        return ref


def check(sheet: Sheet, state: SiteState) -> Checked:
    """Every row checked against the others and the site; households grouped by ref."""
    buildings = plan_refs((state.site or {}).get("plan"), FeatureKind.BUILDING)
    problems = list(sheet.problems)
    households: dict[str, HouseholdRows] = {}
    person_rows: dict[str, int] = {}
    row_households: dict[int, str] = {}
    for number, values in sheet.rows:
        row = _RowChecker(number, values, buildings, site_country_code(state))
        ref = row.get("household_ref", required=True)
        household = households.setdefault(ref or "", HouseholdRows(ref or "", number))
        household.rows.append(number)
        row_households[number] = household.ref
        _merge_household(row, household, problems)
        person = _person(row, person_rows)
        if person is not None:
            household.persons.append(person)
        problems += row.problems
    households.pop("", None)  # rows without a household_ref: reported above
    known_persons = set(person_rows) | {p.ref for p in list(state.persons.values())}
    for household in households.values():
        problems += _household_problems(household, known_persons)
    problems.sort(key=lambda p: (p.row, COLUMNS.index(p.column) if p.column in COLUMNS else -1))
    bad = {row_households[p.row] for p in problems if p.row in row_households}
    return Checked(list(households.values()), problems, bad)


def _merge_household(row: _RowChecker, household: HouseholdRows, problems: list[Problem]) -> None:
    for column in HOUSEHOLD_COLUMNS[1:]:
        if row.values.get(column):
            household.filled.add(column)
        value = row.get(column)
        if value is None:
            continue
        if column not in household.values:
            household.values[column] = value
            household.seen_on[column] = row.number
        elif household.values[column] != value:
            first = household.seen_on[column]
            shown = row.values[column]
            problems.append(
                Problem(
                    row.number,
                    column,
                    f"household '{household.ref}' has another {column} on row {first}; "
                    f"'{shown}' here disagrees (fill it in the same way or leave it blank)",
                )
            )


def _person(row: _RowChecker, seen: dict[str, int]) -> PersonRow | None:
    if not any(row.values.get(column) for column in PERSON_COLUMNS):
        return None  # a row for the household alone
    ref = row.get("person_ref", required=True)
    name = row.get("name", required=True)
    fields = {
        "name": name,
        "age_group": row.get("age_group") or "adult",
        "languages": row.get("languages"),
        "phone": row.get("phone"),
        "special_needs": row.get("special_needs") or [],
    }
    if ref is None:
        return None
    if ref in seen:
        row.problems.append(
            Problem(row.number, "person_ref", f"person_ref '{ref}' is already on row {seen[ref]}")
        )
        return None
    seen[ref] = row.number
    return PersonRow(row.number, ref, fields)


def _household_problems(household: HouseholdRows, known_persons: set[str]) -> list[Problem]:
    problems = [
        Problem(
            household.first_row,
            column,
            f"household '{household.ref}' has no {column} on any of its rows",
        )
        for column in REQUIRED_HOUSEHOLD_VALUES
        if column not in household.filled
    ]
    foreman = household.values.get("foreman")
    if foreman is not None and foreman not in known_persons:
        problems.append(
            Problem(
                household.seen_on["foreman"],
                "foreman",
                f"foreman '{foreman}' is not a person_ref of this sheet nor of the site",
            )
        )
    return problems


# --- deciding ---------------------------------------------------------------------------------
@dataclass
class Counts:
    households: int = 0
    persons: int = 0
    updated: int = 0

    def as_json(self) -> dict[str, int]:
        return {"households": self.households, "persons": self.persons, "updated": self.updated}


def import_registry(actor: Actor | None, sheet: Sheet, *, partial: bool = False) -> Decide:
    """Only the differences against the log, as events appended together or not at all.

    With `partial`, households with a problem on any of their rows are left out and listed.
    """

    def decide(state: SiteState, now: datetime) -> Decision:
        checked = check(sheet, state)
        if checked.problems and not partial:
            raise RegistryRejected(checked.problems)
        good = [h for h in checked.households if h.ref not in checked.bad_households]
        if partial:
            good = _without_lost_foremen(good, checked, state)
        counts = Counts()
        events = _events(state, good, actor, now, counts)
        rejected = [p.as_json() for p in checked.problems]
        return Decision(
            events,
            extra={
                "imported": counts.as_json(),
                "events": len(events),  # the count, not the (possibly 10,000) events themselves
                "errors": rejected,
                "rejected_households": sorted(checked.bad_households),
            },
        )

    return decide


def _without_lost_foremen(
    good: list[HouseholdRows], checked: Checked, state: SiteState
) -> list[HouseholdRows]:
    """Leave out households whose foreman lives in a household that is left out."""
    while True:
        persons = {p.ref for h in good for p in h.persons} | {
            p.ref for p in list(state.persons.values())
        }
        lost = [h for h in good if h.values.get("foreman") not in (None, *persons)]
        if not lost:
            return good
        for household in lost:
            foreman = household.values["foreman"]
            checked.problems.append(
                Problem(
                    household.seen_on["foreman"],
                    "foreman",
                    f"foreman '{foreman}' is in a household that was not imported",
                )
            )
            checked.bad_households.add(household.ref)
        good = [h for h in good if h.ref not in checked.bad_households]


def _events(
    state: SiteState,
    households: list[HouseholdRows],
    actor: Actor | None,
    now: datetime,
    counts: Counts,
) -> list[NewEvent]:
    by_ref = {h.ref: h for h in list(state.households.values())}
    persons_by_ref = {p.ref: p for p in list(state.persons.values())}
    default_language = str((state.site or {}).get("default_language", "he"))
    events: list[NewEvent] = []

    def emit(type_: str, payload: dict[str, Any]) -> None:
        events.append(
            NewEvent(
                type=type_,
                payload=payload,
                occurred_at=now,
                actor=actor.subject_id if actor else None,
                device=actor.token_id if actor else None,
            )
        )

    for household in households:
        fields = _household_fields(household, default_language)
        current = by_ref.get(household.ref)
        household_id = current.household_id if current else new_id()
        if current is None:
            emit("household.added", {"household_id": household_id, **fields})
            counts.households += 1
        elif fields != _view_household_fields(current):
            emit("household.updated", {"household_id": household_id, **fields})
            counts.updated += 1
        for person in household.persons:
            languages = fields["languages"]
            known = persons_by_ref.get(person.ref)
            wanted = _person_fields(person, household_id, languages, known)
            if known is None:
                emit("person.added", {"person_id": new_id(), **wanted})
                counts.persons += 1
            elif wanted != _view_person_fields(known):
                emit("person.updated", {"person_id": known.person_id, **wanted})
                counts.updated += 1
    return events


def _household_fields(household: HouseholdRows, default_language: str) -> dict[str, Any]:
    values = household.values
    languages = (
        values.get("household_languages")
        or list(
            dict.fromkeys(code for p in household.persons for code in p.fields["languages"] or [])
        )[:MAX_LANGUAGES]
        or [default_language]
    )
    fields = HouseholdFields(
        ref=household.ref,
        name=values["household_name"],
        building_ref=values.get("building_ref"),
        languages=languages,
        safe_room=SafeRoom(values["safe_room"]),
        foreman_person_ref=values.get("foreman"),
        pets=values.get("pets"),
    )
    return fields.model_dump(mode="json", exclude_none=True)


def _view_household_fields(view: HouseholdView) -> dict[str, Any]:
    kept = view.model_dump(exclude={"household_id"})
    return HouseholdFields.model_validate(kept).model_dump(mode="json", exclude_none=True)


def _person_fields(
    person: PersonRow, household_id: str, languages: list[str], known: PersonView | None
) -> dict[str, Any]:
    """The sheet's fields, and what the sheet does not hold (roles, callsign, teams) as known."""
    values = {
        "ref": person.ref,
        **{k: v for k, v in person.fields.items() if k != "languages" and v is not None},
        "languages": person.fields["languages"] or languages,
        "household_id": household_id,
    }
    if known is None:
        # A new person's payload needs no round trip through the model here: the row checker
        # has parsed every value and the store validates the payload (a third of a 10,000-row
        # import's CPU went to validating each person twice).
        return values
    kept = known.model_dump(include={"roles", "callsign", "teams"})
    fields = PersonFields.model_validate({**kept, **values})
    return fields.model_dump(mode="json", exclude_none=True)


def _view_person_fields(view: PersonView) -> dict[str, Any]:
    kept = view.model_dump(exclude={"person_id"})
    return PersonFields.model_validate(kept).model_dump(mode="json", exclude_none=True)


# --- exporting --------------------------------------------------------------------------------
def export_rows(state: SiteState) -> list[dict[str, str]]:
    """One row per person of each household (a household with nobody: one row of its own)."""
    members: dict[str, list[PersonView]] = {}
    for person in list(state.persons.values()):
        if person.household_id:
            members.setdefault(person.household_id, []).append(person)
    rows: list[dict[str, str]] = []
    for household in list(state.households.values()):
        shared = {
            "household_ref": household.ref,
            "household_name": household.name,
            "building_ref": household.building_ref or "",
            "safe_room": household.safe_room,
            "household_languages": ";".join(household.languages),
            "foreman": household.foreman_person_ref or "",
            "pets": household.pets or "",
        }
        people: list[PersonView | None] = [*members.get(household.household_id, [])] or [None]
        for member in people:
            rows.append({**shared, **_person_cells(member)})
    return rows


def export_counts(rows: list[dict[str, str]]) -> tuple[int, int]:
    """How many households and people an export holds (for its audit record)."""
    return len({r["household_ref"] for r in rows}), sum(1 for r in rows if r["person_ref"])


def _person_cells(person: PersonView | None) -> dict[str, str]:
    if person is None:
        return dict.fromkeys(PERSON_COLUMNS, "")
    return {
        "person_ref": person.ref,
        "name": person.name,
        "age_group": person.age_group,
        "languages": ";".join(person.languages),
        "phone": person.phone or "",
        "special_needs": ";".join(person.special_needs),
    }


def to_csv(rows: list[dict[str, str]]) -> bytes:
    """UTF-8 with a byte order mark, so that spreadsheets show Hebrew, Arabic and Thai.

    Every cell is quoted (a `;` inside a value cannot start a cell where Excel splits on
    semicolons) and formula-like values are escaped (escape_formula).
    """
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writeheader()
    writer.writerows({k: escape_formula(v) for k, v in row.items()} for row in rows)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[dict[str, str]]) -> bytes:
    """Text cells only (phones keep their +); a formula-like value is a text cell marked with
    Excel's quote prefix, its own form of the leading single quote: shown and kept as text,
    also when edited, while the value itself stays as it is."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("households")
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([_xlsx_cell(sheet, row[column]) for column in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(sheet: Any, value: str) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    # A workbook is XML 1.0, which has no control characters but tab, CR and LF: a value that
    # holds one (a name typed with a stray \x1e) is written without it, and the export works.
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not value.startswith(FORMULA_TRIGGERS):
        return value

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # openpyxl would write a value that starts with = as a formula
    cell.quotePrefix = True
    return cell
