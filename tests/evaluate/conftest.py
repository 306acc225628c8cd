"""Real police.uk files ingested into temporary warehouses, and a small simulated city."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from harmscope.warehouse.ingest import ingest_paths


def shared_data() -> Path:
    """``../shared/data`` next to the repository, or ``HARMSCOPE_SHARED_DATA``."""
    env = os.environ.get("HARMSCOPE_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"


CITY = shared_data() / "policeuk-city-of-london-2018-12_2021-11"
LINCS = shared_data() / "policeuk-lincolnshire-2017-02_2020-01"
LINCS_MONTHS = ("2019-01", "2019-02", "2019-03")


@pytest.fixture(scope="session")
def city_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All 36 City of London months (street and stop-and-search) in a fresh warehouse."""
    db = tmp_path_factory.mktemp("city") / "w.duckdb"
    ingest_paths([CITY], db=db)
    return db


@pytest.fixture(scope="session")
def city_street() -> pd.DataFrame:
    """The City of London street rows as published, duplicate Crime IDs in a month folded
    (as the warehouse does)."""
    frames = [pd.read_csv(f, dtype=str) for f in sorted((CITY / "street").glob("*.csv"))]
    raw = pd.concat(frames, ignore_index=True)
    has_id = raw["Crime ID"].notna()
    folded = pd.concat(
        [raw[has_id].drop_duplicates(["Month", "Crime ID"]), raw[~has_id]], ignore_index=True
    )
    folded["Longitude"] = folded["Longitude"].astype(float)
    folded["Latitude"] = folded["Latitude"].astype(float)
    return folded


@pytest.fixture(scope="session")
def lincs_files() -> list[Path]:
    """Three months of Lincolnshire street and outcomes files."""
    files = []
    for m in LINCS_MONTHS:
        for family in ("street", "outcomes"):
            files.append(LINCS / family / f"{m}-lincolnshire-{family}.csv.gz")
    missing = [f for f in files if not f.exists()]
    if missing:
        pytest.fail(f"missing Lincolnshire files: {missing}")
    return files


@pytest.fixture(scope="session")
def lincs_db(tmp_path_factory: pytest.TempPathFactory, lincs_files: list[Path]) -> Path:
    """Lincolnshire street + outcomes, 2019-01 to 2019-03, plus City of London searches of the
    same months (Lincolnshire has no stop-and-search files here)."""
    db = tmp_path_factory.mktemp("lincs") / "w.duckdb"
    searches = [
        CITY / "stop-and-search" / f"{m}-city-of-london-stop-and-search.csv" for m in LINCS_MONTHS
    ]
    ingest_paths([*lincs_files, *searches], db=db)
    return db


@pytest.fixture(scope="session")
def lincs_street_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All 36 Lincolnshire street months (2017-02 to 2020-01) and nothing else: no
    stop-and-search files were published with them."""
    db = tmp_path_factory.mktemp("lincs_street") / "w.duckdb"
    ingest_paths([LINCS / "street"], db=db)
    return db


#: The Lincoln evaluation of docs/evaluation.md: Lincoln 005B (the city centre) as target,
#: four neighbouring LSOAs as buffer, the rest of the force as control.
LINCOLN = {
    "target": "lsoa:E01026143",
    "buffer": "lsoa:E01026176,E01026132,E01026122,E01026133",
    "control": "all",
    "pre": "2018-07:2018-12",
    "post": "2019-01:2019-06",
    "baseline_start": "2017-02",
}
