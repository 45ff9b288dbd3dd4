"""docs/permissions.md is what the permission matrix and the audience table say, to the cell.

The page is generated (`konenut docs permissions`); a change to either table that is not
regenerated into the committed page fails here, naming the command that fixes it.
"""

from __future__ import annotations

from pathlib import Path

from konenut.api.permissions_doc import DOC_PATH, app_operations, render
from konenut.app.permissions import MATRIX, PUBLIC_OPERATIONS
from konenut.domain.event_types import REGISTRY
from konenut.domain.roles import Role
from server import run_konenut

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = "run `konenut docs permissions --out docs/permissions.md` and commit it"


def _rows(page: str) -> dict[str, list[str]]:
    """The page's table rows by their first cell that names an operation or event type."""
    rows: dict[str, list[str]] = {}
    for line in page.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("| `"):
            key = cells[1] if " /" in cells[0] else cells[0]  # a route: by its operation
            rows[key.strip("`")] = cells
    return rows


def test_the_committed_page_is_what_the_code_generates() -> None:
    committed = (ROOT / DOC_PATH).read_text(encoding="utf-8")
    assert committed == render(app_operations()), REGENERATE


def test_the_page_has_every_route_and_event_type_as_every_role_gets_it() -> None:
    rows = _rows((ROOT / DOC_PATH).read_text(encoding="utf-8"))
    roles = list(Role)
    for operation in [*MATRIX, *PUBLIC_OPERATIONS]:
        cells = rows[operation][2:11]
        if operation in PUBLIC_OPERATIONS:
            assert set(cells) == {"public"}, operation
            continue
        for role, cell in zip(roles, cells, strict=True):
            scope = MATRIX[operation].get(role)
            assert cell == (scope.value if scope else "—"), (operation, role)
    for name, etype in REGISTRY.items():
        for role, cell in zip(roles, rows[name][1:10], strict=True):
            seen = etype.audience.get(role)
            assert cell.split(" · ")[0] == (seen.scope.value if seen else "—"), (name, role)
            for field in seen.hide if seen else ():
                assert f"`{field}`" in cell, (name, role, field)
    # The registry's field-level rule of issue 11 item 7, as a reader finds it.
    assert "without `phone`, `special_needs`" in rows["person.added"][4]
    assert rows["person.added"][8:10] == ["—", "—"]  # volunteers and liaisons: no registry


def test_the_cli_prints_the_page() -> None:
    printed = run_konenut("docs", "permissions")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == render(app_operations())
