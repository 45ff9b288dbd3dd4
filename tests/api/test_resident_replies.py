"""Residents check in by replying 1-5 to a broadcast SMS (issue 5 item 2, contracts §4).

The reply answers the latest question sent to that number: a household member's reply to the
latest broadcast to their household is its check-in; a responder who lives in a household
answers the muster call or the broadcast, whichever was sent last.
"""

from __future__ import annotations

from typing import Any

import httpx

from konenut.domain.roles import Role
from konenut.notify.hooks import hook_secret

from .conftest import Site, assert_problem

PHONE = "+972501110001"
RESPONDER_PHONE = "+972501110002"
ADMIN, COMMANDER, OPERATOR = Role.ADMIN, Role.COMMANDER, Role.OPERATOR


def _ok(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _sms(site: Site, sender: str, text: str, sid: str) -> httpx.Response:
    """As Twilio posts it."""
    secret = hook_secret(site.client.app.state.runtime.settings, "sms")
    form = {"From": sender, "To": "+972549999999", "Body": text, "MessageSid": sid}
    return site.client.post(f"/api/v1/hooks/sms/{secret}", data=form)


def _member(site: Site, ref: str, household_id: str, phone: str, **more: Any) -> str:
    body = {"ref": ref, "name": f"Member {ref}", "household_id": household_id, "phone": phone}
    return str(_ok(site.post("/api/v1/site/people", ADMIN, json={**body, **more}))["person_id"])


def _reping(site: Site) -> None:
    path = f"/api/v1/incidents/{site.incident_id}/accountability/reping"
    assert _ok(site.post(path, OPERATOR))["pinged"] >= 1


def _row(site: Site, household_id: str) -> dict[str, Any]:
    board = _ok(site.get(f"/api/v1/incidents/{site.incident_id}/accountability", OPERATOR), 200)
    return next(r for r in board["households"] if r["household_id"] == household_id)


def test_a_digit_reply_to_the_broadcast_checks_the_household_in(site: Site) -> None:
    home = site.seeded.household_id
    member = _member(site, "dalia", home, PHONE)
    # Nothing was asked of this household yet: a reply answers nothing.
    assert_problem(_sms(site, PHONE, "1", "SM1"), 409, "no-open-question")
    _reping(site)
    before = site.head()

    answer = _ok(_sms(site, "+972 50-111-0001", "1", "SM2"))

    assert answer == {"answer": "safe", "incident_id": site.incident_id}
    events = site.events_after(before)
    assert [(e.type, e.payload, e.actor) for e in events] == [
        (
            "household.checked_in",
            {"household_id": home, "status": "safe", "text": "", "via": "sms"},
            member,
        )
    ]
    row = _row(site, home)
    assert (row["state"], row["via"]) == ("safe", "sms")
    # The provider's retry is answered once; the same answer again adds nothing.
    replay = _sms(site, "+972 50-111-0001", "1", "SM2")
    assert replay.json() == answer and replay.headers.get("Idempotent-Replayed") == "true"
    _ok(_sms(site, PHONE, "safe", "SM3"), 200)
    assert [e.type for e in site.events_after(before)] == ["household.checked_in"]


def test_every_answer_in_digits_and_words(site: Site) -> None:
    home = site.seeded.household_id
    _member(site, "dalia", home, PHONE)
    _reping(site)
    for n, (text, status) in enumerate(
        [
            ("2", "need_medic"),
            ("٣", "intruder"),  # Arabic-Indic three
            ("שריפה", "smoke"),
            ("We are not home", "not_home"),
            ("ปลอดภัยครับ", "safe"),
            ("सुरक्षित", "safe"),
        ]
    ):
        _sms(site, PHONE, text, f"SM{n}")
        assert _row(site, home)["state"] == status, text


def test_text_that_is_no_answer_is_refused_and_audited(site: Site) -> None:
    _member(site, "dalia", site.seeded.household_id, PHONE)
    _reping(site)
    before = site.head()
    for n, text in enumerate(["hello", "yes", "9"]):
        assert_problem(_sms(site, PHONE, text, f"SMx{n}"), 422, "not-an-answer", "5 (not home)")
    events = site.events_after(before)
    assert [e.type for e in events] == ["audit.inbound_rejected"] * 3
    assert all(e.payload["reason"] == "not an answer" for e in events)
    assert _row(site, site.seeded.household_id)["state"] == "no_answer"


def test_a_responder_at_home_answers_what_was_asked_last(site: Site) -> None:
    home = site.seeded.other_household_id
    responder = _member(site, "yossi", home, RESPONDER_PHONE, roles=["responder"])
    muster = _ok(site.post("/api/v1/squad/activate", COMMANDER, json={"person_ids": [responder]}))
    assert muster["incident_id"] == site.incident_id
    _reping(site)  # the household is asked after the call: "1" is the household's answer

    assert _ok(_sms(site, RESPONDER_PHONE, "1", "SMr1"))["answer"] == "safe"
    assert _row(site, home)["state"] == "safe"

    _ok(site.post("/api/v1/squad/activate", COMMANDER, json={"person_ids": [responder]}))
    # Now the call is the latest question: "1" is "coming".
    assert _ok(_sms(site, RESPONDER_PHONE, "1", "SMr2"))["answer"] == "coming"
    board = _ok(site.get(f"/api/v1/incidents/{site.incident_id}/muster", COMMANDER), 200)
    row = next(r for r in board["people"] if r["person_id"] == responder)
    assert row["state"] == "coming"
