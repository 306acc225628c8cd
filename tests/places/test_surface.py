"""The kernel-density harm surface (``harmscope surface``) on real City of London records.

Expected figures are recomputed independently: each event's weight from the ``cchi`` TOML
(``tomllib``), the points with plain SQL from the warehouse, and the Gaussian mass in a cell
by brute force over every point with ``scipy.stats.norm`` (no truncation, no sparse matrix).
The GeoTIFF is read back with rasterio: the pixel holding a cell's centre holds its value.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import duckdb
import geopandas as gpd
import numpy as np
import pytest
import rasterio
from scipy.stats import norm
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.harm.schemes import available_schemes
from harmscope.places.hotspots import hotspots
from harmscope.places.surface import SURFACE_COLUMNS, harm_surface

runner = CliRunner()


def _harm_points(db: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Located harm events' x, y and cchi weight, with SQL and the scheme's TOML."""
    doc = tomllib.loads(available_schemes()["cchi"].read_text(encoding="utf-8"))
    harm = {w["event_type"]: float(w["weight"]) for w in doc["weight"] if w["kind"] == "harm"}
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT x, y, event_type FROM events WHERE source = 'street' "
            "AND x IS NOT NULL AND y IS NOT NULL"
        ).fetchall()
    kept = [(x, y, harm[t]) for x, y, t in rows if t in harm]
    x, y, w = (np.array(v, dtype=np.float64) for v in zip(*kept, strict=True))
    return x, y, w


@pytest.fixture(scope="module")
def surface(city_db: Path) -> object:
    return harm_surface(city_db, bandwidth=200, harm="all")


def test_surface_cells_are_the_study_area(city_db: Path, surface: object) -> None:
    frame = surface  # type: ignore[assignment]
    assert tuple(frame.columns) == SURFACE_COLUMNS
    spots = hotspots(city_db, harm="all")  # the same study area, every cell
    assert set(zip(frame["cell_x"], frame["cell_y"], strict=True)) == set(
        zip(spots["cell_x"], spots["cell_y"], strict=True)
    )
    merged = frame.merge(spots, on=["cell_x", "cell_y"], suffixes=("", "_hot"))
    assert np.allclose(merged["harm"], merged["harm_hot"])  # what fell in each cell
    assert (merged["harm_events"] == merged["harm_events_hot"]).all()
    assert frame.attrs["unit"] == "days of imprisonment" and frame.attrs["bandwidth"] == 200


def test_kde_value_equals_a_brute_force_gaussian(city_db: Path, surface: object) -> None:
    frame = surface  # type: ignore[assignment]
    x, y, w = _harm_points(city_db)
    inside = np.zeros(x.size, dtype=bool)
    cells = set(zip(frame["cell_x"], frame["cell_y"], strict=True))
    for i, (px, py) in enumerate(zip(x, y, strict=True)):
        inside[i] = (int(np.floor(px / 250) * 250), int(np.floor(py / 250) * 250)) in cells
    h = 200.0
    for row in frame.head(3).itertuples():  # the three highest cells
        cx, cy = float(row.cell_x), float(row.cell_y)
        mass = (norm.cdf((cx + 250 - x) / h) - norm.cdf((cx - x) / h)) * (
            norm.cdf((cy + 250 - y) / h) - norm.cdf((cy - y) / h)
        )
        assert row.kde_harm == pytest.approx(float(np.sum(w[inside] * mass[inside])), rel=1e-4)
    # Harm is conserved up to what spills past the study area's edge.
    assert frame["kde_harm"].sum() <= w[inside].sum() + 1e-6
    assert frame["kde_harm"].sum() > 0.5 * w[inside].sum()


