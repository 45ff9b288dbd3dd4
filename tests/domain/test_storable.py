"""The envelope's quick storability check says yes exactly when the detailed one does."""

from __future__ import annotations

from typing import Any

import pytest

from konenut.domain.errors import InvalidEvent
from konenut.domain.rules import MAX_NESTING, _check_storable, _storable


def _nested(levels: int, leaf: Any) -> Any:
    value = leaf
    for _ in range(levels):
        value = {"a": value}
    return value


PAYLOADS: list[Any] = [
    {"text": "שלום مرحبا สวัสดี नमस्ते", "n": 3, "ok": True, "none": None},
    {"text": "a\x00b"},
    {"key\x00": "value"},
    {"list": ["fine", ["deep", "x\x00"]]},
    {"text": "\ud800 alone"},
    {"tuple": ("a", "\udfff")},
    _nested(MAX_NESTING, "leaf"),
    _nested(MAX_NESTING + 1, "leaf"),
    _nested(MAX_NESTING, ["leaf"]),
    [[[]]],
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_quick_and_detailed_checks_agree(payload: Any) -> None:
    try:
        _check_storable(payload, "payload")
    except InvalidEvent:
        accepted = False
    else:
        accepted = True
    assert _storable(payload) is accepted
