"""Sparse by default: hot spot and emerging outputs list the cells with events (issue 10 item 3).

Real data: 36 months of Lincolnshire street crime (2017-02 to 2020-01) and six months of the
City of London. The cells holding events are recomputed with pandas from the police.uk CSVs
(pyproj to British National Grid, ``floor(x / 250) * 250``); Gi* must not change with the
listing, because it always runs on the full study-area lattice.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from pyproj import Transformer
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.warehouse.ingest import ingest_paths

Cell = tuple[int, int]

runner = CliRunner()
DATA = (
    Path(os.environ["HARMSCOPE_SHARED_DATA"])
    if os.environ.get("HARMSCOPE_SHARED_DATA")
    else Path(__file__).resolve().parents[3] / "shared" / "data"
)
LINCS = DATA / "policeuk-lincolnshire-2017-02_2020-01" / "street"


@pytest.fixture(scope="module")
def lincs_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("lincs") / "lincs.duckdb"
    ingest_paths(sorted(LINCS.glob("*-street.csv.gz")), db=db)
    return db


def _cells_with_events(files: list[Path], size: float) -> tuple[set[Cell], set[Cell]]:
    """Distinct cells of the located records, with pandas and pyproj (not the library): the
    cells of points more than 1 cm from a cell edge (sure), and every cell a point within
    1 cm could fall in (possible). The ingest projects with its own SQL formulas, within 3 mm
    of pyproj, so a point on an edge may land on either side."""
    frame = pd.concat(
        [pd.read_csv(f, usecols=["Longitude", "Latitude"]) for f in files], ignore_index=True
    ).dropna()
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = to_bng.transform(frame["Longitude"].to_numpy(), frame["Latitude"].to_numpy())
    x, y = np.asarray(x), np.asarray(y)

    def cells(dx: float, dy: float) -> NDArray[np.int64]:
        cx = np.floor((x + dx) / size) * size
        cy = np.floor((y + dy) / size) * size
        return np.column_stack([cx, cy]).astype(np.int64)

    shifted = [cells(dx, dy) for dx in (-0.01, 0.0, 0.01) for dy in (-0.01, 0.0, 0.01)]
    sure = np.all(np.stack([(s == shifted[4]).all(axis=1) for s in shifted]), axis=0)
    possible = {tuple(c) for s in shifted for c in s.tolist()}
    return {tuple(c) for c in shifted[4][sure].tolist()}, possible


def _run(args: list[str]) -> pd.DataFrame:
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.stderr
    return pd.read_csv(io.StringIO(res.stdout))


@pytest.mark.slow
def test_lincolnshire_lists_the_cells_with_events(lincs_db: Path, tmp_path: Path) -> None:
    listed = _run(["hotspots", "--db", str(lincs_db)])
    every = _run(["hotspots", "--db", str(lincs_db), "--all-cells"])
    lattice = set(zip(every["cell_x"], every["cell_y"], strict=True))
    sure, possible = _cells_with_events(sorted(LINCS.glob("*-street.csv.gz")), 250)
    cells = set(zip(listed["cell_x"], listed["cell_y"], strict=True))
    assert sure & lattice <= cells <= possible & lattice
    # Cells known only from points on an edge: 7 of 5,691 here.
    assert len(cells) - len(sure & lattice) <= 0.005 * len(cells)
    # --all-cells is the whole study area, one row per cell; Gi* the same in both listings.
    assert not every.duplicated(["cell_x", "cell_y"]).any()
    assert len(every) >= len(listed)
    both = listed.merge(every, on=["cell_x", "cell_y"], suffixes=("", "_all"))
    assert len(both) == len(listed)
    assert np.array_equal(both["gi_z"].to_numpy(), both["gi_z_all"].to_numpy())
    empty = every[(every["harm_events"] + every["activity_events"]) == 0]
    assert len(every) - len(empty) == len(listed)
    # The GeoJSON layer of the whole county stays small (issue 10: 34 MB before).
    out = tmp_path / "lincs.geojson"
    res = runner.invoke(
        app, ["hotspots", "--db", str(lincs_db), "--format", "geojson", "--out", str(out)]
    )
    assert res.exit_code == 0, res.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert len(doc["features"]) == len(listed)
    assert out.stat().st_size < 5_000_000


def test_an_area_with_empty_cells_lists_only_the_occupied_ones(
    city_db: Path, tmp_path: Path
) -> None:
    """The western half of the City at 100 m holds empty cells: listed only with --all-cells."""
    ring = [[531500, 180750], [532500, 180750], [532500, 181750], [531500, 181750]]
    area = tmp_path / "west.geojson"
    geometry = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    area.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {}, "geometry": geometry}],
            }
        ),
        encoding="utf-8",
    )
    base = ["--db", str(city_db), "--area", str(area), "--cell-size", "100"]
    listed = _run(["hotspots", *base])
    every = _run(["hotspots", *base, "--all-cells"])
    # Cells whose centres fall in the square (at most its 10 x 10 cells of 100 m).
    centres_x, centres_y = every["cell_x"] + 50, every["cell_y"] + 50
    assert centres_x.between(531500, 532500).all() and centres_y.between(180750, 181750).all()
    months = [f"2019-0{m}" for m in range(1, 7)]
    folder = DATA / "policeuk-city-of-london-2018-12_2021-11"
    files = [
        folder / sub / f"{m}-city-of-london-{sub}.csv"
        for m in months
        for sub in ("street", "stop-and-search")
    ]
    sure, possible = _cells_with_events(files, 100)
    lattice = set(zip(every["cell_x"], every["cell_y"], strict=True))
    occupied = set(zip(listed["cell_x"], listed["cell_y"], strict=True))
    assert sure & lattice <= occupied <= possible & lattice
    assert 0 < len(occupied) < len(lattice)
    emerging = _run(["emerging", *base])
    emerging_all = _run(["emerging", *base, "--all-cells"])
    assert set(zip(emerging["cell_x"], emerging["cell_y"], strict=True)) == occupied
    assert len(emerging_all) == len(every)
