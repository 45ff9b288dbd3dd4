"""Sighting photos: proven images, re-encoded without metadata, stored by their SHA-256."""

from __future__ import annotations

import hashlib
import os
import re
import struct
import uuid
import warnings
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from konenut.domain.errors import DomainError, FieldInvalid
from konenut.security.private_files import create_private_dir, create_private_file

MAX_PHOTO_BYTES = 5 * 1024 * 1024  # contracts §7
MAX_SIDE_PX = 2048  # enough to read a vehicle at the gate; a phone's 12 MP would be 3x more
# Refused before decoding: a 20 MP camera's photo fits, and a 5 MB file of more pixels than
# this is a bomb, not a photo (a 49 MP PNG of 156 KB took 1.5 s of a core to decode).
MAX_PIXELS = 24_000_000
TOO_MANY_PIXELS = f"a photo may have at most {MAX_PIXELS:,} pixels"
JPEG_QUALITY = 85
MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
PHOTO_ID = re.compile(r"^[0-9a-f]{64}$")
_MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


# What Pillow raises for a file that starts like an image but is not a sound one.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    Image.DecompressionBombError,
)


class PhotoTooLarge(DomainError):
    slug = "too-large"
    status = 413

    def __init__(self) -> None:
        super().__init__(f"a photo may be at most {MAX_PHOTO_BYTES // (1024 * 1024)} MB")


class NotAnImage(DomainError):
    """Bytes that are not a JPEG, PNG or WebP picture at all (a PDF, text...)."""

    slug = "unsupported-media-type"
    status = 415

    def __init__(self, detail: str = "a photo must be a JPEG, PNG or WebP image") -> None:
        super().__init__(detail)


class BrokenImage(DomainError):
    """An image file that does not decode (cut short, corrupt, absurdly large)."""

    slug = "invalid-image"
    status = 422


@dataclass(frozen=True)
class StoredPhoto:
    photo_id: str
    media_type: str
    width: int
    height: int
    size: int


def clean_image(data: bytes) -> tuple[bytes, str, int, int]:
    """The picture re-encoded: orientation applied, no EXIF/GPS/ICC/text, at most MAX_SIDE_PX."""
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoTooLarge()
    try:
        image = Image.open(BytesIO(data))
    except UnidentifiedImageError:
        if _looks_like_image(data):
            raise BrokenImage("the image is corrupt: a header, no picture") from None
        raise NotAnImage() from None
    except Image.DecompressionBombError:  # Pillow's own cap, far above ours
        claimed = f"over {2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels"
        raise BrokenImage(f"the image claims {claimed}; {TOO_MANY_PIXELS}") from None
    except _DECODE_ERRORS as error:
        raise BrokenImage(f"the image could not be read: {error}") from None
    if image.format not in MEDIA_TYPES:
        raise NotAnImage(f"{image.format} images are not accepted; send a JPEG, PNG or WebP")
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise BrokenImage(f"the image is {width}x{height} pixels; {TOO_MANY_PIXELS}")
    kind = image.format
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.draft(None, (MAX_SIDE_PX, MAX_SIDE_PX))  # a JPEG decodes at 1/2..1/8 scale
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (*_DECODE_ERRORS, Image.DecompressionBombWarning) as error:
        raise BrokenImage(f"the image could not be decoded: {error}") from None
    upright.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX))
    upright.info = {}  # nothing of the original's metadata may ride along into the encoder
    return _encode(upright, kind), MEDIA_TYPES[kind], upright.width, upright.height


def _looks_like_image(data: bytes) -> bool:
    webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return webp or any(data.startswith(magic) for magic, _type in _MAGIC)


def _encode(image: Image.Image, kind: str) -> bytes:
    """Save with no metadata: Pillow writes EXIF, ICC or text chunks only when passed them."""
    out = BytesIO()
    if kind == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif kind == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=JPEG_QUALITY)
    return out.getvalue()


def media_type_of(data: bytes) -> str:
    """The media type of a stored photo, from its first bytes."""
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    return "image/webp"


class PhotoStore:
    """Content-addressed files under `<data_dir>/photos/ab/cdef...` (contracts §7)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> PhotoStore:
        return cls(data_dir / "photos")

    def path(self, photo_id: str) -> Path:
        if not PHOTO_ID.match(photo_id):
            raise ValueError(f"not a photo id: {photo_id!r}")
        return self.root / photo_id[:2] / photo_id[2:]

    def exists(self, photo_id: str) -> bool:
        return bool(PHOTO_ID.match(photo_id)) and self.path(photo_id).is_file()

    def read(self, photo_id: str) -> bytes | None:
        if not self.exists(photo_id):
            return None
        return self.path(photo_id).read_bytes()

    def save(self, data: bytes) -> StoredPhoto:
        """Clean and keep a photo; the same picture again is the same file (idempotent)."""
        clean, media_type, width, height = clean_image(data)
        photo_id = hashlib.sha256(clean).hexdigest()
        target = self.path(photo_id)
        if not target.is_file():
            create_private_dir(target.parent)
            # A reader never sees half a file: write aside, then rename into place.
            partial = target.parent / f".{photo_id[2:]}.{uuid.uuid4().hex}.part"
            create_private_file(partial, clean)
            os.replace(partial, target)
        return StoredPhoto(photo_id, media_type, width, height, len(clean))


def check_photos(store: PhotoStore, photo_ids: list[str]) -> None:
    """Every photo a sighting names must have been uploaded (422 naming the one missing)."""
    for index, photo_id in enumerate(photo_ids):
        if not store.exists(photo_id):
            raise FieldInvalid(f"body.photo_ids.{index}", f"no photo {photo_id}; upload it first")
