"""``harmscope export events``: stdout like every command, each event's weight and grid cell.

Real data: six months of City of London street crime and stop-and-search (``city_db``).
Weights are read from the scheme TOML with ``tomllib``; cells are recomputed with pandas from
the warehouse's BNG coordinates (``floor(x / size) * size``).
"""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.export import EXPORT_EXTRA_COLUMNS
from harmscope.harm.schemes import available_schemes
from harmscope.warehouse.schema import EVENT_COLUMNS

runner = CliRunner()


def _weights(scheme: str) -> dict[str, tuple[float, str]]:
    doc = tomllib.loads(available_schemes()[scheme].read_text(encoding="utf-8"))
    return {w["event_type"]: (float(w["weight"]), w["kind"]) for w in doc["weight"]}


def _export(*args: str) -> pd.DataFrame:
    res = runner.invoke(app, ["export", "events", *args])
    assert res.exit_code == 0, res.stderr
    return pd.read_csv(io.StringIO(res.stdout), dtype={"crime_id": str, "cell_id": str})


def test_stdout_is_the_file_and_the_message_goes_to_stderr(city_db: Path, tmp_path: Path) -> None:
    args = ["--db", str(city_db), "--from", "2019-02", "--to", "2019-02"]
    to_stdout = runner.invoke(app, ["export", "events", *args])
    out = tmp_path / "e.csv"
    to_file = runner.invoke(app, ["export", "events", *args, "--out", str(out)])
    assert to_stdout.exit_code == to_file.exit_code == 0
    assert to_stdout.stdout == out.read_text(encoding="utf-8")
    assert to_file.stdout == ""
    with duckdb.connect(str(city_db), read_only=True) as con:
        (n,) = con.execute(
            "SELECT count(*) FROM events WHERE month = DATE '2019-02-01'"
        ).fetchone() or (0,)
    assert f"{n} events written to stdout" in to_stdout.stderr
    assert f"{n} events written to {out}" in to_file.stderr
    assert to_stdout.stdout.count("\n") == n + 1


@pytest.mark.parametrize(("scheme", "size"), [("cchi", 250), ("count", 100)])
def test_each_event_carries_its_weight_and_cell(city_db: Path, scheme: str, size: int) -> None:
    frame = _export("--db", str(city_db), "--scheme", scheme, "--cell-size", str(size))
    assert list(frame.columns) == [*(n for n, _, _ in EVENT_COLUMNS), *EXPORT_EXTRA_COLUMNS]
    assert frame["month"].str.fullmatch(r"\d{4}-\d{2}").all()
    weights = _weights(scheme)
    key = np.where(frame["source"] == "stop_search", "Stop and search", frame["event_type"])
    expected = pd.Series([weights.get(k, (np.nan, None))[0] for k in key])
    assert np.allclose(frame["weight"], expected, equal_nan=True)
    assert list(frame["kind"].fillna("")) == [weights.get(k, (0, ""))[1] for k in key]
    # Cells from the warehouse's own coordinates, recomputed here.
    with duckdb.connect(str(city_db), read_only=True) as con:
        xy = con.execute("SELECT x, y FROM events ORDER BY month, source, file_id, rowid").fetchdf()
    assert np.allclose(frame["x"], xy["x"].round(), equal_nan=True)  # to the metre
    located = xy["x"].notna().to_numpy()
    cx = (np.floor(xy["x"][located] / size) * size).astype(np.int64).to_numpy()
    cy = (np.floor(xy["y"][located] / size) * size).astype(np.int64).to_numpy()
    assert np.array_equal(frame["cell_x"][located].astype(np.int64), cx)
    assert np.array_equal(frame["cell_y"][located].astype(np.int64), cy)
    ids = [f"cell-{size}m-{x}-{y}" for x, y in zip(cx, cy, strict=True)]
    assert list(frame["cell_id"][located]) == ids
    assert frame.loc[~located, ["cell_x", "cell_y", "cell_id"]].isna().all().all()


def test_cell_ids_match_the_priorities_place_ids(city_db: Path) -> None:
    frame = _export("--db", str(city_db))
    res = runner.invoke(
        app, ["priorities", "--db", str(city_db), "--lens", "places", "--format", "csv"]
    )
    assert res.exit_code == 0, res.stderr
    ranked = pd.read_csv(io.StringIO(res.stdout))
    assert set(ranked["unit_id"]) <= set(frame["cell_id"].dropna())


def test_weights_sum_to_the_hotspot_harm(city_db: Path) -> None:
    frame = _export("--db", str(city_db))
    # Exported weights are the scheme's (all crime harm), so compare with that view.
    res = runner.invoke(app, ["hotspots", "--db", str(city_db), "--all-cells", "--harm", "all"])
    spots = pd.read_csv(io.StringIO(res.stdout))
    harm = frame[frame["kind"] == "harm"].groupby(["cell_x", "cell_y"])["weight"].sum()
    for row in spots.head(10).itertuples():
        assert harm[(row.cell_x, row.cell_y)] == pytest.approx(row.harm, abs=0.051)
