"""Secrets for devices: bearer tokens and one-time enrollment codes, stored only as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import ClassVar

from konenut.domain.events import JsonDict, Viewer
from konenut.domain.roles import Role, SubjectKind, primary_role
from konenut.domain.state import TokenView

TOKEN_BYTES = 32  # 256 bits (contracts §4)
CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648 base32: no 0/1/8/9 to misread
ENROLLMENT_CODE_CHARS = 8
PASS_CODE_CHARS = 16


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_secret(secret: str) -> str:
    """SHA-256 hex: tokens are long random strings, so a fast hash is enough (contracts §4)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_code(length: int = ENROLLMENT_CODE_CHARS) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalise_code(text: str) -> str:
    """A code as typed or printed ("abcd-efgh", "ABCD EFGH") in its canonical form."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def hash_code(code_key: bytes, code: str) -> str:
    """HMAC-SHA256 of a code under its site's key (SiteState.code_key). An 8-character code has
    40 bits: unkeyed, a copy of the database gave every live code away to a brute force."""
    message = ("code:" + normalise_code(code)).encode()
    return hmac.new(code_key, message, hashlib.sha256).hexdigest()


def legacy_code_hash(code: str) -> str:
    """How codes were hashed before they were keyed (unsalted SHA-256). Passes printed then
    still open with it (80 bits: out of a brute force's reach); enrollment codes do not."""
    return hash_secret("code:" + normalise_code(code))


def links_url(site: JsonDict | None, default_url: str) -> str:
    """The base of every link printed, sent or shown as a QR: the site's public URL (a site
    setting: `konenut init --public-url`), else `default_url` (Settings.base_url)."""
    return str((site or {}).get("public_url") or default_url).rstrip("/")


def enrollment_link(base_url: str, code: str, lang: str = "he") -> str:
    return f"{base_url.rstrip('/')}/{lang}/enroll#{normalise_code(code)}"


@dataclass(frozen=True)
class Actor:
    """The authenticated caller: a token and what it stands for."""

    site_id: str
    token_id: str
    subject_id: str
    subject_kind: SubjectKind
    roles: frozenset[Role]
    household_id: str | None = None
    incident_id: str | None = None
    # A volunteer who joined by a pass and waits for a commander (app/volunteers.py).
    awaiting_approval: ClassVar[bool] = False

    @classmethod
    def from_token(cls, site_id: str, token: TokenView) -> Actor:
        return cls(
            site_id=site_id,
            token_id=token.token_id,
            subject_id=token.subject_id,
            subject_kind=SubjectKind(token.subject_kind),
            roles=frozenset(Role(r) for r in token.roles),
            household_id=token.household_id,
            incident_id=token.incident_id,
        )

    @property
    def role(self) -> Role:
        return primary_role(self.roles)

    @property
    def viewer(self) -> Viewer:
        return Viewer(
            roles=self.roles,
            subject_id=self.subject_id,
            household_id=self.household_id,
            incident_id=self.incident_id,
        )
