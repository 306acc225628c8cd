"""``harmscope simulate`` writes a labelled synthetic city and fails cleanly on bad input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from harmscope.cli import app


def test_simulate_command_writes_files(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    res = CliRunner().invoke(app, ["simulate", "--seed", "4", "--months", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "SYNTHETIC" in res.output
    man = json.loads((out / "manifest.json").read_text())
    assert man == {**man, "synthetic": True, "seed": 4, "months": 3, "size": "small"}
    assert (out / "2021-03" / "2021-03-harmshire-street.csv").exists()
    assert (out / "truth" / "operation_effects.csv").exists()
    # What it prints is what it wrote: the street rows of every month's file.
    street = sum(
        len(f.read_text(encoding="utf-8").splitlines()) - 1 for f in out.glob("20*/*-street.csv")
    )
    assert street > 0
    assert f"{street:,} street" in " ".join(res.stdout.split())
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert "docs/" not in readme and "DESIGN" not in readme  # users have no docs/ folder


def test_simulate_rejects_bad_arguments(tmp_path: Path) -> None:
    runner = CliRunner()
    bad_size = runner.invoke(app, ["simulate", "--size", "huge", "--out", str(tmp_path / "a")])
    assert bad_size.exit_code != 0
    assert "small, city or region" in bad_size.output
    future = runner.invoke(
        app, ["simulate", "--start", "2095-01", "--months", "2", "--out", str(tmp_path / "b")]
    )
    assert future.exit_code != 0
    assert "in the future" in future.output
    assert not (tmp_path / "b").exists()
