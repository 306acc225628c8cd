"""Names of places (places/names.py) on real City of London records, recomputed with pandas."""

from __future__ import annotations

import os
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from harmscope.places.hotspots import emerging_cells, hotspots
from harmscope.places.names import cell_names, local_authority, unit_names
from harmscope.warehouse.handle import Warehouse

CITY = (
    Path(
        os.environ.get("HARMSCOPE_SHARED_DATA")
        or Path(__file__).resolve().parents[3] / "shared" / "data"
    )
    / "policeuk-city-of-london-2018-12_2021-11"
)
MONTHS = ("2019-01", "2019-02", "2019-03", "2019-04", "2019-05", "2019-06")


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """The six months' street records the ``city_db`` fixture holds, read with pandas alone."""
    files = [CITY / "street" / f"{m}-city-of-london-street.csv" for m in MONTHS]
    frame = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    # Ingest folds rows repeating a Crime ID in a month to one: the first located row.
    frame["_unlocated"] = frame["Longitude"].isna()
    frame = frame.sort_values("_unlocated", kind="stable")
    repeat = frame.duplicated(["Crime ID", "Month"]) & frame["Crime ID"].notna()
    frame = frame[~repeat].dropna(subset=["Longitude", "Latitude"])
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = to_bng.transform(frame["Longitude"].to_numpy(), frame["Latitude"].to_numpy())
    frame["cell_x"] = np.floor(np.asarray(x) / 250.0) * 250.0
    frame["cell_y"] = np.floor(np.asarray(y) / 250.0) * 250.0
    return frame


def expected_names(raw: pd.DataFrame) -> dict[tuple[float, float], str]:
    """Top two locations (count desc, then A-Z) and the top LSOA name of each cell."""
    out: dict[tuple[float, float], str] = {}
    for (cx, cy), cell in raw.groupby(["cell_x", "cell_y"]):
        loc = cell["Location"].dropna()
        loc = loc[loc.str.lower() != "no location"]
        counts = loc.value_counts().reset_index()
        counts.columns = ["loc", "n"]
        top = counts.sort_values(["n", "loc"], ascending=[False, True])["loc"].head(2).tolist()
        lsoa = cell["LSOA name"].dropna().value_counts().reset_index()
        lsoa.columns = ["name", "n"]
        lsoa_name = (
            lsoa.sort_values(["n", "name"], ascending=[False, True])["name"].iloc[0]
            if len(lsoa)
            else ""
        )
        where = " / ".join(top[:1] + [t.removeprefix("On or near ") for t in top[1:]])
        out[(float(cx), float(cy))] = ", ".join(p for p in (where, lsoa_name) if p)
    return out


def test_cell_names_match_pandas(city_db: Path, raw: pd.DataFrame) -> None:
    with Warehouse.of(city_db) as wh:
        names = cell_names(wh.events())
    got = {(r.cell_x, r.cell_y): r.name for r in names.itertuples()}
    want = expected_names(raw)
    # Stop-and-search records carry no location or LSOA name: only street cells are named.
    assert got == want
    assert len(got) > 90
    busiest = raw.groupby(["cell_x", "cell_y"]).size().idxmax()
    assert got[busiest].startswith("On or near ") and " / " in got[busiest]


def test_hotspots_and_emerging_carry_the_names(city_db: Path, raw: pd.DataFrame) -> None:
    want = expected_names(raw)
    spots = hotspots(city_db)
    assert list(spots.columns[:7]) == [
        "cell_x",
        "cell_y",
        "name",
        "harm",
        "gi_z",
        "p_fdr",
        "category",
    ]
    inside = [(float(x), float(y)) for x, y in zip(spots["cell_x"], spots["cell_y"], strict=True)]
    assert spots["name"].tolist() == [want.get(k, "") for k in inside]
    # A place keeps its name whatever the period asked about.
    early = hotspots(city_db, months=("2019-01", "2019-02"))
    merged = spots.merge(early, on=["cell_x", "cell_y"], suffixes=("", "_early"))
    assert len(merged) == len(spots) and (merged["name"] == merged["name_early"]).all()
    emerging = emerging_cells(city_db)
    named = dict(
        zip(zip(spots["cell_x"], spots["cell_y"], strict=True), spots["name"], strict=True)
    )
    assert [named[(x, y)] for x, y in zip(emerging["cell_x"], emerging["cell_y"], strict=True)] == (
        emerging["name"].tolist()
    )
    assert (spots["name"] != "").sum() >= (spots["harm_events"] > 0).sum()


def test_unit_names_pool_the_cells(city_db: Path, raw: pd.DataFrame) -> None:
    cells = raw.groupby(["cell_x", "cell_y"]).size().sort_values(ascending=False).index[:3]
    units = pd.DataFrame(
        {"unit_id": ["u1"] * 3 + ["u2"], "cell_x": [c[0] for c in cells] + [0.0]}
    ).assign(cell_y=[c[1] for c in cells] + [0.0])
    with Warehouse.of(city_db) as wh:
        named = unit_names(wh.events(), units).set_index("unit_id")
    pooled = raw.merge(pd.DataFrame(list(cells), columns=["cell_x", "cell_y"]))
    pooled = pooled.assign(cell_x=0.0, cell_y=0.0)
    assert named.loc["u1", "name"] == expected_names(pooled)[(0.0, 0.0)]
    assert named.loc["u2", "name"] == ""


def test_local_authority_from_areas_table_or_lsoa_name() -> None:
    events = ibis.memtable(
        {
            "x": [10.0, 20.0, 300.0],
            "y": [10.0, 10.0, 10.0],
            "location": ["No Location", None, "On or near High Street"],
            "lsoa_name": ["Lincoln 001A", "Lincoln 001A", "Lincoln 002B"],
        }
    )
    areas = ibis.memtable(
        {"lsoa_name": ["Lincoln 001A"], "lad_name": ["City of Lincoln"]},
    )
    named = cell_names(events, areas=areas).set_index("cell_x")
    assert named.loc[0.0, "local_authority"] == "City of Lincoln"
    assert named.loc[0.0, "name"] == "Lincoln 001A"
    assert named.loc[250.0, "local_authority"] == "Lincoln"
    assert local_authority("West Lindsey 009E") == "West Lindsey"


def test_area_rows_carry_lsoa_name_and_local_authority(city_db: Path, raw: pd.DataFrame) -> None:
    from harmscope.places.area_harm import area_harm

    with Warehouse.of(city_db) as wh:
        rows = area_harm(wh.events(), wh.table("areas")).to_pandas()
    # No areas table loaded here: names as police.uk publishes them, the authority from them.
    published = raw.dropna(subset=["LSOA code"]).groupby("LSOA code")["LSOA name"].max()
    assert len(rows) > 30
    for r in rows.itertuples():
        assert r.lsoa_name == published[r.lsoa_code]
        assert r.lad_name == r.lsoa_name.rsplit(" ", 1)[0] and r.lad_name
    assert set(rows["lad_name"]) >= {"City of London", "Islington", "Tower Hamlets"}
