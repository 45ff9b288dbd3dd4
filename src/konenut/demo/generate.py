"""Deterministic generator (seed 7) of the fictional Tel Kinamon demo site plan and residents:
`python -m konenut.demo.generate [DIR]` rewrites the shipped files (demo/plan.py draws the plan,
demo/people.py invents the people)."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from konenut.demo import RESIDENTS_FILE, SITE_PLAN_FILE
from konenut.demo.people import build_residents
from konenut.demo.plan import build_site_plan, render_site_plan

SEED = 7


def main(out_dir: str | Path | None = None) -> None:
    """Write site_plan.geojson and residents.json into out_dir (default: this package)."""
    target = Path(out_dir) if out_dir is not None else Path(__file__).resolve().parent
    target.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    collection, house_refs = build_site_plan(rng)
    residents = build_residents(rng, house_refs)
    (target / SITE_PLAN_FILE).write_bytes(render_site_plan(collection).encode("utf-8"))
    text = json.dumps(residents, ensure_ascii=False, indent=2) + "\n"
    (target / RESIDENTS_FILE).write_bytes(text.encode("utf-8"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
