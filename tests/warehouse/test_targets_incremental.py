"""A PySpark warehouse folder is rewritten only where a batch changed it.

Real City of London street files are ingested month by month into a warehouse folder
(``--engine pyspark``; no Spark needed to write it). The Parquet partitions are read back
with DuckDB and compared with the rows recomputed from the CSVs with the csv module; the
partitions a batch did not touch must be the very same files (same inode).
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from pathlib import Path

import duckdb

from harmscope.warehouse.ingest import ingest_paths
from harmscope.warehouse.targets import MANIFEST

SHARED = Path(
    os.environ.get("HARMSCOPE_SHARED_DATA")
    or Path(__file__).resolve().parents[3] / "shared" / "data"
)
CITY = SHARED / "policeuk-city-of-london-2018-12_2021-11" / "street"


def _counts(files: list[Path]) -> Counter[str]:
    """Street rows per month after folding repeated (Crime ID, Month), with csv."""
    seen: set[tuple[str, str]] = set()
    counts: Counter[str] = Counter()
    for f in files:
        with open(f, encoding="utf-8-sig", newline="") as fh:
            for r in csv.DictReader(fh):
                key = (r["Crime ID"], r["Month"])
                if r["Crime ID"] and key in seen:
                    continue
                seen.add(key)
                counts[r["Month"]] += 1
    return counts


def _parquet_counts(folder: Path) -> Counter[str]:
    with duckdb.connect() as con:
        rows = con.execute(
            f"SELECT strftime(month, '%Y-%m'), count(*) FROM read_parquet('{folder}/events/*/*/*.parquet', "
            "hive_partitioning = true, hive_types = {'force': VARCHAR, 'month': DATE}) GROUP BY 1"
        ).fetchall()
    return Counter(dict(rows))


def _inodes(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_ino for p in (folder / "events").rglob("*.parquet")
    }


def test_only_changed_partitions_are_written(tmp_path: Path) -> None:
    files = sorted(CITY.glob("*.csv"))[:3]
    wh = tmp_path / "wh"
    ingest_paths(files[:2], db=wh, engine="pyspark")
    assert _parquet_counts(wh) == _counts(files[:2])
    first = _inodes(wh)
    assert len(first) == 2 and (wh / "events" / MANIFEST).is_file()

    ingest_paths(files[2:], db=wh, engine="pyspark")
    assert _parquet_counts(wh) == _counts(files)
    second = _inodes(wh)
    assert {k: second[k] for k in first} == first  # the two months were not rewritten
    assert len(second) == 3

    # A revised download of the first month (rows dropped) supersedes it: that one
    # partition is written again, the others stay as they were.
    revised = tmp_path / "revised" / files[0].name
    revised.parent.mkdir()
    lines = files[0].read_text(encoding="utf-8-sig").splitlines(keepends=True)
    revised.write_text("".join(lines[:-10]), encoding="utf-8")
    ingest_paths([revised], db=wh, engine="pyspark")
    assert _parquet_counts(wh) == _counts([revised, *files[1:]])
    third = _inodes(wh)
    changed = {k for k in third if third[k] != second.get(k)}
    assert len(changed) == 1 and f"month={files[0].name[:7]}-01" in changed.pop()
    # Every row written equals the ledger's, column for column.
    with duckdb.connect(str(wh / "_ingest.duckdb"), read_only=True) as con:
        diff = con.execute(
            f"SELECT count(*) FROM (SELECT * EXCLUDE (force, month) FROM events EXCEPT ALL "
            f"SELECT * EXCLUDE (force, month) FROM read_parquet('{wh}/events/*/*/*.parquet', "
            "hive_partitioning = true))"
        ).fetchone()
    assert diff == (0,)
