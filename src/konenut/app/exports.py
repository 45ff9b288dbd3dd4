"""Exports of a site's log (docs/exports.md): JSON Lines with a header and a SHA-256 trailer,
full or redacted for publishing; CSV, GeoJSON and KML of positions and sightings; and the
checked reading back of a full export for `konenut log import`."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, Literal
from xml.sax.saxutils import escape

import orjson
from pydantic import ValidationError

from konenut.app.registry import escape_formula
from konenut.domain.errors import DomainError, InvalidEvent
from konenut.domain.event_types import event_type
from konenut.domain.events import Event, JsonDict, Location
from konenut.domain.ids import format_time, parse_time
from konenut.domain.state import STATE_VERSION

ExportKind = Literal["full", "redacted"]
EXPORT_FORMAT_VERSION = 1  # this file layout; a reader refuses a newer one
HEADER_KEY = "konenut_export"
TRAILER_KEY = "konenut_export_end"
# A secret's stand-in: 64 hex digits as the hashes it replaces (so the projection takes it),
# 40 zeros then the field's number and the event's seq. Nobody knows a token or a code that
# hashes to it, so no device enrols or signs in against an imported copy.
PLACEHOLDER_ZEROS = "0" * 40
# Redacted exports (docs/exports.md): payload fields dropped from every event that has them,
# and who a name becomes, per event type.
DROPPED_FIELDS = frozenset(
    {"phone", "callsign", "special_needs", "address", "contact_channel", "medic_name"}
)
NAMELESS_TYPES_PREFIX = "casualty."  # a casualty's name is left out, not replaced
NAME_BECOMES = {
    "person.added": "roles",
    "person.updated": "roles",
    "household.added": "household",
    "household.updated": "household",
    "volunteer.joined": "volunteer",
}
GEO_TYPES = ("position.reported", "sighting.reported")
CSV_COLUMNS = (
    "kind",
    "seq",
    "occurred_at",
    "recorded_at",
    "incident_id",
    "drill",
    "id",
    "label",
    "count",
    "text",
    "lat",
    "lon",
    "accuracy_m",
)


class ExportRefused(DomainError):
    """A file `konenut log import` will not load; nothing was stored."""

    slug = "export-refused"
    status = 422


# --- JSON Lines --------------------------------------------------------------------------------
def secret_placeholder(seq: int, field_number: int) -> str:
    return f"{PLACEHOLDER_ZEROS}{field_number:08x}{seq:016x}"


def export_payload(event: Event, kind: ExportKind) -> JsonDict:
    """The payload as exported: secrets as placeholders; names and phones out when redacted."""
    payload = dict(event.payload)
    for number, name in enumerate(sorted(event_type(event.type).secret_fields)):
        if payload.get(name) is not None:
            payload[name] = secret_placeholder(event.seq, number)
    if kind == "redacted":
        payload = _redacted(event.type, payload)
    return payload


def _redacted(type_name: str, payload: JsonDict) -> JsonDict:
    dropped = DROPPED_FIELDS | ({"name"} if type_name.startswith(NAMELESS_TYPES_PREFIX) else set())
    kept = {k: v for k, v in payload.items() if k not in dropped}
    becomes = NAME_BECOMES.get(type_name)
    if becomes == "roles":
        kept["name"] = ", ".join(payload.get("roles") or ["resident"])
    elif becomes is not None:
        kept["name"] = becomes
    return kept


def export_header(
    site_id: str, kind: ExportKind, incident_id: str | None, last_seq: int, now: datetime
) -> JsonDict:
    return {
        HEADER_KEY: {
            "format_version": EXPORT_FORMAT_VERSION,
            "state_version": STATE_VERSION,
            "kind": kind,
            "site_id": site_id,
            "incident_id": incident_id,
            "first_seq": 1,
            "last_seq": last_seq,
            "exported_at": format_time(now),
        }
    }


class LogExport:
    """One JSON Lines export being written: the header, an event a line, then the trailer with
    the SHA-256 of every line before it (header included)."""

    def __init__(self, out: BinaryIO, header: JsonDict) -> None:
        self._out = out
        self._kind: ExportKind = header[HEADER_KEY]["kind"]
        self._digest = hashlib.sha256()
        self.count = 0
        self._write(orjson.dumps(header) + b"\n")

    def add(self, event: Event) -> None:
        body = event.to_json()
        body["payload"] = export_payload(event, self._kind)
        self._write(orjson.dumps(body) + b"\n")
        self.count += 1

    def finish(self) -> None:
        trailer = {TRAILER_KEY: {"events": self.count, "sha256": self._digest.hexdigest()}}
        self._out.write(orjson.dumps(trailer) + b"\n")

    def _write(self, line: bytes) -> None:
        self._digest.update(line)
        self._out.write(line)


@dataclass(frozen=True)
class ReadExport:
    header: JsonDict
    events: list[Event]


def read_export(lines: Iterable[bytes], site_id: str) -> ReadExport:
    """A full export's events, every one checked (checksum, versions, site, gap-free seq from
    1, known types, valid payloads); ExportRefused saying why otherwise."""
    digest = hashlib.sha256()
    rows = iter(lines)
    header = _header(next(rows, b""), site_id)
    digest.update(header[0])
    events: list[Event] = []
    for line in rows:
        parsed = _parse(line)
        if TRAILER_KEY in parsed:
            _check_trailer(parsed[TRAILER_KEY], digest.hexdigest(), len(events))
            return ReadExport(header[1], events)
        digest.update(line)
        events.append(_event(parsed, site_id, len(events) + 1))
    raise ExportRefused("the file ends without its checksum line: it was cut short")


def _parse(line: bytes) -> JsonDict:
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ExportRefused(f"a line is not JSON ({exc}): the file was changed") from exc
    if not isinstance(parsed, dict):
        raise ExportRefused("a line is not a JSON object: the file was changed")
    return parsed


def _header(line: bytes, site_id: str) -> tuple[bytes, JsonDict]:
    header = _parse(line).get(HEADER_KEY) if line.strip() else None
    if not isinstance(header, dict):
        raise ExportRefused("not a Konenut log export: its first line is not the export header")
    newer = [
        f"{name} {header.get(name)} (this Konenut reads up to {ours})"
        for name, ours in (
            ("format_version", EXPORT_FORMAT_VERSION),
            ("state_version", STATE_VERSION),
        )
        if not isinstance(header.get(name), int) or header[name] > ours
    ]
    if newer:
        raise ExportRefused(
            f"the export was written by a newer Konenut: {', '.join(newer)}; upgrade first"
        )
    if header.get("kind") != "full" or header.get("incident_id") is not None:
        raise ExportRefused(
            "only a full export of the whole site log can be imported, not a redacted or an "
            "incident's export"
        )
    if header.get("site_id") != site_id:
        raise ExportRefused(
            f"the export is of site {header.get('site_id')!r}, this data dir is for site "
            f"{site_id!r} (set KONENUT_SITE_ID)"
        )
    return line, header


def _check_trailer(trailer: Any, sha256: str, count: int) -> None:
    if not isinstance(trailer, dict) or trailer.get("sha256") != sha256:
        raise ExportRefused("checksum mismatch: the file was changed after it was exported")
    if trailer.get("events") != count:
        raise ExportRefused(f"the file holds {count} events, its checksum line says otherwise")


def _event(body: JsonDict, site_id: str, seq: int) -> Event:
    where = f"event seq {body.get('seq')}"
    if body.get("site_id") != site_id or body.get("seq") != seq:
        raise ExportRefused(f"{where}: expected seq {seq} of site {site_id!r}, gap-free")
    try:
        etype = event_type(str(body["type"]))
        if int(body["version"]) > etype.version:
            raise ExportRefused(
                f"{where}: {etype.name} version {body['version']} is newer than this Konenut's "
                f"{etype.version}; upgrade first"
            )
        location = body["location"]
        return Event(
            site_id=site_id,
            seq=seq,
            id=str(body["id"]),
            type=etype.name,
            version=int(body["version"]),
            incident_id=body["incident_id"],
            occurred_at=parse_time(body["occurred_at"]),
            recorded_at=parse_time(body["recorded_at"]),
            actor=body["actor"],
            device=body["device"],
            location=None if location is None else _location(location),
            payload=etype.validate(body["payload"]),
            drill=bool(body["drill"]),
        )
    except InvalidEvent as exc:
        problems = "; ".join(f"{e['loc']}: {e['msg']}" for e in exc.errors)
        raise ExportRefused(
            f"{where}: {exc.detail}: {problems}" if problems else exc.detail
        ) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise ExportRefused(f"{where}: a field is missing or malformed ({exc!r})") from exc


def _location(location: Any) -> JsonDict:
    try:
        return Location.model_validate(location).model_dump(mode="json", exclude_none=True)
    except ValidationError as exc:
        raise ExportRefused(f"invalid location: {exc.errors()[0]['msg']}") from exc


# --- positions and sightings -------------------------------------------------------------------
@dataclass(frozen=True)
class GeoRow:
    """A position or a sighting, where and when."""

    kind: str
    seq: int
    occurred_at: str
    recorded_at: str
    incident_id: str | None
    drill: bool
    id: str
    label: str
    count: int | None
    text: str
    lat: float
    lon: float
    accuracy_m: float | None


def geo_rows(events: Iterable[Event], kind: ExportKind) -> Iterator[GeoRow]:
    """The positions and sightings among `events` that have a location; a redacted export
    labels a position by its source, never its callsign."""
    for event in events:
        if event.type not in GEO_TYPES or event.location is None:
            continue
        payload = event.payload
        position = event.type == "position.reported"
        if position:
            label = payload.get("callsign") if kind == "full" else None
            label = label or str(payload.get("source", "app"))
        else:
            label = str(payload["category"])
        yield GeoRow(
            kind="position" if position else "sighting",
            seq=event.seq,
            occurred_at=event.occurred_text,
            recorded_at=format_time(event.recorded_at),
            incident_id=event.incident_id,
            drill=event.drill,
            id=str(payload["subject_id"] if position else payload["sighting_id"]),
            label=label,
            count=None if position else int(payload.get("count", 1)),
            text="" if position else str(payload.get("text", "")),
            lat=float(event.location["lat"]),
            lon=float(event.location["lon"]),
            accuracy_m=event.location.get("accuracy_m"),
        )


def render_geo(rows: Iterable[GeoRow], fmt: str) -> bytes:
    """The rows as `fmt`: csv, geojson or kml."""
    return GEO_RENDERERS[fmt](rows)


def _csv(rows: Iterable[GeoRow]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = [getattr(row, column) for column in CSV_COLUMNS]
        writer.writerow([_cell(value) for value in values])
    return ("\ufeff" + text.getvalue()).encode()  # the BOM: spreadsheets then read UTF-8


def _cell(value: Any) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is escaped, numbers are not."""
    if value is None:
        return ""
    return escape_formula(value) if isinstance(value, str) else str(value)


def _geojson(rows: Iterable[GeoRow]) -> bytes:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
            "properties": {
                column: getattr(row, column)
                for column in CSV_COLUMNS
                if column not in ("lat", "lon")
            },
        }
        for row in rows
    ]
    return orjson.dumps({"type": "FeatureCollection", "features": features})


def _kml(rows: Iterable[GeoRow]) -> bytes:
    placemarks = "".join(
        f"<Placemark><name>{escape(f'{row.kind} {row.label}')}</name>"
        f"<TimeStamp><when>{escape(row.occurred_at)}</when></TimeStamp>"
        f"<description>{escape(_kml_description(row))}</description>"
        f"<Point><coordinates>{row.lon},{row.lat}</coordinates></Point></Placemark>"
        for row in rows
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"{placemarks}</Document></kml>\n"
    ).encode()


GEO_RENDERERS: dict[str, Callable[[Iterable[GeoRow]], bytes]] = {
    "csv": _csv,
    "geojson": _geojson,
    "kml": _kml,
}


def _kml_description(row: GeoRow) -> str:
    parts = [f"seq {row.seq}", row.id]
    if row.count is not None:
        parts.append(f"count {row.count}")
    if row.text:
        parts.append(row.text)
    return "; ".join(parts)
