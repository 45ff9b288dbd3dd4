"""Policies run for every appended event, whatever its entry point (issue 12, item 3): a caution
after a check-in by SMS reply or by a command run straight on the store (the CLI, an import, a
background sender), proof of life asked at once when it is set, failures counted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from helpers import SITE
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.identity import Actor
from konenut.domain.ids import new_id, utcnow
from konenut.domain.roles import Role, SubjectKind
from konenut.notify.hooks import hook_secret

from .conftest import Site, serve_site
from .test_caution import HOUSE_14, at, cautions_after, household_in, inc, position, sighting
from .test_caution_field import events_within

PHONE = "+972501110014"


def _hostile_near_house_14(site: Site) -> str:
    """House 14's household, not checked in yet; a responder and a hostile group south of it."""
    household_id = household_in(site, "14", "adult", "adult")
    position(site, Role.RESPONDER, at(HOUSE_14, north_m=-60))
    sighting(site, at(HOUSE_14, north_m=-40))
    return household_id


def test_a_check_in_by_sms_reply_raises_a_caution(site: Site) -> None:
    household_id = _hostile_near_house_14(site)
    member = {"ref": "p-14-sms", "name": "Dalia", "household_id": household_id, "phone": PHONE}
    assert site.post("/api/v1/site/people", Role.ADMIN, json=member).status_code == 201
    reping = site.post(f"{inc(site)}/accountability/reping", Role.OPERATOR)
    assert reping.status_code == 201, reping.text
    seq = site.head()
    secret = hook_secret(site.client.app.state.runtime.settings, "sms")
    form = {"From": PHONE, "To": "+972549999999", "Body": "1", "MessageSid": "SM14"}
    reply = site.client.post(f"/api/v1/hooks/sms/{secret}", data=form)
    assert reply.status_code == 201, reply.text
    [caution] = cautions_after(site, seq)
    assert caution["kind"] == "near_civilians" and caution["building_refs"] == ["14"]
    assert site.seeded.subjects[Role.RESPONDER] in caution["to_person_ids"]


def test_a_check_in_run_straight_on_the_store_raises_a_caution(site: Site) -> None:
    """As the CLI, an import or a background sender appends: no HTTP request, no Runtime.run."""
    household_id = _hostile_near_house_14(site)
    seq = site.head()
    operator = Actor(
        SITE, new_id(), site.seeded.subjects[Role.OPERATOR], SubjectKind.PERSON,
        frozenset({Role.OPERATOR}),
    )  # fmt: skip
    cmd = c.CheckIn(status="safe", people_count=2)
    site.store.execute(SITE, handlers.check_in(operator, site.incident_id, household_id, cmd))
    [caution] = cautions_after(site, seq)
    assert caution["kind"] == "near_civilians" and caution["building_refs"] == ["14"]
    assert caution["civilians"] == [{"building_ref": "14", "people": 2, "status": "safe"}]


@pytest.fixture
def sending(tmp_path: Path) -> Iterator[tuple[Site, list[timedelta]]]:
    """A site whose node runs its senders (and so proof of life), on a clock `shift[0]` ahead."""
    shift = [timedelta(0)]
    with serve_site(tmp_path, clock=lambda: utcnow() + shift[0], escalate=True) as site:
        yield site, shift


def test_proof_of_life_set_asks_at_once_those_already_silent_that_long(
    sending: tuple[Site, list[timedelta]],
) -> None:
    site, shift = sending
    shift[0] = timedelta(minutes=31)  # nobody has answered for 31 minutes
    seq = site.head()
    path = f"{inc(site)}/accountability/recheck"
    answer = site.call("PUT", path, Role.COMMANDER, json={"every_mins": 30})
    assert answer.status_code == 201, answer.text
    asked: list[dict[str, Any]] = [
        e.payload for e in site.events_after(seq) if e.type == "broadcast.sent"
    ]
    assert [a["template"] for a in asked] == ["instruction.report_status"]
    assert set(asked[0]["household_ids"]) >= {
        site.seeded.household_id,
        site.seeded.other_household_id,
    }


def test_a_failing_policy_is_counted_on_readyz_and_the_append_stands(site: Site) -> None:
    household_id = _hostile_near_house_14(site)
    assert site.get("/readyz").json()["policy_failures"] == {}
    with site.store.writer_engine.begin() as connection:  # the disk refuses cautions only
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse_cautions BEFORE INSERT ON events "
            "WHEN NEW.type = 'caution.raised' "
            "BEGIN SELECT RAISE(ABORT, 'disk refused the caution'); END"
        )
    seq = site.head()
    answer = site.post(
        f"{inc(site)}/households/{household_id}/check-ins",
        Role.COMMANDER,
        json={"status": "safe", "people_count": 2},
    )
    assert answer.status_code == 201, answer.text
    [failed] = events_within(site, seq, "caution.failed")  # counted before it is recorded
    assert failed.payload["triggers"] == ["household.checked_in"]
    ready = site.get("/readyz")
    assert ready.status_code == 200 and ready.json()["policy_failures"] == {"caution": 1}
    types = [e.type for e in site.store.read(SITE, seq)]
    assert types[0] == "household.checked_in" and "caution.raised" not in types
