"""Shared fixtures: six real months of City of London street crime and stop-and-search.

``city_db`` is used by tests/cli and tests/priorities; test modules and directories that need
other data define their own ``city_db``, which takes precedence over this one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harmscope.warehouse.ingest import ingest_paths


def city_folder() -> Path:
    env = os.environ.get("HARMSCOPE_SHARED_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return base / "policeuk-city-of-london-2018-12_2021-11"


@pytest.fixture(scope="session")
def city_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    months = ("2019-01", "2019-02", "2019-03", "2019-04", "2019-05", "2019-06")
    folder = city_folder()
    files = [
        folder / sub / f"{m}-city-of-london-{sub}.csv"
        for m in months
        for sub in ("street", "stop-and-search")
    ]
    db = tmp_path_factory.mktemp("city") / "city.duckdb"
    ingest_paths(files, db=db)
    return db


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Turn ``@pytest.mark.notimpl(["pyspark"], raises=Exc, reason=...)`` into a strict xfail
    on those engines (ibis's way of declaring a gap): the test must fail with exactly that
    exception there, and passes as a failure the day the gap closes. The engine is the
    test's ``engine`` parameter (tests/engines/conftest.py)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("engine") if callspec is not None else None
        for mark in item.iter_markers("notimpl"):
            if engine in mark.args[0]:
                item.add_marker(
                    pytest.mark.xfail(
                        strict=True,
                        raises=mark.kwargs["raises"],
                        reason=mark.kwargs.get("reason", f"not implemented on {engine}"),
                    )
                )
