"""Secrets in stored responses, sealed with a key only the original caller holds.

A retried enrollment must get its token back, so the store keeps the response; but the log's
database must not hold usable tokens or codes (contracts §4). The response's secret fields are
encrypted with a key derived from the request's Idempotency-Key, and only a hash of that key
is stored: whoever repeats the request can open them, a copy of the database cannot.
"""

from __future__ import annotations

import base64
import hashlib
import os

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from konenut.domain.events import JsonDict

NONCE_BYTES = 12  # AES-GCM's standard nonce size
_CONTEXT = b"konenut idempotent response v1\x00"


def key_digest(site_id: str, scope: str, key: str) -> str:
    """What the store keeps of an Idempotency-Key: its SHA-256, hex."""
    return hashlib.sha256(_material(site_id, scope, key, b"lookup")).hexdigest()


def seal(secrets: JsonDict, site_id: str, scope: str, key: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    box = AESGCM(_cipher_key(site_id, scope, key))
    return base64.b64encode(nonce + box.encrypt(nonce, orjson.dumps(secrets), None)).decode()


def unseal(sealed: str, site_id: str, scope: str, key: str) -> JsonDict:
    raw = base64.b64decode(sealed)
    box = AESGCM(_cipher_key(site_id, scope, key))
    secrets: JsonDict = orjson.loads(box.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None))
    return secrets


def _cipher_key(site_id: str, scope: str, key: str) -> bytes:
    return hashlib.sha256(_material(site_id, scope, key, b"seal")).digest()


def _material(site_id: str, scope: str, key: str, purpose: bytes) -> bytes:
    # Length-prefixed parts, so ("ab", "c") and ("a", "bc") never give the same material.
    parts = [purpose, site_id.encode(), scope.encode(), key.encode()]
    return _CONTEXT + b"".join(len(p).to_bytes(4, "big") + p for p in parts)
