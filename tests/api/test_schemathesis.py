"""A bounded schemathesis run over every operation of the OpenAPI document: whatever a
client sends, the server answers without a 5xx, and what it answers is what the document says
(a documented status, of a documented media type, with a body fitting its schema).

Cases come from the app's own schema, both fitting it (positive) and not (negative). Path
parameters are either generated or real ids of the seeded site, so commands reach the
handlers and not only the 404 for an unknown incident; positive cases get a fresh
Idempotency-Key each, so they are not answered as replays. The first run's device is one
token with both the admin and commander roles, so nearly every operation is authorised, and
its cases also break the schema (negative); then each of the nine roles' own device token
sends a few fitting cases to every operation (what it may not do must be a documented 403).
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
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from konenut.api.problems import PROBLEM_JSON
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.identity import new_code, new_token
from konenut.domain.roles import Role

from .conftest import SITE, Site, new_key, serve_site

EXAMPLES_PER_MODE = 15
# Per role: a few fitting cases per operation, so nine roles stay within a minute or two.
EXAMPLES_PER_ROLE = 2
NO_5XX = [not_a_server_error]
# Every answer must also be what the schema says it is: a documented status, of a documented
# media type, with a body that fits.
FITS_SCHEMA = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


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
    mode: GenerationMode,
    strategy: Any,
    auth: dict[str, str],
    statuses: Counter[int],
    examples: int = EXAMPLES_PER_MODE,
    checks: list[Any] = NO_5XX,
) -> None:
    positive = mode is GenerationMode.POSITIVE

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def fuzz(case: Any) -> None:
        if positive and case.headers and "Idempotency-Key" in case.headers:
            case.headers["Idempotency-Key"] = new_key()
        response = case.call_and_validate(headers=auth, checks=checks)
        statuses[response.status_code] += 1

    fuzz()


def _operations(site: Site) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", site.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30, "the schema lost its operations"
    return operations


def _real_ids(site: Site, role: Role) -> dict[str, str]:
    """Ids of the seeded site for path parameters: the role's own household and person where
    it has them, so OWN-scope commands reach their handlers."""
    own_person = site.seeded.subjects[role] if role in (Role.RESPONDER, Role.MEDIC) else ""
    return {
        "incident_id": site.incident_id,
        "household_id": site.household_of(role) or site.seeded.household_id,
        "person_id": own_person or site.member_id,
        "sighting_id": site.sighting_id,
        "order_id": site.order_id,
        "token_id": site.token_id_of(site.spare_token()),
    }


def _strategy(
    site: Site, operation: Any, mode: GenerationMode, auth: dict[str, str], real: dict[str, str]
) -> Any:
    """Cases for the operation: path parameters generated, and (positive) the site's real ids."""
    strategies = [operation.as_strategy(generation_mode=mode, headers=auth)]
    params = {p.name for p in operation.path_parameters}
    if params and mode is GenerationMode.POSITIVE:
        fixed = {name: real[name] for name in params if name in real}
        if operation.label.endswith("/close"):  # keep the real incident open
            fixed["incident_id"] = site.fresh_drill()
        strategies.append(
            operation.as_strategy(generation_mode=mode, headers=auth, path_parameters=fixed)
        )
    return st.one_of(strategies)


def test_no_operation_answers_5xx(fuzzed_site: tuple[Site, str]) -> None:
    site, token = fuzzed_site
    real = _real_ids(site, Role.COMMANDER)
    auth = {"Authorization": f"Bearer {token}"}
    before = site.head()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    for operation in _operations(site):
        # Negative cases need something that can be wrong besides the path (any text is a
        # valid path segment) and the token (fixed here): a body, a query or a header.
        inputs = [h for h in operation.headers if h.name != "Authorization"]
        modes = [GenerationMode.POSITIVE]
        if inputs or len(operation.query) or len(operation.body):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            try:
                strategy = _strategy(site, operation, mode, auth, real)
                _fuzz(mode, strategy, auth, statuses, checks=FITS_SCHEMA)
            except Exception as exc:  # collect every operation's failure, then report all
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
    assert not [status for status in statuses if status >= 500]
    # The run reached the handlers: commands were appended, reads answered.
    assert statuses[200] and statuses[201] and site.head() > before
    # The device is still what it was (fuzzing must not have revoked it).
    assert site.get("/api/v1/me", token=token).status_code == 200


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_every_role_gets_no_5xx_and_answers_that_fit_the_schema(
    fuzzed_site: tuple[Site, str], role: Role
) -> None:
    """Each role's own device token over every operation: what it may do answers as the schema
    says, what it may not is a 403 the schema documents, and nothing is a 5xx."""
    site, _ = fuzzed_site
    real = _real_ids(site, role)
    auth = {"Authorization": f"Bearer {site.token(role)}"}
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    for operation in _operations(site):
        try:
            strategy = _strategy(site, operation, GenerationMode.POSITIVE, auth, real)
            _fuzz(GenerationMode.POSITIVE, strategy, auth, statuses, EXAMPLES_PER_ROLE, FITS_SCHEMA)
        except Exception as exc:  # collect every operation's failure, then report all
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert statuses[200] and statuses[403], statuses  # it reached handlers, and was refused
    assert site.get("/api/v1/me", role).status_code == 200  # the device is still enrolled


def test_the_document_says_what_every_operation_answers(fuzzed_site: tuple[Site, str]) -> None:
    """What a generated client reads: every error is a problem+json body of one schema, and a
    command (201) may answer 200 when it changes nothing (contracts §3)."""
    site, _ = fuzzed_site
    document = site.client.get("/api/v1/openapi.json").json()
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            where = f"{method.upper()} {path}"
            assert responses["4XX"]["content"] == {PROBLEM_JSON: {"schema": problem}}, where
            for code in (status for status in responses if status[0] in "45"):
                assert list(responses[code]["content"]) == [PROBLEM_JSON], (where, code)
            if "201" in responses:
                assert "200" in responses, where
    assert "HTTPValidationError" not in document["components"]["schemas"]
