"""Importing a 10,000-row household registry sheet, against a bare parse of the same file.

A generated sheet (4 people per household, buildings of the demo plan, phones in the local
05X form that the import converts, a foreman for every tenth household) is imported into a
fresh SQLite store (durable: WAL, synchronous=FULL) whose site has the demo plan:

  bare csv.reader       decode + csv.reader over the same bytes (the baseline)
  read sheet            app/registry.read_sheet: the header checked, rows as dicts
  first import          read + check every row + decide + append all events in one Decision
  import again          the same file: checked and compared, nothing appended
  bare openpyxl         openpyxl read-only over the same rows as XLSX (the XLSX baseline)
  first import (XLSX)   the XLSX file into another fresh store

Target (issue 5): the first import of 10,000 rows in < 5 s. Run from the repository root:
  .venv/bin/python bench/registry_import.py [--quick] [--rows N] [--no-xlsx]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from konenut import bootstrap
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.registry import (
    COLUMNS,
    XLSX_TYPE,
    import_registry,
    read_sheet,
    to_csv,
    to_xlsx,
)
from konenut.demo import load_site_plan
from konenut.domain.site_plan import FeatureKind, SitePlan
from konenut.store.eventstore import EventStore

SITE = "bench-registry"
TARGET_SECS = 5.0
LANGUAGE_SETS = ("he", "he;en", "ar;he", "th;en", "ne", "ru;he")
NEEDS = ("", "", "", "mobility", "medical", "hearing;mobility", "infants")
AGES = ("adult", "adult", "child", "elderly", "infant")
DEFAULT_ROWS = 10_000
QUICK_ROWS = 2_000  # --quick: for `make bench`


def generated_rows(count: int) -> list[dict[str, str]]:
    buildings = sorted(SitePlan.model_validate(load_site_plan()).refs(FeatureKind.BUILDING))
    rows: list[dict[str, str]] = []
    for n in range(count):
        household, member = divmod(n, 4)
        languages = LANGUAGE_SETS[household % len(LANGUAGE_SETS)]
        first = member == 0
        rows.append(
            {
                "household_ref": f"h-{household}",
                "household_name": f"Household {household}" if first else "",
                "building_ref": buildings[household % len(buildings)] if first else "",
                "safe_room": ("in_home", "shared_shelter", "none")[household % 3] if first else "",
                "household_languages": languages if first else "",
                "foreman": f"p-{household}-0" if first and household % 10 == 0 else "",
                "pets": "dog" if first and household % 7 == 0 else "",
                "person_ref": f"p-{household}-{member}",
                "name": f"Person {household} {member}",
                "age_group": AGES[n % len(AGES)],
                "languages": languages.split(";")[0],
                "phone": f"05{n % 10}-{n:07d}",
                "special_needs": NEEDS[n % len(NEEDS)],
            }
        )
    return rows


def fresh_store(directory: Path) -> EventStore:
    store = bootstrap.open_store(f"sqlite:///{directory / 'konenut.db'}")
    plan = c.ConfigureSite(name="Tel Kinamon", plan=load_site_plan())
    store.execute(SITE, handlers.configure_site(None, plan))
    return store


def timed(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds, this process's CPU seconds (all threads: the store's writer too), result."""
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - started, time.process_time() - cpu, result


def bare_csv(data: bytes) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def bare_openpyxl(data: bytes) -> int:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    count = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
    book.close()
    return count


def import_file(store: EventStore, data: bytes, media_type: str) -> dict[str, Any]:
    outcome = store.execute(SITE, import_registry(None, read_sheet(data, media_type)))
    body: dict[str, Any] = outcome.body
    return body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows",
        type=int,
        default=None,
        help=f"people (rows) in the sheet (default {DEFAULT_ROWS:,})",
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows")
    parser.add_argument("--no-xlsx", action="store_true", help="skip the XLSX import")
    args = parser.parse_args()
    rows = generated_rows(
        max(4, min(args.rows or (QUICK_ROWS if args.quick else DEFAULT_ROWS), 100_000))
    )
    csv_data = to_csv(rows)
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"sheet: {len(rows):,} rows, {len(rows) // 4:,} households, {len(COLUMNS)} columns, "
        f"{len(csv_data) / 2**20:.1f} MB CSV\n"
    )
    results: list[tuple[str, float, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="konenut-bench-") as tmp:
        bare_secs, cpu, count = timed(lambda: bare_csv(csv_data))
        results.append(("bare csv.reader", bare_secs, cpu, f"{count:,} records"))
        secs, cpu, sheet = timed(lambda: read_sheet(csv_data, "text/csv"))
        results.append(("read sheet", secs, cpu, f"{len(sheet.rows):,} rows"))
        (Path(tmp) / "csv").mkdir()
        store = fresh_store(Path(tmp) / "csv")
        try:
            state, now = store.state(SITE), store.clock()
            decide = import_registry(None, sheet)
            secs, cpu, decision = timed(lambda: decide(state, now))
            note = f"{len(decision.events):,} events decided, none appended"
            results.append(("check + decide only", secs, cpu, note))
            first_secs, cpu, body = timed(lambda: import_file(store, csv_data, "text/csv"))
            results.append(("first import (CSV)", first_secs, cpu, _summary(body)))
            secs, cpu, body = timed(lambda: import_file(store, csv_data, "text/csv"))
            results.append(("import again (CSV)", secs, cpu, _summary(body)))
        finally:
            store.close()
        if not args.no_xlsx:
            xlsx_data = to_xlsx(rows)
            secs, cpu, count = timed(lambda: bare_openpyxl(xlsx_data))
            results.append(("bare openpyxl", secs, cpu, f"{count:,} records"))
            (Path(tmp) / "xlsx").mkdir()
            store = fresh_store(Path(tmp) / "xlsx")
            try:
                secs, cpu, body = timed(lambda: import_file(store, xlsx_data, XLSX_TYPE))
                results.append(("first import (XLSX)", secs, cpu, _summary(body)))
            finally:
                store.close()
    width = max(len(name) for name, _, _, _ in results)
    print(f"{'':<{width}}  {'wall':>9}     {'CPU':>9}     {'wall/bare':>9}")
    for name, secs, cpu, note in results:
        print(
            f"{name:<{width}}  {secs * 1000:9.1f} ms  {cpu * 1000:9.1f} ms  "
            f"{secs / bare_secs:8.1f}x  {note}"
        )
    verdict = "PASS" if first_secs < TARGET_SECS else "MISS"
    print(
        f"\n{verdict}: first import of {len(rows):,} CSV rows took {first_secs:.2f} s "
        f"(target < {TARGET_SECS:.0f} s); load average {os.getloadavg()[0]:.2f}"
    )
    return 0 if verdict == "PASS" else 1


def _summary(body: dict[str, Any]) -> str:
    counts = body["imported"]
    return (
        f"{body['events']:,} events: +{counts['households']:,} households, "
        f"+{counts['persons']:,} people, {counts['updated']:,} updated"
    )


if __name__ == "__main__":
    sys.exit(main())
