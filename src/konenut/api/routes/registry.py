"""The household registry as a file: import a CSV/XLSX sheet, export it back (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from konenut.api.deps import Access, idempotency_key, permit
from konenut.api.offload import off_the_loop
from konenut.app import handlers, registry
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(prefix="/api/v1/site/households", tags=["site"])

MAX_FILE_BYTES = 20 * 1024 * 1024  # ~200,000 rows of CSV
_SHEET_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        registry.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
    },
}


@router.post(
    "/import",
    operation_id="import_households",
    status_code=201,
    openapi_extra={"requestBody": _SHEET_BODY},
    responses={422: {"description": "The per-row report: errors [{row, column, msg}]"}},
)
async def import_households(
    request: Request,
    partial: bool = Query(
        False, description="Import the households without problems; list the others"
    ),
    idem: IdempotencyKey = Depends(idempotency_key),
    access: Access = Depends(permit("import_households")),
) -> JSONResponse:
    """Import households and their members from a CSV (UTF-8, comma or semicolon) or XLSX sheet.

    One row per person (docs/registry.md). Every row is checked first: with any problem,
    nothing is stored and the answer lists each one with its row (header = 1) and column,
    unless `partial`. Only what differs from the log becomes events, appended together.
    """
    data = await request.body()  # at most MAX_FILE_BYTES: api/limits.py counts it as it comes
    media_type = request.headers.get("content-type", "")
    sheet = await off_the_loop(registry.read_sheet, data, media_type)
    return await access.run(registry.import_registry(access.actor, sheet, partial=partial), idem)


@router.get(
    "/export.csv",
    operation_id="export_households_csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_households_csv(
    access: Access = Depends(permit("export_households_csv")),
) -> Response:
    """Every household and its members, one row per person, in the import's columns (audited)."""
    body = await off_the_loop(lambda: registry.to_csv(_audited_rows(access, "csv")))
    return Response(body, media_type="text/csv; charset=utf-8", headers=_attachment("csv"))


@router.get(
    "/export.xlsx",
    operation_id="export_households_xlsx",
    response_class=Response,
    responses={200: {"content": {registry.XLSX_TYPE: {}}}},
)
async def export_households_xlsx(
    access: Access = Depends(permit("export_households_xlsx")),
) -> Response:
    """The same as export.csv, as an XLSX workbook (audited)."""
    body = await off_the_loop(lambda: registry.to_xlsx(_audited_rows(access, "xlsx")))
    return Response(body, media_type=registry.XLSX_TYPE, headers=_attachment("xlsx"))


def _audited_rows(access: Access, fmt: str) -> list[dict[str, str]]:
    """The export's rows, once `audit.registry_exported` is durable (this runs on a CPU
    worker thread, so waiting for the writer here blocks no request)."""
    rows = registry.export_rows(access.state)
    households, people = registry.export_counts(rows)
    record = handlers.record_registry_export(access.actor, fmt, households, people, "api")
    access.runtime.store.execute(access.actor.site_id, record)
    return rows


def _attachment(extension: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="households.{extension}"'}
