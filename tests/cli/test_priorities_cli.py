"""``harmscope priorities`` (DESIGN §5 contract) through CliRunner."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from harmscope.cli import app

runner = CliRunner()


@pytest.mark.parametrize("lens", ["places", "markets"])
def test_priorities_csv_and_json(city_db: Path, lens: str) -> None:
    result = runner.invoke(app, ["priorities", "--db", str(city_db), "--lens", lens])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert list(frame.columns[:4]) == ["rank", "unit_id", "score", "reasons"]
    assert frame["rank"].tolist() == list(range(1, len(frame) + 1))
    assert frame["score"].is_monotonic_decreasing and len(frame) > 0
    assert frame["reasons"].str.contains(r"^\w+/\w+/\w+: [\d,]+ days \(\d+%\)").all()
    if lens == "places":
        assert {"cell_x", "cell_y"} <= set(frame.columns)
    as_json = runner.invoke(
        app, ["priorities", "--db", str(city_db), "--lens", lens, "--format", "json", "--top", "2"]
    )
    rows = json.loads(as_json.stdout)
    assert [r["rank"] for r in rows] == list(range(1, min(2, len(frame)) + 1))
    assert [r["unit_id"] for r in rows] == frame["unit_id"].head(2).tolist()
    assert isinstance(rows[0]["reasons"], list) and rows[0]["reasons"]


def test_priorities_options(city_db: Path) -> None:
    big = runner.invoke(
        app,
        [
            "priorities",
            "--db",
            str(city_db),
            "--lens",
            "places",
            "--cell-size",
            "500",
            "--from",
            "2019-04",
            "--to",
            "2019-06",
            "--significance",
            "require",
            "--format",
            "json",
        ],
    )
    rows = json.loads(big.stdout)
    assert all(r["cell_x"] % 500 == 0 and r["p_fdr"] <= 0.05 for r in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lens", "people"], "lens 'people' is not available"),
        (["--lens", "behaviours"], "lens 'behaviours' is not available"),
        (["--lens", "weather"], "unknown lens 'weather'"),
        (["--lens", "places", "--to", "19-01"], "expected YYYY-MM"),
        (["--lens", "markets", "--significance", "weight"], "--lens places only"),
        (["--lens", "places", "--format", "xml"], "--format must be csv or json"),
    ],
)
def test_priorities_errors(city_db: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["priorities", "--db", str(city_db), *args])
    assert result.exit_code == 2 and message in result.stderr
