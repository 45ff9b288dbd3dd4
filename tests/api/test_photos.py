"""Sighting photos: only real images are kept, re-encoded without EXIF/GPS, by their hash;
the squad can fetch them, residents cannot; bad files are refused and nothing is stored."""

from __future__ import annotations

import hashlib
import stat
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from konenut.domain.roles import Role

from .conftest import HERE, Site, assert_problem

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(size: tuple[int, int] = (320, 200), orientation: int | None = None) -> bytes:
    """A JPEG carrying the camera's position (and maybe a rotation) in its EXIF."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (31.0, 25.0, 48.0), 3: "E", 4: (34.0, 58.0, 12.0)})
    if orientation is not None:
        exif[ORIENTATION] = orientation
    out = BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def image_bytes(kind: str, size: tuple[int, int] = (64, 48)) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, kind)
    return out.getvalue()


def photo_dir(site: Site) -> Path:
    data_dir: Path = site.client.app.state.runtime.settings.data_dir  # type: ignore[attr-defined]
    return data_dir / "photos"


def stored_files(site: Site) -> list[Path]:
    root = photo_dir(site)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def upload(
    site: Site, data: bytes, role: Role = Role.RESPONDER, media_type: str = "image/jpeg"
) -> httpx.Response:
    headers = {**site.headers(role), "Content-Type": media_type}
    path = f"/api/v1/incidents/{site.incident_id}/photos"
    return site.client.post(path, content=data, headers=headers)


def uploaded(site: Site, data: bytes, **kwargs: Any) -> dict[str, Any]:
    answer = upload(site, data, **kwargs)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_photo_is_stored_by_hash_without_exif_or_gps(site: Site) -> None:
    original = jpeg_with_gps()
    assert Image.open(BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test's premise
    body = uploaded(site, original)
    path = photo_dir(site) / body["photo_id"][:2] / body["photo_id"][2:]
    kept = path.read_bytes()
    assert hashlib.sha256(kept).hexdigest() == body["photo_id"]
    assert (body["media_type"], body["width"], body["height"]) == ("image/jpeg", 320, 200)
    image = Image.open(BytesIO(kept))
    assert image.format == "JPEG" and image.size == (320, 200)
    assert not image.getexif() and "exif" not in image.info
    assert b"Exif" not in kept and b"PhoneMaker" not in kept
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    served = site.get(body["url"], Role.OPERATOR)
    assert served.status_code == 200 and served.content == kept
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "private" in served.headers["cache-control"]


def test_same_picture_twice_is_one_file(site: Site) -> None:
    data = jpeg_with_gps()
    first, second = uploaded(site, data), uploaded(site, data, role=Role.COMMANDER)
    assert first["photo_id"] == second["photo_id"]
    assert len(stored_files(site)) == 1


def test_orientation_is_applied_and_size_capped(site: Site) -> None:
    turned = uploaded(site, jpeg_with_gps((300, 100), orientation=6))  # 90° clockwise
    assert (turned["width"], turned["height"]) == (100, 300)
    big = uploaded(site, image_bytes("PNG", (4000, 1000)), media_type="image/png")
    assert (big["width"], big["height"]) == (2048, 512) and big["media_type"] == "image/png"


@pytest.mark.parametrize(("kind", "media_type"), [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_png_and_webp_keep_their_format(site: Site, kind: str, media_type: str) -> None:
    body = uploaded(site, image_bytes(kind), media_type=media_type)
    served = site.get(body["url"], Role.MEDIC)
    assert served.headers["content-type"] == media_type
    assert Image.open(BytesIO(served.content)).format == kind


def test_residents_and_admins_cannot_see_photos(site: Site) -> None:
    body = uploaded(site, jpeg_with_gps())
    for role in (Role.RESIDENT, Role.ADMIN, Role.GUEST):
        assert_problem(site.get(body["url"], role), 403, "forbidden")
    assert_problem(upload(site, jpeg_with_gps(), role=Role.RESIDENT), 403, "forbidden")
    assert_problem(site.get(f"/api/v1/photos/{'0' * 64}", Role.RESPONDER), 404, "not-found")
    assert_problem(site.get("/api/v1/photos/..%2Fkonenut.db", Role.RESPONDER), 404, "not-found")


def _truncated_jpeg() -> bytes:
    data = image_bytes("JPEG", (400, 400))
    return data[: len(data) // 2]


def _gif() -> bytes:
    return image_bytes("GIF")


BAD_FILES = [
    ("pdf-renamed-jpg", b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", 415),
    ("text", "שלום, this is not a photo".encode(), 415),
    ("gif", _gif(), 415),
    ("truncated-jpeg", _truncated_jpeg(), 422),
    ("jpeg-header-only", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40, 422),
    ("empty", b"", 422),
]


@pytest.mark.parametrize(
    ("data", "status"), [(d, s) for _n, d, s in BAD_FILES], ids=[n for n, _d, _s in BAD_FILES]
)
def test_non_images_and_broken_images_are_refused(site: Site, data: bytes, status: int) -> None:
    before = site.head()
    answer = upload(site, data)
    slug = {415: "unsupported-media-type", 422: ""}[status]
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    if slug:
        assert_problem(answer, status, slug, "JPEG, PNG or WebP")
    assert stored_files(site) == [] and site.head() == before


def test_huge_photo_is_413_and_nothing_stored(site: Site) -> None:
    before = site.head()
    huge = jpeg_with_gps() + b"\x00" * (5 * 1024 * 1024)
    assert_problem(upload(site, huge), 413, "too-large", "5 MB")

    # Without a Content-Length (chunked): refused while reading, not after.
    def chunks() -> Any:
        for _ in range(6):
            yield b"\xff" * (1024 * 1024)

    headers = {**site.headers(Role.RESPONDER), "Content-Type": "image/jpeg"}
    path = f"/api/v1/incidents/{site.incident_id}/photos"
    assert_problem(site.client.post(path, content=chunks(), headers=headers), 413, "too-large")
    assert stored_files(site) == [] and site.head() == before


HOSTILE_IMAGES = Path(__file__).resolve().parents[1] / "security" / "corpus" / "images"


@pytest.mark.parametrize("name", sorted(p.name for p in HOSTILE_IMAGES.iterdir()))
def test_pixel_bombs_from_the_corpus_are_refused_undecoded(shared_site: Site, name: str) -> None:
    """A few KB that would decode to tens or hundreds of megapixels (a 49 MP PNG cost 1.5 s
    of a core): refused from its header, naming the cap, and nothing is kept."""
    before = stored_files(shared_site)
    data = (HOSTILE_IMAGES / name).read_bytes()
    answer = upload(shared_site, data, media_type=f"image/{name.split('.')[-1]}")
    assert_problem(answer, 422, "invalid-image", "a photo may have at most 24,000,000 pixels")
    assert stored_files(shared_site) == before


def test_sighting_carries_uploaded_photos(site: Site) -> None:
    photo = uploaded(site, jpeg_with_gps())["photo_id"]
    path = f"/api/v1/incidents/{site.incident_id}/sightings"
    body = {"location": HERE, "category": "hostile", "count": 2, "photo_ids": [photo]}
    made = site.post(path, Role.RESPONDER, json=body)
    assert made.status_code == 201, made.text
    listed = {s["sighting_id"]: s for s in site.get(path, Role.OPERATOR).json()}
    assert listed[made.json()["sighting_id"]]["photo_ids"] == [photo]


@pytest.mark.parametrize(
    ("photo_ids", "loc"),
    [
        (["a" * 64], "body.photo_ids.0"),  # well-formed, never uploaded
        (["not-a-hash"], "body.photo_ids.0"),
        (["b" * 64] * 5, "body.photo_ids"),  # at most four
    ],
    ids=["unknown", "malformed", "too-many"],
)
def test_sighting_with_bad_photo_ids_is_422(site: Site, photo_ids: list[str], loc: str) -> None:
    before = site.head()
    path = f"/api/v1/incidents/{site.incident_id}/sightings"
    body = {"location": HERE, "category": "hostile", "photo_ids": photo_ids}
    problem = assert_problem(site.post(path, Role.RESPONDER, json=body), 422, "validation-error")
    assert any(e["loc"].startswith(loc) for e in problem["errors"]), problem
    assert site.head() == before


SAMPLES = [jpeg_with_gps((40, 30)), image_bytes("PNG", (40, 30)), image_bytes("WEBP", (40, 30))]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    sample=st.sampled_from(SAMPLES),
    cut=st.integers(min_value=0, max_value=2000),
    flips=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=6),
)
def test_damaged_images_never_break_the_server(
    shared_site: Site, sample: bytes, cut: int, flips: list[tuple[int, int]]
) -> None:
    """Cut short or with bytes changed, a picture is kept (it still decodes) or refused."""
    data = bytearray(sample[: max(1, len(sample) - cut)])
    for at, value in flips:
        data[at % len(data)] = value
    answer = upload(shared_site, bytes(data))
    assert answer.status_code in (201, 415, 422), answer.text
