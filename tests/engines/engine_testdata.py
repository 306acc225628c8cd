"""Data of the engine-parity suite (tests/engines): which real files every engine loads."""

from __future__ import annotations

import os
from pathlib import Path

MONTHS = ("2019-01", "2019-02", "2019-03", "2019-04", "2019-05", "2019-06")


def city_files() -> list[Path]:
    """Six months of City of London street crime and stop-and-search (police.uk CSVs)."""
    env = os.environ.get("HARMSCOPE_SHARED_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    folder = base / "policeuk-city-of-london-2018-12_2021-11"
    return [
        folder / sub / f"{m}-city-of-london-{sub}.csv"
        for m in MONTHS
        for sub in ("street", "stop-and-search")
    ]
