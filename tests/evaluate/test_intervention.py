"""Evaluating an intervention end to end on the City of London police.uk files: areas as
LSOAs, cells and polygons (WGS84 and BNG), counts recomputed with pandas and pyproj, the
estimators on known counts, and the report files."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose
from pyproj import Transformer
from shapely.geometry import box, mapping

from harmscope.errors import InputError
from harmscope.evaluate.areas import AreaSpec, parse_area
from harmscope.evaluate.intervention import (
    Intervention,
    Period,
    area_counts,
    evaluate_counts,
    evaluate_intervention,
    load_intervention,
)
from harmscope.harm import load_scheme
from harmscope.report.evaluation import write_report

SHARED = Path(
    os.environ.get("HARMSCOPE_SHARED_DATA")
    or Path(__file__).resolve().parents[3] / "shared" / "data"
)
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
TO_WGS = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
HARM_TYPES = {w.event_type for w in load_scheme("cchi").weights if w.kind == "harm"}

# A 600 m x 500 m box over the middle of the City (BNG metres).
BOX = box(532000, 181000, 532600, 181500)


def _months(p: str) -> list[str]:
    return Period.parse(p).months


def _expected(street: pd.DataFrame, inside: np.ndarray, months: list[str]) -> pd.Series:
    sel = street[inside & street["Month"].isin(months)]
    return sel.groupby("Crime type").size()


def _bng(street: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    lon = street["Longitude"].to_numpy(dtype=float)
    lat = street["Latitude"].to_numpy(dtype=float)
    x, y = TO_BNG.transform(lon, lat)
    return np.asarray(x), np.asarray(y)


def test_period_parsing() -> None:
    p = Period.parse("2019-11:2020-02")
    assert p.months == ["2019-11", "2019-12", "2020-01", "2020-02"] and p.n_months == 4
    assert Period.parse("2020-04").months == ["2020-04"]
    with pytest.raises(ValueError, match="ends before it starts"):
        Period.parse("2020-05:2020-01")
    with pytest.raises(ValueError, match="YYYY-MM"):
        Period.parse("2020/05")


def test_area_text_forms(tmp_path: Path) -> None:
    a = parse_area("lsoa:E01000001,E01000002")
    assert a.kind == "lsoas" and a.lsoas == ("E01000001", "E01000002")
    assert parse_area("E01000001").lsoas == ("E01000001",)
    c = parse_area("cells:532000_181000,532250_181000@250")
    assert c.kind == "cells" and c.cells == ((532000.0, 181000.0), (532250.0, 181000.0))
    assert parse_area("ring:400").ring_m == 400
    assert parse_area("all").kind == "all"
    listing = tmp_path / "lsoas.txt"
    listing.write_text("# target\nE01000001\nE01000005, E01032739\n")
    assert parse_area(str(listing)).lsoas == ("E01000001", "E01000005", "E01032739")
    with pytest.raises(ValueError, match="not aligned"):
        parse_area("cells:532010_181000")
    with pytest.raises(ValueError, match="not an LSOA code"):
        parse_area("lsoa:E0100001X")
    with pytest.raises(InputError, match="no such file"):
        parse_area(str(tmp_path / "missing.geojson"))
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(InputError) as err:
        parse_area(str(bad))
    assert err.value.line == 1


def test_lsoa_counts_match_the_files(city_db: Path, city_street: pd.DataFrame) -> None:
    lsoas = ["E01032739", "E01000005"]
    iv = Intervention(
        "t",
        AreaSpec.from_lsoas(lsoas),
        Period.parse("2019-01:2019-06"),
        Period.parse("2019-07:2019-09"),
        buffer=AreaSpec.from_lsoas(["E01000001"]),
        control=AreaSpec.everything(),
    )
    counts = area_counts(iv, db=city_db)
    months = iv.series_months
    got = counts[(counts["role"] == "target") & (counts["event_type"] != "Stop and search")]
    got = got.groupby("event_type")["count"].sum()
    want = _expected(city_street, city_street["LSOA code"].isin(lsoas).to_numpy(), months)
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False)
    # 'all' as control means everything not in the target or buffer, including no-LSOA rows.
    rest = ~city_street["LSOA code"].isin([*lsoas, "E01000001"]).to_numpy()
    got_c = counts[(counts["role"] == "control") & (counts["event_type"] != "Stop and search")]
    assert got_c["count"].sum() == _expected(city_street, rest, months).sum()
    assert set(counts["kind"]) == {"harm", "activity"}


def test_polygons_in_wgs84_and_bng_give_the_pyproj_counts(
    city_db: Path, city_street: pd.DataFrame, tmp_path: Path
) -> None:
    wgs = shapely.transform(BOX, TO_WGS.transform, interleaved=False)
    (tmp_path / "wgs.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {}, "geometry": mapping(wgs)}],
            }
        )
    )
    (tmp_path / "bng.geojson").write_text(
        json.dumps(
            {
                "type": "Feature",
                "properties": {},
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
                "geometry": mapping(BOX),
            }
        )
    )
    pre, post = Period.parse("2019-01:2019-12"), Period.parse("2020-01:2020-03")
    x, y = _bng(city_street)
    inside = np.isfinite(x) & shapely.contains_xy(BOX, np.nan_to_num(x), np.nan_to_num(y))
    want = _expected(city_street, inside, pre.months + post.months)
    assert want.sum() > 1000
    for name in ("wgs.geojson", "bng.geojson"):
        spec = parse_area(str(tmp_path / name))
        assert spec.kind == "polygons"
        assert_allclose(spec.polygon().area, BOX.area, rtol=1e-3)
        counts = area_counts(Intervention("p", spec, pre, post), db=city_db)
        got = counts[counts["event_type"] != "Stop and search"].groupby("event_type")["count"]
        pd.testing.assert_series_equal(got.sum().sort_index(), want.sort_index(), check_names=False)


def test_cells_and_rings(city_db: Path, city_street: pd.DataFrame) -> None:
    cells = [(532250.0, 181250.0), (532000.0, 181250.0)]
    pre, post = Period.parse("2019-04:2019-09"), Period.parse("2019-10:2019-12")
    iv = Intervention(
        "c",
        AreaSpec.from_cells(cells),
        pre,
        post,
        buffer=AreaSpec.ring(250),
        control=AreaSpec.everything(),
    )
    assert iv.buffer is not None and iv.buffer.kind == "polygons"
    counts = area_counts(iv, db=city_db)
    x, y = _bng(city_street)
    cx, cy = np.floor(x / 250) * 250, np.floor(y / 250) * 250
    in_target = np.zeros(len(x), dtype=bool)
    for a, b in cells:
        in_target |= (cx == a) & (cy == b)
    ring = (
        box(532000, 181250, 532500, 181500)
        .buffer(250)
        .difference(box(532000, 181250, 532500, 181500))
    )
    in_ring = np.isfinite(x) & shapely.contains_xy(ring, np.nan_to_num(x), np.nan_to_num(y))
    months = iv.series_months
    for role, mask in (("target", in_target), ("buffer", in_ring & ~in_target)):
        got = counts[(counts["role"] == role) & (counts["event_type"] != "Stop and search")]
        assert got["count"].sum() == _expected(city_street, mask, months).sum(), role


def _synthetic(t: tuple[int, int], d: tuple[int, int], c: tuple[int, int]) -> pd.DataFrame:
    rows = []
    for role, (pre, post) in (("target", t), ("buffer", d), ("control", c)):
        for month, n in (("2020-01", pre), ("2020-02", post)):
            rows.append(("Robbery", 365.0, role, month, n // 2))
            rows.append(("Shoplifting", 1.0, role, month, n - n // 2))
    return pd.DataFrame(
        [
            {"role": r, "month": m, "event_type": e, "kind": "harm", "weight": w, "count": k}
            for e, w, r, m, k in rows
        ]
    )


def test_estimators_on_known_counts() -> None:
    iv = Intervention(
        "k",
        AreaSpec.from_lsoas(["E01000001"]),
        Period.parse("2020-01"),
        Period.parse("2020-02"),
        buffer=AreaSpec.from_lsoas(["E01000002"]),
        control=AreaSpec.from_lsoas(["E01000003"]),
    )
    counts = _synthetic(t=(200, 120), d=(300, 330), c=(1000, 900))
    ev = evaluate_counts(counts, iv)
    assert ev.wdd is not None and ev.wdq is not None
    # Control rescaled to each area's pre level: WDD = T1 - T0*C1/C0 + D1 - D0*C1/C0.
    ratio = 900 / 1000
    assert_allclose(ev.wdd.local_estimate, 120 - 200 * ratio)
    assert_allclose(ev.wdd.displacement_estimate, 330 - 300 * ratio)
    # ... which is minus the WDQ's total net effect (Bowers & Johnson 2003).
    assert_allclose(ev.wdd.estimate, -ev.wdq.total_net_effect)
    assert_allclose(ev.area_weights, (1000 / 200, 1, 1000 / 300, 1))
    # Poisson variance of the scaled WDD: target and buffer counts, control / weight^2.
    var = 120 + 200 + 330 + 300 + (900 + 1000) * ((200 / 1000) ** 2 + (300 / 1000) ** 2)
    assert_allclose(ev.wdd.se, math.sqrt(var))
    # The 2 x 2 panel DiD: IRR = (T1/T0)/(C1/C0) with the Poisson (model) variance.
    assert ev.did is not None
    assert_allclose(ev.did.irr, (120 / 200) / (900 / 1000))
    assert_allclose(ev.did.se, math.sqrt(1 / 120 + 1 / 200 + 1 / 900 + 1 / 1000))
    assert ev.did.cov_type == "model"
    assert ev.its is None and any("14 months" in n for n in ev.notes)
    assert "fell" in ev.verdict and "Displacement to the buffer was detected" in ev.verdict

    raw = Intervention(
        "k",
        iv.target,
        iv.pre,
        iv.post,
        buffer=iv.buffer,
        control=iv.control,
        control_scaling="none",
    )
    plain = evaluate_counts(counts, raw)
    assert plain.wdd is not None
    assert_allclose(plain.wdd.estimate, (120 - 200) - (900 - 1000) + (330 - 300) - (900 - 1000))


def test_spec_files_round_trip(tmp_path: Path) -> None:
    toml = tmp_path / "op.toml"
    toml.write_text(
        'name = "Operation Example"\nscheme = "count"\npre = "2019-01:2019-06"\n'
        'post = "2019-07:2019-09"\noperation_id = "OP7"\ncontrol = "all"\n'
        '[target]\nlsoas = ["E01032739"]\n[buffer]\nlsoas = ["E01032740"]\n'
    )
    iv = load_intervention(toml)
    assert iv.name == "Operation Example" and iv.scheme == "count" and iv.operation_id == "OP7"
    assert iv.target.lsoas == ("E01032739",) and iv.control is not None
    js = tmp_path / "op.json"
    js.write_text(json.dumps(iv.to_dict()))
    assert load_intervention(js) == iv
    toml.write_text(
        'name = "x"\npre = "2019-01:2019-06"\npost = "2019-07"\ntarget = "all"\ncolour = "red"\n'
    )
    with pytest.raises(InputError, match="unknown key 'colour'"):
        load_intervention(toml)
    toml.write_text('pre = "2019-01:2019-06"\npost = "2019-03:2019-09"\ntarget = "all"\n')
    with pytest.raises(InputError, match="must start after the pre period"):
        load_intervention(toml)


def test_lockdown_report_end_to_end(city_db: Path, tmp_path: Path) -> None:
    iv = Intervention(
        "City of London 2020 lockdown",
        AreaSpec.everything(),
        Period.parse("2018-12:2020-03"),
        Period.parse("2020-04:2020-06"),
    )
    ev = evaluate_intervention(iv, db=city_db)
    assert ev.its is not None and ev.its_harm is not None and ev.wdd is None
    assert ev.its.n_pre == 16 and ev.its.observed == ev.total("target", "post")
    assert ev.its.ratio_ci_high < 1.0  # the fall is far outside the prediction interval
    files = write_report(ev, tmp_path / "report")
    html = files["html"].read_text(encoding="utf-8")
    first = ev.verdict.split(". ")[0]
    assert first.split(":")[0] in html
    # Offline: no scripts, style sheets, images or fonts fetched from anywhere.
    assert "<script" not in html and "<link" not in html
    assert re.search(r"(src|href)=[\"']?(https?:)?//", html) is None
    assert "@import" not in html
    assert set(re.findall(r"url\((.)", html)) <= {"#"}  # only in-document SVG clip paths
    assert html.count("<svg") == 4
    # It publishes counts as recorded, so it states the small-numbers rule for publishing.
    soup = " ".join(html.split())
    assert 'id="small-counts"' in soup and "before publishing any table" in soup
    pdf = files["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    payload = json.loads(files["json"].read_text())
    assert payload["verdict"] == ev.verdict
    assert payload["estimates"]["its"]["observed"] == ev.its.observed


def test_ring_around_an_lsoa_target(
    city_db: Path, city_street: pd.DataFrame, tmp_path: Path
) -> None:
    """A ring buffer around an LSOA target uses the LSOA's boundary from the warehouse."""
    import gzip
    import shutil

    from harmscope.sources.areas import BOUNDARIES, load_areas_geojson
    from harmscope.warehouse import connect

    target = "E01032739"
    with gzip.open(SHARED / BOUNDARIES, "rt", encoding="utf-8") as fh:
        doc = json.load(fh)
    feature = next(f for f in doc["features"] if f["properties"]["LSOA11CD"] == target)
    shape_file = tmp_path / "target.geojson"
    shape_file.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    db = tmp_path / "copy.duckdb"
    shutil.copy(city_db, db)
    iv = Intervention(
        "ring",
        AreaSpec.from_lsoas([target]),
        Period.parse("2019-04:2019-09"),
        Period.parse("2019-10:2019-12"),
        buffer=AreaSpec.ring(300),
        control=AreaSpec.everything(),
    )
    with pytest.raises(Exception, match="load-areas"):
        area_counts(iv, db=db)  # no boundaries in the warehouse yet
    con = connect(db)
    assert load_areas_geojson(con, shape_file) == 1
    con.close()
    counts = area_counts(iv, db=db)
    # Independently: the LSOA polygon projected with pyproj, a 300 m ring, pandas counts.
    rings = [np.asarray(r, dtype=float) for r in feature["geometry"]["coordinates"]]
    outer_x, outer_y = TO_BNG.transform(rings[0][:, 0], rings[0][:, 1])
    poly = shapely.Polygon(np.column_stack([outer_x, outer_y]))
    ring = poly.buffer(300).difference(poly)
    x, y = _bng(city_street)
    in_target = (city_street["LSOA code"] == target).to_numpy()
    in_ring = np.isfinite(x) & shapely.contains_xy(ring, np.nan_to_num(x), np.nan_to_num(y))
    months = iv.series_months
    got = counts[(counts["role"] == "buffer") & (counts["event_type"] != "Stop and search")]
    assert got["count"].sum() == _expected(city_street, in_ring & ~in_target, months).sum() > 0
