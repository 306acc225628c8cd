"""Ingest on the real police.uk files in ../shared/data: counts, folding, idempotence.

Every expected figure is recomputed here from the raw files with the csv module or pandas,
independently of the DuckDB code under test.
"""

from __future__ import annotations

import csv
import gzip
import os
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.warehouse.ingest import ingest_paths

SHARED = Path(
    os.environ.get("HARMSCOPE_SHARED_DATA")
    or Path(__file__).resolve().parents[3] / "shared" / "data"
)
CITY = SHARED / "policeuk-city-of-london-2018-12_2021-11"
LINCS = SHARED / "policeuk-lincolnshire-2017-02_2020-01"
NATIONAL = SHARED / "policeuk-39-forces-2018-10_2019-02_geoinfo" / "street"


def _read(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _count(db: Path, sql: str, params: list[object] | None = None) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute(sql, params or []).fetchone()[0])  # type: ignore[index]


def _expected_street(files: list[Path]) -> tuple[Counter[str], int]:
    """Rows per crime type after folding duplicate (Crime ID, month), and the fold count."""
    rows = [r for f in files for r in _read(f)]
    groups: Counter[tuple[str, str]] = Counter(
        (r["Crime ID"], r["Month"]) for r in rows if r["Crime ID"]
    )
    folded = sum(n - 1 for n in groups.values())
    kept: Counter[str] = Counter(r["Crime type"] for r in rows if not r["Crime ID"])
    seen: set[tuple[str, str]] = set()
    for r in rows:
        key = (r["Crime ID"], r["Month"])
        if r["Crime ID"] and key not in seen:
            seen.add(key)
            kept[r["Crime type"]] += 1
    return kept, folded


@pytest.fixture(scope="module")
def city_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("city") / "w.duckdb"
    ingest_paths([CITY], db=db)
    return db


def test_city_of_london_counts_per_type_and_fold(city_db: Path) -> None:
    files = sorted((CITY / "street").glob("*.csv"))
    assert len(files) == 36
    expected, folded = _expected_street(files)
    assert folded == 273  # 266 repeated (Crime ID, month) pairs, 7 of them three times
    with duckdb.connect(str(city_db), read_only=True) as con:
        got = dict(
            con.execute(
                "SELECT event_type, count(*) FROM events WHERE source = 'street' GROUP BY 1"
            ).fetchall()
        )
        assert got == dict(expected)
        assert sum(got.values()) == 22480 - 273
        assert con.execute("SELECT sum(rows_folded) FROM ingest_files").fetchone()[0] == 273
        assert con.execute("SELECT sum(rows_read) FROM ingest_files").fetchone()[0] == 22480 + 8057
        # Folding keeps a located row whenever the pair had one.
        rows = [r for f in files for r in _read(f)]
        located = {(r["Crime ID"], r["Month"]) for r in rows if r["Crime ID"] and r["Longitude"]}
        unlocated_kept = con.execute(
            "SELECT crime_id, strftime(month, '%Y-%m') FROM events "
            "WHERE source = 'street' AND crime_id IS NOT NULL AND x IS NULL"
        ).fetchall()
        assert not (set(unlocated_kept) & located)


def test_city_of_london_stop_and_search(city_db: Path) -> None:
    rows = [r for f in sorted((CITY / "stop-and-search").glob("*.csv")) for r in _read(f)]
    assert len(rows) == 8057
    drugs = sum(r["Object of search"] == "Controlled drugs" for r in rows)
    linked = sum(
        r["Object of search"] == "Controlled drugs"
        and r["Outcome linked to object of search"] == "True"
        for r in rows
    )
    with duckdb.connect(str(city_db), read_only=True) as con:
        n, d, f, forces = con.execute(
            "SELECT count(*), count(*) FILTER (object_of_search = 'Controlled drugs'), "
            "count(*) FILTER (object_of_search = 'Controlled drugs' AND outcome_linked), "
            "list(DISTINCT force) FROM events WHERE source = 'stop_search'"
        ).fetchone()  # type: ignore[misc]
        assert (n, d, f) == (8057, drugs, linked)
        assert d == 4606
        assert forces == ["city-of-london"]
        # Month comes from the search date (UTC).
        months = Counter(r["Date"][:7] for r in rows)
        got = dict(
            con.execute(
                "SELECT strftime(month, '%Y-%m'), count(*) FROM events "
                "WHERE source = 'stop_search' GROUP BY 1"
            ).fetchall()
        )
        assert got == dict(months)


