"""The demo squad as the muster sees it: two teams, keys and radios with their holders."""

from __future__ import annotations

from pathlib import Path

from helpers import open_store
from konenut.demo.seed import seed
from konenut.domain.roles import Role

SITE = "site"


def test_demo_squad_has_teams_and_keys(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        assert seed(store, SITE)
        state = store.state(SITE)
    finally:
        store.close()
    responders = [p for p in state.persons.values() if Role.RESPONDER.value in p.roles]
    teams = {team for p in responders for team in p.teams}
    assert teams == {"north", "south"}
    assert all(len(p.teams) == 1 for p in responders)
    assets = {a.ref: a for a in state.assets.values()}
    assert {"key-armory-1", "key-gate-1", "key-gate-4", "radio-1", "locker-1"} <= set(assets)
    assert assets["key-gate-4"].holder_person_id is None  # a key nobody has: the board says so
    holder = state.persons[assets["key-armory-1"].holder_person_id or ""]
    assert holder.callsign == "Kinamon 1" and Role.COMMANDER.value in holder.roles
    assert {a.opens_ref for a in assets.values() if a.kind == "gate_key"} == {"1", "2", "3", "4"}
