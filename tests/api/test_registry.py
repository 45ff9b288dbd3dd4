"""The household registry sheet over the real API: import with a per-row report, export back.

A secretariat's file (one row per person) goes in as CSV or XLSX; a bad file is answered
with every problem by row (header = row 1) and column, and stores nothing; re-importing the
same file changes nothing; what was exported imports back as no change.
"""

from __future__ import annotations

import csv
import io
from importlib.resources import files
from typing import Any

import httpx

from helpers import SITE
from konenut.app.registry import XLSX_TYPE
from konenut.domain.roles import Role

from .conftest import Site, assert_problem

IMPORT = "/api/v1/site/households/import"
HEADER = (
    "household_ref,household_name,building_ref,safe_room,household_languages,foreman,pets,"
    "person_ref,name,age_group,languages,phone,special_needs"
)
SAMPLE = files("konenut.demo").joinpath("registry_sample.csv").read_bytes()


def upload(
    site: Site,
    data: bytes,
    media_type: str = "text/csv",
    partial: bool = False,
    role: Role = Role.ADMIN,
) -> httpx.Response:
    headers = {**site.headers(role), "Content-Type": media_type}
    path = IMPORT + ("?partial=true" if partial else "")
    return site.client.post(path, content=data, headers=headers)


def sheet(*rows: str) -> bytes:
    return "\n".join([HEADER, *rows]).encode()


def households_by_ref(site: Site) -> dict[str, Any]:
    state = site.store.state(SITE)
    members: dict[str, list[Any]] = {}
    for person in state.persons.values():
        members.setdefault(person.household_id or "", []).append(person)
    return {
        h.ref: {**h.model_dump(), "members": {p.ref: p for p in members.get(h.household_id, [])}}
        for h in state.households.values()
    }


def test_a_good_file_adds_households_and_members_in_one_append(site: Site) -> None:
    before = site.head()
    answer = upload(site, SAMPLE)
    assert answer.status_code == 201, answer.text
    assert answer.json()["imported"] == {"households": 3, "persons": 6, "updated": 0}
    assert answer.json()["events"] == 9 and answer.json()["errors"] == []
    events = site.events_after(before)
    assert [e.seq for e in events] == list(range(before + 1, before + 10))
    assert {e.recorded_at for e in events} == {events[0].recorded_at}  # one Decision

    registry = households_by_ref(site)
    cohen = registry["h-31"]
    assert (cohen["building_ref"], cohen["safe_room"], cohen["pets"]) == ("31", "in_home", "dog")
    assert cohen["languages"] == ["he", "en"]
    yael = cohen["members"]["p-31-1"]
    assert (yael.name, yael.phone, yael.languages) == ("יעל כהן", "+972501234567", ["he", "en"])
    avraham = cohen["members"]["p-31-2"]
    assert (avraham.age_group, avraham.special_needs) == ("elderly", ["mobility", "hearing"])
    noa = cohen["members"]["p-31-3"]
    assert (noa.age_group, noa.languages, noa.phone) == ("infant", ["he", "en"], None)
    quarters = registry["w-1"]
    assert (quarters["foreman_person_ref"], quarters["safe_room"]) == ("p-w1-1", "none")
    assert set(quarters["members"]) == {"p-w1-1", "p-w1-2"}
    assert registry["h-40"]["members"]["p-40-1"].phone == "+972549876543"

    listed = site.get("/api/v1/site/households", Role.OPERATOR).json()
    assert "Workers' quarters 1" in {h["name"] for h in listed}