def test_projection_matches_pyproj(city_db: Path) -> None:
    with duckdb.connect(str(city_db), read_only=True) as con:
        df = con.execute(
            "SELECT longitude, latitude, x, y FROM events WHERE x IS NOT NULL USING SAMPLE 2000"
        ).df()
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(
        df["longitude"].to_numpy(), df["latitude"].to_numpy()
    )
    np.testing.assert_allclose(df["x"], x, atol=0.01)
    np.testing.assert_allclose(df["y"], y, atol=0.01)


def test_reingest_adds_nothing(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    files = sorted((CITY / "street").glob("2019-0[1-3]-*.csv"))
    first = ingest_paths(files, db=db)
    before = _count(db, "SELECT count(*) FROM events")
    again = ingest_paths(files, db=db)
    assert again.files_skipped == 3 and again.rows_loaded == 0 and again.batch_id is None
    assert _count(db, "SELECT count(*) FROM events") == before == first.rows_loaded
    # The same content gzipped has other bytes: it is loaded, and supersedes, adding nothing.
    gz = tmp_path / "gz"
    gz.mkdir()
    for f in files:
        with open(f, "rb") as src, gzip.open(gz / (f.name + ".gz"), "wb") as dst:
            shutil.copyfileobj(src, dst)
    third = ingest_paths([gz], db=db)
    assert third.rows_superseded == before
    assert _count(db, "SELECT count(*) FROM events") == before


def test_lincolnshire_outcomes_link_to_crimes(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    street = sorted((LINCS / "street").glob("2018-0[1-6]-*.csv.gz"))
    outcomes = sorted((LINCS / "outcomes").glob("2018-0[1-6]-*.csv.gz"))
    report = ingest_paths(street + outcomes, db=db)
    out_rows = [r for f in outcomes for r in _read(f)]
    assert _count(db, "SELECT count(*) FROM events WHERE source = 'outcome'") == len(out_rows)
    by_type = Counter(r["Outcome type"] for r in out_rows)
    with duckdb.connect(str(db), read_only=True) as con:
        got = dict(
            con.execute(
                "SELECT event_type, count(*) FROM events WHERE source = 'outcome' GROUP BY 1"
            ).fetchall()
        )
        assert got == dict(by_type)
        # An outcome's month is the month it was recorded: it can follow its crime's month.
        lag = con.execute(
            """SELECT count(*) FILTER (o.month > s.month), count(*)
               FROM events o JOIN events s ON o.crime_id = s.crime_id
               WHERE o.source = 'outcome' AND s.source = 'street'"""
        ).fetchone()
    street_ids = {r["Crime ID"] for f in street for r in _read(f) if r["Crime ID"]}
    linked = sum(r["Crime ID"] in street_ids for r in out_rows)
    assert lag[1] == linked  # type: ignore[index]
    assert 0 < lag[0] < lag[1]  # type: ignore[index]
    assert report.rows_quarantined == 0


def test_national_extract_btp_and_northern_ireland(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    files = [
        NATIONAL / f"2018-10-{f}-street.csv.gz" for f in ("btp", "northern-ireland", "lincolnshire")
    ]
    ingest_paths(files, db=db)
    raw = {f.name.split("-street")[0][8:]: _read(f) for f in files}
    with duckdb.connect(str(db), read_only=True) as con:
        per_force = dict(con.execute("SELECT force, count(*) FROM events GROUP BY 1").fetchall())
        btp_ids = con.execute(
            "SELECT count(crime_id) FROM events WHERE force = 'British Transport Police'"
        ).fetchone()[0]  # type: ignore[index]
        ni = con.execute(
            "SELECT count(lsoa_code), count(*) - count(x) FROM events "
            "WHERE force = 'Police Service of Northern Ireland'"
        ).fetchone()
    assert per_force["British Transport Police"] == len(raw["btp"])  # no Crime ID: nothing folded
    assert btp_ids == 0
    assert per_force["Police Service of Northern Ireland"] == len(raw["northern-ireland"])
    assert ni[0] == 0  # type: ignore[index]
    assert ni[1] == sum(not r["Longitude"] for r in raw["northern-ireland"])  # type: ignore[index]
    lincs, _ = _expected_street([files[2]])
    assert per_force["Lincolnshire Police"] == sum(lincs.values())


def test_overlapping_downloads_latest_wins(tmp_path: Path) -> None:
    """Lincolnshire 2018-10 is in two downloads; outcomes were revised between them."""
    db = tmp_path / "w.duckdb"
    older = LINCS / "street" / "2018-10-lincolnshire-street.csv.gz"
    newer = NATIONAL / "2018-10-lincolnshire-street.csv.gz"
    ingest_paths([older], db=db)
    n1 = _count(db, "SELECT count(*) FROM events")
    second = ingest_paths([newer], db=db)
    assert second.rows_superseded == n1
    assert _count(db, "SELECT count(*) FROM events") == second.rows_loaded
    expected = Counter(r["Last outcome category"] for r in _read(newer) if r["Crime ID"])
    with duckdb.connect(str(db), read_only=True) as con:
        got = dict(
            con.execute(
                "SELECT coalesce(outcome, ''), count(*) FROM events "
                "WHERE crime_id IS NOT NULL GROUP BY 1"
            ).fetchall()
        )
    folded = _expected_street([newer])[1]
    assert sum(got.values()) == sum(expected.values()) - folded
    # Both files in one batch: the one listed last wins, the other is reported superseded.
    db2 = tmp_path / "w2.duckdb"
    both = ingest_paths([older, newer], db=db2)
    assert _count(db2, "SELECT count(*) FROM events") == second.rows_loaded
    assert both.rows_superseded == n1 + _expected_street([older])[1]


def test_zip_archive_as_published(tmp_path: Path) -> None:
    """The data.police.uk zip layout: YYYY-MM/YYYY-MM-<force>-<family>.csv."""
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for month in ("2020-01", "2020-02"):
            for fam, folder in (("street", "street"), ("stop-and-search", "stop-and-search")):
                src = CITY / folder / f"{month}-city-of-london-{fam}.csv"
                zf.write(src, f"{month}/{src.name}")
    db = tmp_path / "w.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(archive), "--db", str(db)])
    assert result.exit_code == 0, result.output
    direct = tmp_path / "d.duckdb"
    ingest_paths(
        [
            CITY / d / f"{m}-city-of-london-{f}.csv"
            for m in ("2020-01", "2020-02")
            for d, f in (("street", "street"), ("stop-and-search", "stop-and-search"))
        ],
        db=direct,
    )
    q = "SELECT source, event_type, count(*), round(sum(x), 3) FROM events GROUP BY ALL ORDER BY ALL"
    with (
        duckdb.connect(str(db), read_only=True) as a,
        duckdb.connect(str(direct), read_only=True) as b,
    ):
        assert a.execute(q).fetchall() == b.execute(q).fetchall()
        members = a.execute("SELECT member FROM ingest_files ORDER BY member").fetchall()
    assert [m[0] for m in members] == sorted(
        f"{m}/{m}-city-of-london-{f}.csv"
        for m in ("2020-01", "2020-02")
        for f in ("street", "stop-and-search")
    )


def test_harm_total_recomputed_independently(city_db: Path) -> None:
    """The matrix total equals CCHI days x folded counts, computed here with pandas."""
    from harmscope.harm import harm_matrix, load_scheme
    from harmscope.warehouse import ibis_connect

    scheme = load_scheme("cchi")
    weights = {w.event_type: (w.weight, w.kind) for w in scheme.weights}
    files = sorted((CITY / "street").glob("*.csv"))
    counts, _ = _expected_street(files)
    harm = sum(n * weights[t][0] for t, n in counts.items() if weights[t][1] == "harm")
    # Police activity is counted, one per event (issue 8 item 8): offences plus searches.
    activity = sum(n for t, n in counts.items() if weights[t][1] == "activity") + 8057
    m = harm_matrix(ibis_connect(city_db).table("events"), scheme="cchi", harm="all")
    assert m.total == pytest.approx(harm, rel=1e-12)
    assert m.activity == pytest.approx(activity, rel=1e-12)
    assert sum(c["value"] for c in m.cells) == pytest.approx(m.total, rel=1e-12)


def test_line_endings_crlf_and_lf(tmp_path: Path) -> None:
    """Lincolnshire files are CRLF, the national extract LF; both load the same rows."""
    crlf = LINCS / "street" / "2019-01-lincolnshire-street.csv.gz"
    lf = NATIONAL / "2019-01-lincolnshire-street.csv.gz"
    with gzip.open(crlf) as a, gzip.open(lf) as b:
        assert a.readline().endswith(b"\r\n")
        assert not b.readline().endswith(b"\r\n")
    for f in (crlf, lf):
        db = tmp_path / f"{f.parent.name}.duckdb"
        rep = ingest_paths([f], db=db)
        assert rep.rows_read == len(_read(f))
        frame = pd.DataFrame(_read(f))
        with duckdb.connect(str(db), read_only=True) as con:
            assert con.execute("SELECT count(DISTINCT lsoa_code) FROM events").fetchone()[0] == (
                frame.loc[frame["LSOA code"] != "", "LSOA code"].nunique()
            )
