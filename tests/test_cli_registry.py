"""`konenut households import|export` as a newcomer uses it: the installed command, real files.

A secretariat's sheet with mistakes prints a table of them (row, column, problem) and exits
non-zero with nothing stored; `--partial` imports the good households; the fixed file imports;
exporting and importing the export changes nothing.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from helpers import open_store
from konenut.config import DEFAULT_SITE_ID
from konenut.demo import load_site_plan
from server import run_konenut

SAMPLE = files("konenut.demo").joinpath("registry_sample.csv").read_text(encoding="utf-8")


def konenut(*args: str, code: int = 0) -> str:
    result = run_konenut(*args)
    assert result.returncode == code, (
        f"konenut {' '.join(args)} exited {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result.stdout + result.stderr


def a_site_with_its_plan(tmp_path: Path) -> Path:
    data_dir = tmp_path / "site"
    konenut("init", "--data-dir", str(data_dir))
    (data_dir / "plan.geojson").write_text(json.dumps(load_site_plan()))
    site_toml = data_dir / "site.toml"
    site_toml.write_text(
        site_toml.read_text().replace('# plan = "site_plan.geojson"', 'plan = "plan.geojson"')
    )
    konenut("site", "apply", str(site_toml), "-d", str(data_dir))
    return data_dir


def household_refs(data_dir: Path) -> set[str]:
    store = open_store(f"sqlite:///{data_dir / 'konenut.db'}")
    try:
        return {h.ref for h in store.state(DEFAULT_SITE_ID).households.values()}
    finally:
        store.close()


def test_a_sheet_with_mistakes_prints_a_table_and_stores_nothing(tmp_path: Path) -> None:
    data_dir = a_site_with_its_plan(tmp_path)
    sheet = tmp_path / "households.csv"
    sheet.write_text(
        SAMPLE.replace("050-123-4567", "0501234").replace("W1,none", "W9,none"), encoding="utf-8"
    )
    output = konenut("households", "import", str(sheet), "-d", str(data_dir), code=1)
    lines = output.splitlines()
    assert lines[0].split() == ["row", "column", "problem"]
    assert lines[1].split(maxsplit=2) == [
        "2",
        "phone",
        "phone '0501234' is not a phone number: use the international form, e.g. +972501234567, "
        "or the local one, e.g. 0501234567",
    ]
    assert lines[2].split(maxsplit=2) == [
        "6",
        "building_ref",
        "building 'W9' is not on the site plan",
    ]
    assert "nothing was imported" in output
    assert household_refs(data_dir) == set()

    output = konenut("households", "import", str(sheet), "--partial", "-d", str(data_dir), code=1)
    assert "Imported 1 households and 1 people" in output
    assert "left out because of the problems above: h-31, w-1" in output
    assert household_refs(data_dir) == {"h-40"}


def test_import_then_export_then_import_again_changes_nothing(tmp_path: Path) -> None:
    data_dir = a_site_with_its_plan(tmp_path)
    sheet = tmp_path / "households.csv"
    sheet.write_text(SAMPLE, encoding="utf-8")
    output = konenut("households", "import", str(sheet), "-d", str(data_dir))
    assert "Imported 3 households and 6 people, updated 0 (9 events)." in output
    assert household_refs(data_dir) == {"h-31", "h-40", "w-1"}

    for name in ("back.xlsx", "back.csv"):
        exported = tmp_path / name
        assert "Wrote 6 rows" in konenut("households", "export", str(exported), "-d", str(data_dir))
        output = konenut("households", "import", str(exported), "-d", str(data_dir))
        assert "Imported 0 households and 0 people, updated 0 (0 events)." in output
    csv_back = (tmp_path / "back.csv").read_text(encoding="utf-8-sig")
    assert "สมชาย ศรีสุข" in csv_back and "+972501234567" in csv_back


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    output = konenut("households", "import", str(missing), "-d", str(tmp_path), code=2)
    assert "nope.csv" in output
