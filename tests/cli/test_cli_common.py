"""Shared CLI output helpers: strict JSON and safe error messages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from rich.console import Console

from harmscope.cli._common import emit_json, fail, records


def test_json_is_strict_with_nan_inf_and_numpy(tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    emit_json(
        {
            "a": float("nan"),
            "b": [1.0, float("inf")],
            "c": np.float64("nan"),
            "d": (np.int64(3),),
            "e": {"f": -float("inf")},
        },
        out,
    )
    assert json.loads(out.read_text()) == {
        "a": None,
        "b": [1.0, None],
        "c": None,
        "d": [3],
        "e": {"f": None},
    }


def test_records_months_and_missing_values() -> None:
    frame = pd.DataFrame(
        {
            "month": pd.to_datetime(["2020-01-01", "2020-02-15"]),
            "v": [1.5, np.nan],
            "n": np.array([1, 2], dtype=np.int64),
        }
    )
    assert records(frame) == [
        {"month": "2020-01", "v": 1.5, "n": 1},
        {"month": "2020-02-15T00:00:00", "v": None, "n": 2},
    ]


def test_fail_prints_user_text_verbatim() -> None:
    console = Console(record=True, width=200)
    with pytest.raises(typer.Exit) as info:
        fail(console, ValueError("bad value '[/]' and [bold]x[/bold]"))
    assert info.value.exit_code == 2
    assert "bad value '[/]' and [bold]x[/bold]" in console.export_text()


def test_version_prints_the_package_version() -> None:
    from typer.testing import CliRunner

    from harmscope import __version__
    from harmscope.cli import app

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"harmscope {__version__}"
