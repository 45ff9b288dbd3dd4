"""`konenut cards print` as an admin uses it: fresh household cards in one standalone HTML file
whose codes enrol a phone for that household."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import open_store
from konenut.app import cards, handlers
from konenut.app import commands as c
from konenut.app.identity import new_token
from konenut.config import DEFAULT_SITE_ID
from server import run_konenut


def test_cards_print_writes_one_card_per_household(tmp_path: Path) -> None:
    data_dir = tmp_path / "site"
    assert run_konenut("init", "--data-dir", str(data_dir)).returncode == 0
    store = open_store(f"sqlite:///{data_dir / 'konenut.db'}")
    try:
        for ref, name, languages in (("h-1", "Baruch", ["he"]), ("h-W1", "Quarters", ["th", "ne"])):
            added = c.AddHousehold(ref=ref, name=name, building_ref=ref[2:], languages=languages)
            store.execute(DEFAULT_SITE_ID, handlers.add_household(None, added))
    finally:
        store.close()
    out = tmp_path / "cards.html"
    result = run_konenut("cards", "print", "--out", str(out), "-d", str(data_dir), "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert "2 cards written" in result.stdout
    page = out.read_text(encoding="utf-8")
    assert page.count('<article class="card"') == 2
    assert page.count('src="data:image/png;base64,') == 2
    assert "House 1" in page and "House W1" in page
    assert 'lang="th"' in page and 'lang="ne"' in page  # the workers' two languages
    codes = re.findall(r"Code: ([A-Z2-7]{4}(?:-[A-Z2-7]{4}){3})", page)
    assert len(codes) == 2
    assert re.search(r"/th/p#[A-Z2-7]{16}", page)  # the link opens in the household's language

    missing = run_konenut(
        "cards", "print", "--out", str(out), "-d", str(data_dir), "--households", "x"
    )
    assert missing.returncode == 1 and "no household(s) with ref x" in missing.stderr

    store = open_store(f"sqlite:///{data_dir / 'konenut.db'}")
    try:
        redeemed = store.execute(
            DEFAULT_SITE_ID, cards.redeem_card(cards.RedeemCard(code=codes[1]), new_token())
        )
        household = store.state(DEFAULT_SITE_ID).households[redeemed.body["household_id"]]
        assert household.ref == "h-W1"
    finally:
        store.close()