def test_semicolons_and_a_byte_order_mark_read_the_same(site: Site) -> None:
    text = SAMPLE.decode()
    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)
    answer = upload(site, out.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8")
    assert answer.status_code == 201, answer.text
    assert answer.json()["imported"] == {"households": 3, "persons": 6, "updated": 0}
    assert households_by_ref(site)["w-1"]["members"]["p-w1-1"].name == "สมชาย ศรีสุข"


BAD_FILE = sheet(
    "h-50,Peretz,50,in_home,he,,,p-50-1,Dana Peretz,adult,he,+972501112233,",
    "h-50,,,,,,,p-50-2,,child,he,,",  # 3: missing name
    "h-51,Mizrahi,51,bunker,he,,,p-51-1,Eli Mizrahi,adult,he,0501234,",  # 4: safe room, phone
    "h-52,Amsalem,999,in_home,he,,,p-52-1,Rina Amsalem,grownup,xx,,",  # 5: building, age, lang
    "h-53,Biton,53,in_home,he,,,p-50-1,Moshe Biton,adult,he,,",  # 6: duplicate person_ref
    "h-50,Peretz-Levi,50,in_home,he,,,p-50-3,Tal Peretz,adult,he,,",  # 7: household disagrees
    "h-54,Ohana,54,in_home,he,,,p-54-1,Avi Ohana,adult,he,,",  # good
)


def test_a_file_with_five_kinds_of_errors_is_reported_row_by_row_and_nothing_stored(
    site: Site,
) -> None:
    before = site.head()
    answer = upload(site, BAD_FILE)
    body = assert_problem(answer, 422, "invalid-registry", "nothing was imported")
    assert body["errors"] == [
        {"row": 3, "column": "name", "msg": "name is missing"},
        {
            "row": 4,
            "column": "safe_room",
            "msg": "unknown safe_room 'bunker': use in_home, shared_shelter or none",
        },
        {
            "row": 4,
            "column": "phone",
            "msg": "phone '0501234' is not a phone number: "
            "use the international form, e.g. +972501234567, or the local one, e.g. 0501234567",
        },
        {"row": 5, "column": "building_ref", "msg": "building '999' is not on the site plan"},
        {
            "row": 5,
            "column": "age_group",
            "msg": "unknown age_group 'grownup': use infant, child, adult or elderly",
        },
        {
            "row": 5,
            "column": "languages",
            "msg": "unknown language 'xx' in languages: use he, ar, en, th, ne, ru, am, fr or es",
        },
        {"row": 6, "column": "person_ref", "msg": "person_ref 'p-50-1' is already on row 2"},
        {
            "row": 7,
            "column": "household_name",
            "msg": "household 'h-50' has another household_name on row 2; "
            "'Peretz-Levi' here disagrees (fill it in the same way or leave it blank)",
        },
    ]
    assert site.events_after(before) == []


def test_an_unknown_or_missing_column_is_row_1(site: Site) -> None:
    data = sheet("h-60,Dahan,60,in_home,he,,,p-60-1,Ruth Dahan,adult,he,,").replace(
        b"special_needs", b"allergies"
    )
    body = assert_problem(upload(site, data), 422, "invalid-registry")
    assert body["errors"] == [
        {
            "row": 1,
            "column": "allergies",
            "msg": "unknown column 'allergies': the columns are household_ref, household_name, "
            "building_ref, safe_room, household_languages, foreman, pets, person_ref, name, "
            "age_group, languages, phone, special_needs",
        }
    ]
    body = assert_problem(upload(site, b"household_ref,name\nh-1,Dana\n"), 422, "invalid-registry")
    assert {(e["row"], e["column"]) for e in body["errors"]} == {
        (1, "household_name"),
        (1, "building_ref"),
        (1, "safe_room"),
        (1, "person_ref"),
    }


def test_partial_imports_the_good_households_and_lists_the_rest(site: Site) -> None:
    before = site.head()
    answer = upload(site, BAD_FILE, partial=True)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    # h-50 has bad rows 3 and 7; h-53's only row reuses a person_ref; only h-54 is whole.
    assert body["imported"] == {"households": 1, "persons": 1, "updated": 0}
    assert body["rejected_households"] == ["h-50", "h-51", "h-52", "h-53"]
    assert len(body["errors"]) == 8
    assert [e.type for e in site.events_after(before)] == ["household.added", "person.added"]
    assert "h-54" in households_by_ref(site) and "h-50" not in households_by_ref(site)


def test_reimporting_changes_nothing_and_a_changed_phone_is_one_update(site: Site) -> None:
    assert upload(site, SAMPLE).status_code == 201
    before = site.head()
    again = upload(site, SAMPLE)
    assert again.status_code == 200, again.text
    assert again.json()["imported"] == {"households": 0, "persons": 0, "updated": 0}
    assert site.events_after(before) == []

    changed = SAMPLE.replace(b"0549876543", b"+972549876000").replace(b",dog,", b",cat,")
    answer = upload(site, changed)
    assert answer.status_code == 201, answer.text
    assert answer.json()["imported"] == {"households": 0, "persons": 0, "updated": 2}
    events = site.events_after(before)
    assert [e.type for e in events] == ["household.updated", "person.updated"]
    assert events[0].payload["pets"] == "cat"
    assert events[1].payload["phone"] == "+972549876000"
    registry = households_by_ref(site)
    assert registry["h-40"]["members"]["p-40-1"].phone == "+972549876000"
    assert registry["h-31"]["pets"] == "cat"


def test_an_update_keeps_what_the_sheet_does_not_hold(site: Site) -> None:
    """The API site's responder lives in h-15: the sheet changes its phone, not its roles."""
    row = "h-15,Levi,15,in_home,he,,,p-responder-home,Responder Levi,adult,he,0501110000,"
    answer = upload(site, sheet(row))
    assert answer.status_code == 201, answer.text
    person = site.store.state(SITE).person_by_ref("p-responder-home")
    assert person is not None
    assert (person.phone, person.roles, person.callsign) == (
        "+972501110000",
        ["responder"],
        "responder-2",
    )


def test_export_then_import_is_no_change_in_csv_and_xlsx(site: Site) -> None:
    assert upload(site, SAMPLE).status_code == 201
    before = site.head()
    exported = site.get("/api/v1/site/households/export.csv", Role.ADMIN)
    assert exported.status_code == 200
    (audit,) = site.events_after(before)  # who took the names and phones out, and how many
    assert audit.type == "audit.registry_exported"
    assert audit.actor == site.seeded.subjects[Role.ADMIN]
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    households = len({r["household_ref"] for r in rows})
    people = sum(1 for r in rows if r["person_ref"])
    expected = {"format": "csv", "households": households, "people": people, "via": "api"}
    assert audit.payload == expected
    yael = next(r for r in rows if r["person_ref"] == "p-31-1")
    assert (yael["name"], yael["phone"], yael["household_languages"]) == (
        "יעל כהן",
        "'+972501234567",  # a cell that starts with + is written after a quote (OWASP)
        "he;en",
    )
    assert {r["household_ref"] for r in rows} >= {"h-14", "h-15", "h-31", "h-40", "w-1"}

    workbook = site.get("/api/v1/site/households/export.xlsx", Role.ADMIN)
    assert workbook.status_code == 200
    assert workbook.headers["content-type"] == XLSX_TYPE
    assert site.events_after(before)[-1].payload["format"] == "xlsx"
    before = site.head()
    for data, media_type in ((exported.content, "text/csv"), (workbook.content, XLSX_TYPE)):
        answer = upload(site, data, media_type)
        assert answer.status_code == 200, answer.text
        assert answer.json()["events"] == 0
    assert site.events_after(before) == []


def test_an_xlsx_sheet_with_errors_is_reported_by_its_rows(site: Site) -> None:
    from openpyxl import Workbook

    book = Workbook()
    page = book.active
    assert page is not None
    page.append(HEADER.split(","))
    page.append(["h-70", "Gabay", 70, "in_home", "he", None, None, "p-70-1", "Ora Gabay"])
    page.append([])  # an empty row still counts in the numbering
    page.append(
        ["h-70", None, None, None, None, None, None, "p-70-2", "Gil", None, None, 501234567]
    )
    out = io.BytesIO()
    book.save(out)
    body = assert_problem(upload(site, out.getvalue(), XLSX_TYPE), 422, "invalid-registry")
    assert body["errors"] == [
        {
            "row": 4,
            "column": "phone",
            "msg": "phone '501234567' is not a phone number: use the international form, e.g. "
            "+972501234567, or the local one, e.g. 0501234567 "
            "(the spreadsheet dropped the leading 0? format the column as text)",
        }
    ]


def test_a_file_that_is_neither_csv_nor_xlsx_is_refused(site: Site) -> None:
    before = site.head()
    body = assert_problem(upload(site, b"PK\x03\x04garbage", XLSX_TYPE), 422, "invalid-registry")
    assert body["errors"][0]["msg"].startswith("the file is not an XLSX workbook")
    assert_problem(upload(site, "שלום".encode("cp1255")), 422, "invalid-registry", "")
    assert_problem(upload(site, b"{}", "application/json"), 422, "invalid-registry")
    assert site.events_after(before) == []


def test_only_admins_import(site: Site) -> None:
    assert_problem(upload(site, SAMPLE, role=Role.COMMANDER), 403, "forbidden")


def test_partial_leaves_out_a_household_whose_foreman_was_left_out(site: Site) -> None:
    data = sheet(
        "w-2,Quarters 2,W2,none,th,,,p-w2-1,Somchai,adult,th,0501234,",  # bad phone
        "w-3,Quarters 3,W3,none,th,p-w2-1,,,,,,,",  # its foreman is in w-2; no person rows
        "w-4,Quarters 4,W4,none,ne,,,,,,,,",  # a household with nobody registered yet
    )
    answer = upload(site, data, partial=True)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["imported"] == {"households": 1, "persons": 0, "updated": 0}
    assert body["rejected_households"] == ["w-2", "w-3"]
    assert body["errors"][-1] == {
        "row": 3,
        "column": "foreman",
        "msg": "foreman 'p-w2-1' is in a household that was not imported",
    }
    registry = households_by_ref(site)
    assert "w-4" in registry and registry["w-4"]["members"] == {}
    assert "w-3" not in registry
