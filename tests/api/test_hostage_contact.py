"""A hostage update may change how the squad reaches whoever is inside (a phone dies)."""

from __future__ import annotations

from konenut.domain.roles import Role

from .conftest import Site, assert_problem
from .test_hostages import board, report


def test_an_update_changes_the_contact_channel_and_keeps_it_when_left_out(site: Site) -> None:
    situation_id = report(site, contact_channel="WhatsApp +972501112233")["situation_id"]
    updates = f"{board(site)}/{situation_id}/updates"
    moved = {"contact_channel": "neighbour's landline", "text": "the phone died"}
    assert site.post(updates, Role.OPERATOR, json=moved).status_code == 201
    assert site.post(updates, Role.OPERATOR, json={"attackers_inside": 1}).status_code == 201
    [situation] = site.get(board(site), Role.COMMANDER).json()
    assert situation["contact_channel"] == "neighbour's landline"
    assert [u.get("contact_channel") for u in situation["updates"]] == [
        "neighbour's landline",
        None,
    ]
    too_long = site.post(updates, Role.OPERATOR, json={"contact_channel": "x" * 201})
    assert_problem(too_long, 422, "validation-error")
