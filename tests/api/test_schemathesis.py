"""A bounded schemathesis run over every operation of the OpenAPI document: whatever a
client sends, the server answers without a 5xx.

Cases come from the app's own schema, both fitting it (positive) and not (negative). Path
parameters are either generated or real ids of the seeded site, so commands reach the
handlers and not only the 404 for an unknown incident; positive cases get a fresh
Idempotency-Key each, so they are not answered as replays. The device is one token with both
the admin and commander roles, so nearly every operation is authorised.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi

from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.identity import new_code, new_token

from .conftest import SITE, Site, new_key, serve_site

EXAMPLES_PER_MODE = 15


@pytest.fixture(scope="module")
def fuzzed_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, str]]:
    """The seeded site, and a token that is both admin and commander."""
    with serve_site(tmp_path_factory.mktemp("fuzz")) as site:
        person = site.store.execute(
            SITE,
            handlers.add_person(
                None, c.AddPerson(ref="p-chief", name="Chief Admin", roles=["admin", "commander"])
            ),
        )
        code, token = new_code(), new_token()
        site.store.execute(
            SITE,
            handlers.issue_enrollment_code(
                None, c.IssueEnrollmentCode(subject_id=str(person.body["person_id"])), code
            ),
        )
        site.store.execute(SITE, handlers.enroll_device(c.EnrollDevice(code=code), token))
        try:
            yield site, token
        finally:
            # schemathesis keeps the app's lifespan running for the process: end it here.
            asgi.shutdown_lifespans()


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    strategy: Any,
    auth: dict[str, str],
    statuses: Counter[int],
) -> None:
    positive = mode is GenerationMode.POSITIVE

    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def fuzz(case: Any) -> None:
        if positive and case.headers and "Idempotency-Key" in case.headers:
            case.headers["Idempotency-Key"] = new_key()
        response = case.call_and_validate(headers=auth, checks=[not_a_server_error])
        statuses[response.status_code] += 1

    fuzz()


def test_no_operation_answers_5xx(fuzzed_site: tuple[Site, str]) -> None:
    site, token = fuzzed_site
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", site.client.app)
    real = {
        "incident_id": site.incident_id,
        "household_id": site.seeded.household_id,
        "person_id": site.member_id,
        "sighting_id": site.sighting_id,
        "order_id": site.order_id,
        "token_id": site.token_id_of(site.spare_token()),
    }
    auth = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30, "the schema lost its operations"
    before = site.head()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    for operation in operations:
        # Negative cases need something that can be wrong besides the path (any text is a
        # valid path segment) and the token (fixed here): a body, a query or a header.
        inputs = [h for h in operation.headers if h.name != "Authorization"]
        modes = [GenerationMode.POSITIVE]
        if inputs or len(operation.query) or len(operation.body):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            strategies = [operation.as_strategy(generation_mode=mode, headers=auth)]
            params = {p.name for p in operation.path_parameters}
            if params and mode is GenerationMode.POSITIVE:
                fixed = {name: real[name] for name in params if name in real}
                if operation.label.endswith("/close"):  # keep the real incident open
                    fixed["incident_id"] = site.fresh_drill()
                strategies.append(
                    operation.as_strategy(generation_mode=mode, headers=auth, path_parameters=fixed)
                )
            try:
                _fuzz(operation, mode, st.one_of(strategies), auth, statuses)
            except Exception as exc:  # collect every operation's failure, then report all
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
    assert not [status for status in statuses if status >= 500]
    # The run reached the handlers: commands were appended, reads answered.
    assert statuses[200] and statuses[201] and site.head() > before
    # The device is still what it was (fuzzing must not have revoked it).
    assert site.get("/api/v1/me", token=token).status_code == 200
