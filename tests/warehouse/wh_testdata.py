"""Paths, row builders and the warehouse snapshot shared by the warehouse tests (imported by name)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb

from harmscope.warehouse.ingest import ingest_paths

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
HERE_DATA = Path(__file__).resolve().parent / "data"

STREET_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context"
)
STREET_FIELDS = STREET_HEADER.split(",")

# Every table a batch writes to; a failed batch must leave each exactly as it was.
TABLES = ("events", "ingest_files", "ingest_batches", "quarantine", "areas")


def shared_data() -> Path:
    """``../shared/data`` next to the repository, or ``HARMSCOPE_SHARED_DATA``."""
    env = os.environ.get("HARMSCOPE_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"


def city(family: str, month: str) -> Path:
    """A real City of London police.uk file (family ``street`` or ``stop-and-search``)."""
    return (
        shared_data()
        / "policeuk-city-of-london-2018-12_2021-11"
        / family
        / f"{month}-city-of-london-{family}.csv"
    )


def snapshot(db: Path) -> dict[str, object]:
    """Row count and a hash of all rows (in a canonical order) of every warehouse table."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = sorted(
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        )
        snap: dict[str, object] = {"tables": tables}
        for t in TABLES:
            rows = con.execute(f"SELECT * FROM {t}").fetchall()
            digest = hashlib.sha256("\n".join(sorted(repr(r) for r in rows)).encode()).hexdigest()
            snap[t] = (len(rows), digest)
        return snap
    finally:
        con.close()


def count(db: Path, sql: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(sql).fetchone()
        assert row is not None
        return int(row[0])
    finally:
        con.close()


def build_baseline(db: Path, work: Path) -> None:
    """A warehouse with something in every table: two real files, then a lenient batch."""
    ingest_paths([city("street", "2019-11"), city("stop-and-search", "2019-11")], db=db)
    lenient = work / "2018-06-baseline-street.csv"
    good = "b1,2018-06,Kent Police,Kent Police,0.522,51.271,On or near High Street,E01024430,Maidstone 001A,Burglary,,"
    bad = ",2018-06,Kent Police,Kent Police,0.522,51.271,On or near Mill Street,E01024430,Maidstone 001A,Fly-tipping,,"
    lenient.write_text("\n".join([STREET_HEADER, good, bad]) + "\n", encoding="utf-8")
    report = ingest_paths([lenient], db=db, lenient=True)
    assert (report.rows_loaded, report.rows_quarantined) == (1, 1)
