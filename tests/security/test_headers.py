"""Security headers on every answer of the real `konenut serve`: the API docs page, the pages,
the API (refusals included), the assets; and the docs page runs no inline script."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from server import KonenutServer, run_konenut

FRAMING_REFUSED = "frame-ancestors 'none'"
# (method, path, expected status): the docs and their assets, OpenAPI, a page, the landing,
# health, an unauthenticated API call, an unknown route, an over-long body.
ANSWERS = [
    ("GET", "/api/v1/docs", 200),
    ("GET", "/api/v1/docs/start.js", 200),
    ("GET", "/api/v1/docs/assets/swagger-ui.css", 200),
    ("GET", "/api/v1/openapi.json", 200),
    ("GET", "/en/resident", 200),
    ("GET", "/", 200),
    ("GET", "/healthz", 200),
    ("GET", "/api/v1/site/people", 401),
    ("GET", "/api/v1/no-such-thing", 404),
    ("POST", "/api/v1/incidents", 413),
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    data_dir = tmp_path_factory.mktemp("headers") / "site"
    init = run_konenut("init", "--data-dir", str(data_dir))
    assert init.returncode == 0, init.stderr
    with KonenutServer(data_dir) as server, server.client() as http:
        yield http


@pytest.mark.parametrize(("method", "path", "status"), ANSWERS)
def test_every_answer_carries_the_security_headers(
    client: httpx.Client, method: str, path: str, status: int
) -> None:
    body = b"{}" * (40 * 1024) if status == 413 else None
    response = client.request(method, path, content=body)
    assert response.status_code == status, response.text
    policy = response.headers["content-security-policy"]
    assert FRAMING_REFUSED in policy and "script-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    assert "microphone=()" in response.headers["permissions-policy"]


def test_the_docs_page_needs_no_inline_script(client: httpx.Client) -> None:
    """Under script-src 'self' an inline script would not run: Swagger UI starts from a file."""
    html = client.get("/api/v1/docs").text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/api/v1/' in attrs and not body.strip() for attrs, body in scripts)
    assert "cdn" not in html.lower()
