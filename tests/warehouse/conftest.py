"""Fixtures for the warehouse tests: a loaded warehouse, copied fresh for each test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from wh_testdata import build_baseline, city, snapshot


@pytest.fixture(scope="session")
def baseline_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real City of London street and stop-and-search (2019-11) plus one lenient batch."""
    if not city("street", "2019-11").exists():
        pytest.fail(
            "../shared/data not found (set HARMSCOPE_SHARED_DATA): these tests need the real files"
        )
    work = tmp_path_factory.mktemp("baseline")
    db = work / "baseline.duckdb"
    build_baseline(db, work)
    assert not Path(f"{db}.wal").exists()  # closed and checkpointed: the file is the warehouse
    return db


@pytest.fixture
def db(baseline_db: Path, tmp_path: Path) -> Path:
    """A private copy of the baseline warehouse."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(baseline_db, copy)
    return copy


@pytest.fixture
def before(db: Path) -> dict[str, object]:
    """Snapshot of the warehouse before the test touches it."""
    snap = snapshot(db)
    # Every table that a batch writes to holds rows, so "unchanged" is a real comparison.
    for table in ("events", "ingest_files", "ingest_batches", "quarantine"):
        assert snap[table][0] > 0, table  # type: ignore[index]
    return snap