def test_geotiff_pixel_at_a_cell_centre_holds_its_value(city_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "kde.tif"
    args = ["surface", "--db", str(city_db), "--bandwidth", "200", "--format", "tif"]
    res = runner.invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    frame = harm_surface(city_db, bandwidth=200)  # the CLI default: drug-attributed
    with rasterio.open(out) as tif:
        assert tif.crs.to_epsg() == 27700 and tif.count == 1
        assert tif.res == (250.0, 250.0)
        assert (tif.bounds.left, tif.bounds.top) == (
            frame["cell_x"].min(),
            frame["cell_y"].max() + 250,
        )
        centres = list(zip(frame["cell_x"] + 125.0, frame["cell_y"] + 125.0, strict=True))
        values = np.array([v[0] for v in tif.sample(centres)])
        band = tif.read(1)
        holes = np.isnan(band).sum()
    assert np.allclose(values, frame["kde_harm"], rtol=0, atol=1e-9)
    assert holes == band.size - len(frame)  # pixels off the study area are nodata


def test_geopackage_cells(city_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "kde.gpkg"
    res = runner.invoke(
        app, ["surface", "--db", str(city_db), "--cell-size", "100", "--out", str(out)]
    )
    assert res.exit_code == 0, res.stderr
    layer = gpd.read_file(out)
    frame = harm_surface(city_db, cell_size=100)
    assert layer.crs.to_epsg() == 27700 and len(layer) == len(frame)
    assert list(layer.columns) == [*SURFACE_COLUMNS, "harm_unit", "geometry"]
    assert np.array_equal(layer.geometry.bounds["minx"], layer["cell_x"])
    assert np.array_equal(layer.geometry.bounds["maxy"], layer["cell_y"] + 100)
    assert np.allclose(layer["kde_harm"], frame["kde_harm"])
    assert f"{len(frame):,} cells of 100 m, bandwidth 100 m" in res.stderr


def test_surface_refuses_bad_options(city_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.tif"
    bad = runner.invoke(
        app, ["surface", "--db", str(city_db), "--format", "png", "--out", str(out)]
    )
    assert bad.exit_code == 2 and "--format must be gpkg or tif" in bad.stderr
    empty = runner.invoke(
        app, ["surface", "--db", str(city_db), "--from", "2030-01", "--out", str(out)]
    )
    assert empty.exit_code == 2 and "no data for 2030-01" in empty.stderr
    assert not out.exists()


def test_drug_view_weighs_each_event_by_its_drug_share(city_db: Path, surface: object) -> None:
    """The default surface holds drug-attributed harm: each event's weight times the sum of
    its type's central fractions, read here straight from the attribution TOML."""
    import harmscope.harm

    att = tomllib.loads(
        (Path(harmscope.harm.__file__).parent / "data" / "attribution.toml").read_text()
    )
    share = {t: sum(f["central"] for f in s.values()) for t, s in att["fractions"].items()}
    doc = tomllib.loads(available_schemes()["cchi"].read_text(encoding="utf-8"))
    harm = {w["event_type"]: float(w["weight"]) for w in doc["weight"] if w["kind"] == "harm"}
    with duckdb.connect(str(city_db), read_only=True) as con:
        rows = con.execute(
            "SELECT x, y, event_type FROM events WHERE source = 'street' "
            "AND x IS NOT NULL AND y IS NOT NULL"
        ).fetchall()
    expected: dict[tuple[int, int], float] = {}
    for x, y, t in rows:
        if t in harm:
            key = (int(np.floor(x / 250) * 250), int(np.floor(y / 250) * 250))
            expected[key] = expected.get(key, 0.0) + harm[t] * share[t]
    drug = harm_surface(city_db, bandwidth=200)
    assert drug.attrs["harm_view"] == "drug"
    got = {
        (int(a), int(b)): float(h)
        for a, b, h in zip(drug["cell_x"], drug["cell_y"], drug["harm"], strict=True)
    }
    for key, value in got.items():
        assert value == pytest.approx(expected.get(key, 0.0), rel=1e-9, abs=1e-9)
    everything = surface  # type: ignore[assignment]
    assert 0 < drug["kde_harm"].sum() < everything["kde_harm"].sum()  # type: ignore[index]
