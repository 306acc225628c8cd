"""Ingest into a PySpark warehouse folder or a PostgreSQL database.

Design: the parsing, row checks, geometry (``geo.bng_select_sql``), folding of repeated
Crime IDs, supersession and provenance of :mod:`harmscope.warehouse.ingest` are one
implementation, DuckDB SQL, whatever the engine. What differs is where its normalised
``events`` table is written:

PySpark (``--db`` a folder)
    The folder keeps the ingest ledger, an ordinary DuckDB warehouse ``_ingest.duckdb``
    (Spark ignores names starting with ``_``), so every ingest rule holds unchanged. After a
    batch that loaded anything, ``events/`` is written again from it as Parquet partitioned
    by ``force`` and ``month`` (Hive style), and every other table (but personal ones) as
    ``TABLE/data.parquet``, each into a new folder that then replaces the old one by rename:
    a reader sees the old table or the new one, never half of one.
PostgreSQL (``--db`` a URL)
    The batch runs in a scratch DuckDB warehouse seeded with the database's provenance
    (``ingest_batches``, ``ingest_files``: small), so identical files are skipped and a
    re-published force-month supersedes the one loaded before, as on DuckDB. The batch's
    result is then applied in one PostgreSQL transaction: rows of superseded files deleted,
    the new rows copied in with ``COPY ... FROM STDIN (FORMAT csv)``, provenance appended.
    A failure anywhere leaves the database as it was.

The DuckDB warehouse itself is written by :func:`harmscope.warehouse.ingest.ingest_paths`
directly, with no step of this module.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from harmscope.errors import WarehouseError
from harmscope.periods import Progress
from harmscope.warehouse import engines
from harmscope.warehouse.handle import open_duckdb
from harmscope.warehouse.schema import DDL, EVENT_COLUMNS, PERSONAL

__all__ = ["INGEST_TABLES", "LEDGER", "MANIFEST", "ingest_to", "pg_ddl", "write_parquet"]

#: The ingest ledger's file name inside a PySpark warehouse folder.
LEDGER = "_ingest.duckdb"

Ingest = Callable[..., Any]


def ingest_to(
    run: Ingest,
    paths: Iterable[str | Path],
    *,
    db: str,
    engine: str,
    lenient: bool = False,
    progress: Progress | None = None,
) -> Any:
    """Run the DuckDB ingest *run* for *paths* and write its result to *engine*'s *db*.

    Parameters
    ----------
    run : callable
        :func:`harmscope.warehouse.ingest.ingest_paths` restricted to DuckDB (passed in, so
        this module need not import the one that calls it).
    paths : iterable of path
        What ``harmscope ingest`` was given.
    db : str
        The warehouse folder (pyspark) or database URL (postgres).
    engine : {"pyspark", "postgres"}
    lenient, progress
        As for ``ingest_paths``.

    Returns
    -------
    IngestReport
        The batch's report; on PostgreSQL ``rows_superseded`` counts the database's rows.
    """
    engines.check_location(db, engine, must_exist=False)
    if engine == "pyspark":
        return _to_spark(run, list(paths), Path(db), lenient=lenient, progress=progress)
    return _to_postgres(run, list(paths), db, lenient=lenient, progress=progress)


# -- PySpark: a ledger beside Parquet partitions --------------------------------------------
def _to_spark(
    run: Ingest, paths: list[Any], folder: Path, *, lenient: bool, progress: Progress | None
) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    ledger = folder / LEDGER
    report = run(paths, db=ledger, lenient=lenient, progress=progress, engine="duckdb")
    if report.batch_id is None and (folder / "events").is_dir():
        return report  # nothing new: the Parquet table already says what the ledger says
    if progress:
        progress("writing Parquet", 0, 1)
    write_parquet(ledger, folder)
    if progress:
        progress("writing Parquet", 1, 1)
    return report


def write_parquet(ledger: str | Path, folder: Path) -> None:
    """Write the ledger's tables as Parquet under *folder*, each folder replaced by rename.

    ``events`` is Hive-partitioned (``events/force=.../month=.../``) and only the partitions
    a batch changed are written: a partition's rows are those of the ledger files whose rows
    it holds (a file's rows never change once loaded; supersession removes all of them), so
    its list of file ids, kept in ``events/_manifest.json`` (Spark ignores ``_`` names), says
    whether it changed. Unchanged partitions are hard-linked into the new folder, so the
    swap stays atomic and a month's batch writes that month, not the whole history. The
    tables ingest writes (:data:`INGEST_TABLES`) are written whole (they are small); any
    other table only when the folder lacks it, so a table a force placed there is kept.

    Personal tables (:data:`~harmscope.warehouse.schema.PERSONAL`) and the audit log are not
    written: their one reader is the audited ``read_personal`` on the DuckDB ledger.
    """
    con = open_duckdb(str(ledger), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        for table in tables:
            if table in PERSONAL or table == "audit_log":
                continue
            if table not in INGEST_TABLES and (folder / table).exists():
                continue
            new = folder / f"_{table}-{uuid.uuid4().hex}"
            try:
                if table == "events":
                    _write_events(con, folder / "events", new)
                else:
                    new.mkdir()
                    con.execute(f"COPY {table} TO '{new / 'data.parquet'}' (FORMAT parquet)")
            except BaseException:
                shutil.rmtree(new, ignore_errors=True)
                raise
            _swap(new, folder / table)
    finally:
        con.close()


#: Tables an ingest batch changes; the others come from loaders or the force's own systems.
INGEST_TABLES = frozenset({"events", "ingest_batches", "ingest_files", "quarantine"})

#: The partition manifest inside ``events/``: ``{"[force, month]": [file ids], ...}`` and
#: each partition's folder.
MANIFEST = "_manifest.json"


def _write_events(con: Any, old: Path, new: Path) -> None:
    """Write ``events`` to *new*: changed partitions from the ledger, the rest linked."""
    current = {
        json.dumps([force, str(month)]): ids
        for force, month, ids in con.execute(
            "SELECT force, month, list(DISTINCT file_id ORDER BY file_id) FROM events GROUP BY ALL"
        ).fetchall()
    }
    before = _manifest(old)
    kept = {k for k, ids in current.items() if k in before and before[k]["files"] == ids}
    changed = [k for k in current if k not in kept]
    new.mkdir()
    cols = ", ".join(n for n, _, _ in EVENT_COLUMNS)
    dirs: dict[str, str] = {}
    if changed:
        # A NULL force goes to Hive's __HIVE_DEFAULT_PARTITION__, which Spark reads back as
        # NULL; names with spaces or slashes are %-escaped both ways.
        keys = [json.loads(k) for k in changed]
        con.execute("CREATE OR REPLACE TEMP TABLE _changed (force VARCHAR, month DATE)")
        con.executemany("INSERT INTO _changed VALUES (?, ?)", keys)
        part = new / "_part"
        con.execute(
            f"COPY (SELECT {cols} FROM events SEMI JOIN _changed c "
            "ON events.force IS NOT DISTINCT FROM c.force AND events.month = c.month) "
            f"TO '{part}' (FORMAT parquet, PARTITION_BY (force, month), COMPRESSION zstd)"
        )
        for force, month, name in con.execute(
            f"SELECT DISTINCT force, month, filename FROM read_parquet('{part}/*/*/*.parquet', "
            "hive_partitioning = true, hive_types = {'force': VARCHAR, 'month': DATE}, "
            "filename = true)"
        ).fetchall():
            rel = Path(name).relative_to(part).parent
            (new / rel).parent.mkdir(parents=True, exist_ok=True)
            if not (new / rel).exists():
                (part / rel).rename(new / rel)
            dirs[json.dumps([force, str(month)])] = str(rel)
        shutil.rmtree(part)
    for k in kept:
        rel = before[k]["dir"]
        (new / rel).mkdir(parents=True)
        for f in (old / rel).iterdir():
            os.link(f, new / rel / f.name)
        dirs[k] = rel
    manifest = {k: {"files": ids, "dir": dirs[k]} for k, ids in current.items()}
    (new / MANIFEST).write_text(json.dumps(manifest, indent=0), encoding="utf-8")


def _manifest(events: Path) -> dict[str, Any]:
    """The partition manifest of an existing ``events/`` folder ({} if none: rewrite all)."""
    try:
        return dict(json.loads((events / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def _swap(new: Path, target: Path) -> None:
    """Put folder *new* in the place of *target*, then delete the old one."""
    old = target.with_name(f"_old-{target.name}-{uuid.uuid4().hex}")
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


# -- PostgreSQL: a scratch batch applied in one transaction ----------------------------------
def pg_ddl() -> list[str]:
    """Every warehouse table's DuckDB DDL in PostgreSQL's spelling: the database then holds
    the tables DuckDB's does (empty until a force fills them), so analyses that read an
    optional table (areas, partner indicators, ...) find it on either engine."""
    return [s.replace(" DOUBLE", " DOUBLE PRECISION").replace(" BLOB", " BYTEA") for s in DDL]


def _to_postgres(
    run: Ingest, paths: list[Any], url: str, *, lenient: bool, progress: Progress | None
) -> Any:
    psycopg = _psycopg()
    try:
        pg = psycopg.connect(url)
    except psycopg.Error as exc:
        raise WarehouseError(f"{engines.display(url)}: cannot connect ({exc})") from exc
    with pg, tempfile.TemporaryDirectory(prefix="harmscope-pg-ingest-") as tmp:
        with pg.transaction():
            for stmt in pg_ddl():
                pg.execute(stmt)
        scratch = Path(tmp) / "batch.duckdb"
        con = open_duckdb(str(scratch))
        try:
            for table in ("ingest_batches", "ingest_files"):
                _seed(pg, con, table)
            row = con.execute("SELECT coalesce(max(file_id), 0) FROM ingest_files").fetchone()
            seeded = int(row[0]) if row else 0
        finally:
            con.close()
        report = run(paths, db=scratch, lenient=lenient, progress=progress, engine="duckdb")
        if report.batch_id is None:
            return report
        if progress:
            progress("writing PostgreSQL", 0, 1)
        _apply(pg, scratch, Path(tmp), seeded, report)
        if progress:
            progress("writing PostgreSQL", 1, 1)
    return report


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise WarehouseError(
            "--engine postgres needs psycopg: pip install 'harmscope[postgres]'"
        ) from exc
    return psycopg


def _seed(pg: Any, con: Any, table: str) -> None:
    """Copy PostgreSQL's rows of a provenance *table* into the scratch DuckDB."""
    cur = pg.execute(f"SELECT * FROM {table}")
    rows = cur.fetchall()
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


def _apply(pg: Any, scratch: Path, tmp: Path, seeded: int, report: Any) -> None:
    """Apply the scratch batch (file ids above *seeded*) to PostgreSQL in one transaction."""
    con = open_duckdb(str(scratch), read_only=True)
    try:
        # Files loaded before that this batch's files supersede (same family, force, month).
        pairs = con.execute(
            "SELECT o.file_id, n.file_id, n.sha256 FROM ingest_files o JOIN ingest_files n "
            "ON o.kind = n.kind AND o.file_force = n.file_force AND o.file_month = n.file_month "
            "WHERE o.file_id <= ? AND n.file_id > ?",
            [seeded, seeded],
        ).fetchall()
        dumps = {}
        for table, where in (
            ("events", ""),
            ("ingest_files", f" WHERE file_id > {seeded}"),
            ("ingest_batches", f" WHERE batch_id = {int(report.batch_id)}"),
            ("quarantine", f" WHERE file_id > {seeded}"),
        ):
            dumps[table] = tmp / f"{table}.csv"
            con.execute(
                f"COPY (SELECT * FROM {table}{where}) TO '{dumps[table]}' "
                "(FORMAT csv, HEADER false, NULL '')"
            )
    finally:
        con.close()
    with pg.transaction():
        gone: dict[int, int] = {}
        digest: dict[int, str] = {}
        for old, new, sha in pairs:
            cur = pg.execute("DELETE FROM events WHERE file_id = %s", [old])
            gone[new] = gone.get(new, 0) + max(cur.rowcount, 0)
            digest[new] = sha
        for table, dump in dumps.items():
            with (
                pg.cursor() as cur,
                cur.copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy,
                open(dump, "rb") as fh,
            ):
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
        for new, rows in gone.items():
            pg.execute(
                "UPDATE ingest_files SET rows_superseded = rows_superseded + %s WHERE file_id = %s",
                [rows, new],
            )
    by_digest = {digest[new]: rows for new, rows in gone.items()}
    for fr in report.files:
        if not fr.skipped:
            fr.rows_superseded += by_digest.get(fr.sha256, 0)
