"""Choosing the engine and reading ``--db`` for it (no engine is started here).

The slow parity suite (test_parity.py) runs the engines; these check the one place that
resolves ``--engine``/``$HARMSCOPE_ENGINE`` and refuses a ``--db`` of the wrong form, and
that the DuckDB default opens exactly the file it always did.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_testdata import city_files
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.errors import WarehouseError
from harmscope.warehouse import Warehouse, connect
from harmscope.warehouse.engines import (
    ENGINE_ENV,
    check_location,
    display,
    engine_name,
    engine_selected,
    location,
)

URL = "postgresql://analyst:s3cret@db.example:5432/harmscope"


def test_engine_name_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    assert engine_name() == "duckdb"
    monkeypatch.setenv(ENGINE_ENV, "PySpark")
    assert engine_name() == "pyspark"  # any case
    with engine_selected("postgres"):  # --engine beats the environment
        assert engine_name() == "postgres"
        assert engine_name("duckdb") == "duckdb"  # an explicit argument beats both
    assert engine_name() == "pyspark"
    monkeypatch.setenv(ENGINE_ENV, "oracle")
    with pytest.raises(
        ValueError, match=r"duckdb, pyspark, postgres, not 'oracle' \(from \$HARMSCOPE_ENGINE\)"
    ):
        engine_name()


def test_db_must_fit_the_engine(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="needs --db as a database URL"):
        check_location(str(tmp_path / "w.duckdb"), "postgres", must_exist=False)
    with pytest.raises(WarehouseError, match=r"a database URL needs --engine postgres"):
        check_location(URL, "duckdb", must_exist=False)
    with pytest.raises(WarehouseError, match="is a folder; a DuckDB warehouse is a file"):
        check_location(str(tmp_path), "duckdb", must_exist=False)
    (tmp_path / "w.duckdb").write_bytes(b"")
    with pytest.raises(WarehouseError, match="needs --db as a warehouse folder"):
        check_location(str(tmp_path / "w.duckdb"), "pyspark", must_exist=False)
    with pytest.raises(WarehouseError, match="no events/ Parquet folder here"):
        check_location(str(tmp_path), "pyspark", must_exist=True)
    check_location(URL, "postgres", must_exist=True)  # accepted as given


def test_other_engines_need_an_explicit_db(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARMSCOPE_DB", raising=False)
    assert location(None, "duckdb", "harmscope.duckdb") == "harmscope.duckdb"
    with pytest.raises(WarehouseError, match="--engine pyspark needs --db"):
        location(None, "pyspark", "harmscope.duckdb")
    monkeypatch.setenv("HARMSCOPE_DB", URL)
    assert location(None, "postgres", URL) == URL


def test_passwords_never_shown() -> None:
    assert display(URL) == "postgresql://analyst:***@db.example:5432/harmscope"
    with pytest.raises(WarehouseError) as err:
        check_location(URL, "pyspark", must_exist=False)
    assert "s3cret" not in str(err.value)


def test_duckdb_default_opens_the_file(city_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    with Warehouse.of(city_db) as wh:
        assert wh.engine == "duckdb" and wh.backend.name == "duckdb"
        assert wh.count("events") > 0
    # A loader's raw connection refuses another engine instead of writing a stray file.
    with engine_selected("postgres"), pytest.raises(WarehouseError, match="DuckDB warehouse only"):
        connect(city_db)


def test_cli_refuses_an_unknown_engine(city_db: Path) -> None:
    res = CliRunner().invoke(app, ["matrix", "--db", str(city_db), "--engine", "oracle"])
    assert res.exit_code == 2
    assert "--engine must be duckdb, pyspark, postgres, not 'oracle'" in res.stderr
    other = CliRunner().invoke(app, ["matrix", "--db", str(city_db), "--engine", "postgres"])
    assert other.exit_code == 2 and "--engine postgres needs --db as a database URL" in other.stderr
    # The choice lasts for one command only: the next runs on DuckDB again.
    ok = CliRunner().invoke(app, ["matrix", "--db", str(city_db), "--format", "json"])
    assert ok.exit_code == 0, ok.stderr


def test_docs_list_every_parity_test() -> None:
    """docs/engines.md names each test of the parity suite, and no test that is gone."""
    import re

    here = Path(__file__).resolve().parent
    tests = set(re.findall(r"^def (test_\w+)", (here / "test_parity.py").read_text(), re.M))
    doc = (here.parents[1] / "docs" / "engines.md").read_text(encoding="utf-8")
    assert set(re.findall(r"^\| `(test_\w+)` \|", doc, re.M)) == tests


def test_ingest_writes_the_folder_harmscope_db_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``HARMSCOPE_ENGINE=pyspark HARMSCOPE_DB=FOLDER harmscope ingest FILES`` (no --db) fills
    FOLDER: it used to write the ledger into the working folder and no events at all."""
    work, folder = tmp_path / "work", tmp_path / "warehouse"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv(ENGINE_ENV, "pyspark")
    monkeypatch.setenv("HARMSCOPE_DB", str(folder))
    street = next(f for f in city_files() if f.name == "2019-01-city-of-london-street.csv")
    res = CliRunner().invoke(app, ["ingest", str(street)])
    assert res.exit_code == 0, res.stderr
    assert sorted(p.name for p in work.iterdir()) == []  # nothing written where it ran
    assert (folder / "_ingest.duckdb").is_file()
    parts = sorted((folder / "events").glob("force=*/month=*"))
    assert [p.name for p in parts] == ["month=2019-01-01"]
