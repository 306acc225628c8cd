"""Fixtures for the harm-model tests: hand-built event tables and the shared real data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pytest
from harm_testdata import shared_data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    found = shared_data_dir()
    if found is None:
        pytest.fail(
            "../shared/data not found (set HARMSCOPE_SHARED_DATA): these tests need the real files"
        )
    return found


def _events(rows: list[tuple[str | None, str | None, date, str | None]]) -> ir.Table:
    source, event_type, month, lsoa = zip(*rows, strict=True)
    return ibis.memtable(
        {
            "source": list(source),
            "event_type": list(event_type),
            "month": list(month),
            "lsoa_code": list(lsoa),
        },
        schema={"source": "string", "event_type": "string", "month": "date", "lsoa_code": "string"},
    )


JAN, FEB, MAR = date(2020, 1, 1), date(2020, 2, 1), date(2020, 3, 1)


@pytest.fixture
def events() -> ir.Table:
    """A small hand-built event table; expected values are computed by hand in the tests.

    Jan, LSOA A: 2 x Violence and sexual offences, 1 x ASB, 2 x Drugs, 2 outcome rows.
    Feb, LSOA A: 1 x Robbery, 1 x Possession of weapons.
    Feb, LSOA B: 3 x Burglary, 4 x stop and search, 1 x 'Fraud' (unknown to every scheme).
    Mar, no LSOA: 1 x Shoplifting, 1 x stop and search.
    """
    rows = [
        ("street", "Violence and sexual offences", JAN, "A"),
        ("street", "Violence and sexual offences", JAN, "A"),
        ("street", "Anti-social behaviour", JAN, "A"),
        ("street", "Drugs", JAN, "A"),
        ("street", "Drugs", JAN, "A"),
        ("outcome", "Suspect charged", JAN, "A"),
        ("outcome", "Violence and sexual offences", JAN, "A"),
        ("street", "Robbery", FEB, "A"),
        ("street", "Possession of weapons", FEB, "A"),
        ("street", "Burglary", FEB, "B"),
        ("street", "Burglary", FEB, "B"),
        ("street", "Burglary", FEB, "B"),
        ("stop_search", "Stop and search", FEB, "B"),
        ("stop_search", "Stop and search", FEB, "B"),
        ("stop_search", "Stop and search", FEB, "B"),
        ("stop_search", "Stop and search", FEB, "B"),
        ("street", "Fraud", FEB, "B"),
        ("street", "Shoplifting", MAR, None),
        ("stop_search", "Stop and search", MAR, None),
    ]
    return _events(rows)


@pytest.fixture
def make_events():
    return _events
