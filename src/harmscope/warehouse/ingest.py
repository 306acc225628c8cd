"""Load police.uk CSVs into the warehouse: strict, atomic and idempotent.

One call is one *batch* and one transaction: every file is read by DuckDB's CSV reader,
checked row by row in SQL, projected to British National Grid, de-duplicated and inserted,
or — on the first bad row — nothing at all is written and :class:`InputError` names the
file, line and column. ``lenient=True`` instead moves bad rows to the ``quarantine`` table.

Idempotence works at two levels. A file whose bytes were loaded before (same SHA-256) is
skipped. police.uk publishes each force-month-family as a unit and revises outcomes in
later downloads, so a file carrying a (family, force, month) already in the warehouse
*supersedes* the rows loaded for it before; within one batch the file listed last wins.
Either way the same content never counts twice.

Real files repeat a Crime ID within a month (one row with a location, one without); street
rows are folded to one per Crime ID and month, keeping the located one, and the count is
reported as *folded*.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from harmscope.errors import InputError
from harmscope.geo import bng_select_sql
from harmscope.sources.policeuk import (
    CRIME_TYPES,
    FAMILIES,
    LEGACY_CRIME_TYPES,
    STOP_AND_SEARCH,
    Header,
    SourceFile,
    discover,
    read_header,
)
from harmscope.warehouse import connect
from harmscope.warehouse.schema import EVENT_COLUMNS

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as work advances (the CLI draws a bar)."""

# A generous box around the UK including Northern Ireland and the islands (WGS84 degrees).
UK_LON = (-8.75, 1.90)
UK_LAT = (49.80, 61.00)
_OLDEST_YEAR = 2000  # police.uk starts in 2010; anything before 2000 is a broken file.


@dataclass
class FileReport:
    """What happened to one file."""

    path: str
    family: str
    sha256: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_folded: int = 0
    rows_quarantined: int = 0
    rows_superseded: int = 0
    skipped: bool = False  # identical bytes were loaded before


@dataclass
class IngestReport:
    """Summary of one batch (also stored in ``ingest_batches``)."""

    batch_id: int | None
    files: list[FileReport] = field(default_factory=list)

    def _sum(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)

    @property
    def rows_read(self) -> int:
        return self._sum("rows_read")

    @property
    def rows_loaded(self) -> int:
        return self._sum("rows_loaded")

    @property
    def rows_folded(self) -> int:
        return self._sum("rows_folded")

    @property
    def rows_quarantined(self) -> int:
        return self._sum("rows_quarantined")

    @property
    def rows_superseded(self) -> int:
        return self._sum("rows_superseded")

    @property
    def files_skipped(self) -> int:
        return sum(f.skipped for f in self.files)


def ingest_paths(
    paths: Iterable[str | Path],
    *,
    db: str | Path | None = None,
    lenient: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest police.uk files, folders and zip archives into the warehouse ``db``.

    Parameters
    ----------
    paths
        CSV or CSV.gz files, folder trees of them, or data.police.uk zip archives.
    db
        Warehouse file (DuckDB); created when missing.
    lenient
        Quarantine bad rows (table ``quarantine``) instead of failing the batch.
    progress
        Optional ``progress(stage, done, total)`` callback.

    Raises
    ------
    InputError
        On the first bad file or row (strict mode); the warehouse is left exactly as it was.
    """
    sources = discover(paths)
    if not sources:
        raise InputError("no CSV files found", path=", ".join(map(str, paths)))
    con = connect(db)
    try:
        with tempfile.TemporaryDirectory(prefix="harmscope-ingest-") as tmp:
            return _Batch(con, Path(tmp), lenient=lenient, progress=progress).run(sources)
    finally:
        con.close()


def _sha256(src: SourceFile) -> str:
    h = hashlib.sha256()
    if src.member is None:
        with open(src.path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    else:
        import zipfile

        with zipfile.ZipFile(src.path) as zf, zf.open(src.member) as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


def _q(s: str) -> str:
    """SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def _in_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(_q(v) for v in values) + ")"


class _Batch:
    def __init__(
        self, con: duckdb.DuckDBPyConnection, tmp: Path, *, lenient: bool, progress: Progress | None
    ) -> None:
        self.con = con
        self.tmp = tmp
        self.lenient = lenient
        self.progress = progress or (lambda stage, done, total: None)

    # -- driver ---------------------------------------------------------------------------
    def run(self, sources: list[SourceFile]) -> IngestReport:
        con = self.con
        known = {r[0] for r in con.execute("SELECT sha256 FROM ingest_files").fetchall()}
        headers: list[tuple[SourceFile, Header, str]] = []
        seen: set[str] = set()
        report = IngestReport(batch_id=None)
        for i, src in enumerate(sources):
            self.progress("checking headers", i, len(sources))
            header = read_header(src)
            digest = _sha256(src)
            fr = FileReport(src.display, header.family, digest)
            if digest in known or digest in seen:
                fr.skipped = True
                report.files.append(fr)
                continue
            seen.add(digest)
            headers.append((src, header, digest))
            report.files.append(fr)
        self.progress("checking headers", len(sources), len(sources))
        if not headers:
            return report

        started = datetime.now(UTC).replace(tzinfo=None)
        con.execute("BEGIN TRANSACTION")
        try:
            batch_id = con.execute(
                "SELECT coalesce(max(batch_id), 0) + 1 FROM ingest_batches"
            ).fetchone()[0]  # type: ignore[index]
            first_file_id = con.execute(
                "SELECT coalesce(max(file_id), 0) + 1 FROM ingest_files"
            ).fetchone()[0]  # type: ignore[index]
            report.batch_id = batch_id
            by_display = {fr.path: fr for fr in report.files if not fr.skipped}
            files = [
                (first_file_id + k, src, header, digest)
                for k, (src, header, digest) in enumerate(headers)
            ]
            self._stage_all(files)
            self._fold_and_supersede()
            self._insert()
            self._record(batch_id, started, files, by_display)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return report

    # -- reading ---------------------------------------------------------------------------
    def _local_path(self, src: SourceFile) -> str:
        """A path DuckDB can read: the file itself, or a zip member extracted to tmp."""
        if src.member is None:
            return str(src.path)
        dest = self.tmp / f"{abs(hash(src.display))}-{Path(src.member).name}"
        with src.open_bytes() as fin, open(dest, "wb") as fout:
            shutil.copyfileobj(fin, fout)  # already decompressed if .gz
        if dest.name.endswith(".gz"):
            dest = dest.rename(dest.with_name(dest.name[:-3]))
        return str(dest)

    def _stage_all(self, files: list[tuple[int, SourceFile, Header, str]]) -> None:
        """Read every file into the temp table ``staged`` (typed, checked, projected)."""
        con = self.con
        groups: dict[tuple[str, tuple[str, ...]], list[tuple[int, SourceFile, str]]] = {}
        for file_id, src, header, _ in files:
            local = self._local_path(src)
            groups.setdefault((header.family, header.columns), []).append((file_id, src, local))
        con.execute("DROP TABLE IF EXISTS staged")
        con.execute(
            "CREATE TEMP TABLE staged AS SELECT "
            + ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t, _ in EVENT_COLUMNS)
            + ", CAST(NULL AS INTEGER) AS _order LIMIT 0"
        )
        file_map = pa.table(
            {
                "_local": [loc for g in groups.values() for _, _, loc in g],
                "file_id": [fid for g in groups.values() for fid, _, _ in g],
                "_display": [src.display for g in groups.values() for _, src, _ in g],
                "_slug": [
                    src.force_slug or Path(src.name).name for g in groups.values() for _, src, _ in g
                ],
            }
        )
        con.register("_file_map", file_map)
        self.displays = dict(zip(file_map["file_id"].to_pylist(), file_map["_display"].to_pylist(), strict=True))
        for k, ((family, columns), members) in enumerate(groups.items()):
            self.progress("reading", k, len(groups))
            self._stage_group(family, columns, members)
        self.progress("reading", len(groups), len(groups))
        con.unregister("_file_map")

    def _stage_group(
        self, family: str, columns: tuple[str, ...], members: list[tuple[int, SourceFile, str]]
    ) -> None:
        con = self.con
        mapping, _ = FAMILIES[family]
        names = [mapping[c] for c in columns]
        col_spec = "{" + ", ".join(f"{_q(n)}: 'VARCHAR'" for n in names) + "}"
        locals_ = "[" + ", ".join(_q(loc) for _, _, loc in members) + "]"
        opts = (
            f"header=true, auto_detect=false, columns={col_spec}, delim=',', quote='\"', "
            "escape='\"', strict_mode=true, filename=true"
        )
        if self.lenient:
            opts += ", ignore_errors=true, store_rejects=true"
        con.execute("DROP TABLE IF EXISTS raw_rows")
        try:
            con.execute(f"CREATE TEMP TABLE raw_rows AS SELECT * FROM read_csv({locals_}, {opts})")
        except duckdb.Error as exc:
            raise self._csv_error(exc, members, columns) from exc
        # Line numbers: rows keep file order in the table, so rowid gives the record number.
        line = "(rowid - min(rowid) OVER (PARTITION BY filename) + 2)"
        if self.lenient:
            line = self._lenient_lines(members, line)
        present = set(names)
        checks = _checks(family, present)
        col_of = {mapping[c]: (i + 1, c) for i, c in enumerate(columns)}
        case_col = " ".join(f"WHEN {cond} THEN {_q(col)}" for col, cond, _ in checks)
        case_reason = " ".join(f"WHEN {cond} THEN {_q(reason)}" for _, cond, reason in checks)
        checked = f"""
            SELECT r.*, m.file_id, m._slug, CAST({line} AS INTEGER) AS line,
                   CASE {case_col} ELSE NULL END AS _bad_col,
                   CASE {case_reason} ELSE NULL END AS _bad_reason
            FROM raw_rows r JOIN _file_map m ON r.filename = m._local"""
        con.execute("DROP TABLE IF EXISTS checked")
        con.execute(f"CREATE TEMP TABLE checked AS {checked}")
        bad = con.execute(
            "SELECT file_id, line, _bad_col, _bad_reason, count(*) OVER () FROM checked "
            "WHERE _bad_col IS NOT NULL ORDER BY file_id, line LIMIT 1"
        ).fetchone()
        if bad is not None and not self.lenient:
            file_id, line_no, col, reason, _ = bad
            value = con.execute(
                f"SELECT {col} FROM checked WHERE file_id = ? AND line = ?", [file_id, line_no]
            ).fetchone()
            index, header_name = col_of[col]
            shown = "blank" if value is None or value[0] is None else repr(value[0])
            raise InputError(
                f"{reason}; found {shown}",
                path=self.displays[file_id],
                line=line_no,
                column=index,
                column_name=header_name,
            )
        if bad is not None:
            con.execute(
                "INSERT INTO quarantine SELECT file_id, line, _bad_col, _bad_reason, "
                "concat_ws(',', " + ", ".join(f"coalesce({n}, '')" for n in names) + ") "
                "FROM checked WHERE _bad_col IS NOT NULL"
            )
        typed = _typed_select(family, present)
        projected = bng_select_sql(f"(SELECT {typed} FROM checked WHERE _bad_col IS NULL)")
        cols = ", ".join(n for n, _, _ in EVENT_COLUMNS)
        con.execute(f"INSERT INTO staged SELECT {cols}, file_id AS _order FROM ({projected})")
        con.execute("DROP TABLE checked")
        con.execute("DROP TABLE raw_rows")

    def _lenient_lines(self, members: list[tuple[int, SourceFile, str]], naive: str) -> str:
        """Rows DuckDB rejected shift the rowid-based line numbers; map them back."""
        rejects = self.con.execute(
            "SELECT s.file_path, e.line, e.column_name, e.error_type, e.csv_line "
            "FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id)"
        ).fetchall()
        if not rejects:
            return naive
        by_local = {loc: fid for fid, _, loc in members}
        skipped: dict[str, list[int]] = {}
        for path, line_no, col, err, raw in rejects:
            fid = by_local.get(path)
            if fid is None:
                continue
            self.con.execute(
                "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?)",
                [fid, int(line_no), col, f"unreadable CSV record ({err})", raw],
            )
            skipped.setdefault(path, []).append(int(line_no))
        self.con.execute("DELETE FROM reject_errors")
        self.con.execute("DELETE FROM reject_scans")
        # k-th surviving record of a file sits at the k-th line not in its reject list.
        rows_f, rows_k, rows_line = [], [], []
        for path, lines in skipped.items():
            n = self.con.execute("SELECT count(*) FROM raw_rows WHERE filename = ?", [path]).fetchone()[0]  # type: ignore[index]
            gone = set(lines)
            k = 0
            candidate = 2
            while k < n:
                if candidate not in gone:
                    rows_f.append(path)
                    rows_k.append(k)
                    rows_line.append(candidate)
                    k += 1
                candidate += 1
        self.con.register(
            "_line_fix", pa.table({"f": rows_f, "k": rows_k, "l": rows_line})
        )
        return (
            f"coalesce((SELECT l FROM _line_fix WHERE f = r.filename AND "
            f"k = r.rowid - (SELECT min(rowid) FROM raw_rows WHERE filename = r.filename)), "
            f"{naive})"
        )

    def _csv_error(
        self, exc: duckdb.Error, members: list[tuple[int, SourceFile, str]], columns: tuple[str, ...]
    ) -> InputError:
        """Turn a DuckDB CSV reader error into a message with file, line and column."""
        text = str(exc)
        m_file = re.search(r"file = (.+)", text)
        local = m_file.group(1).strip() if m_file else members[0][2]
        src = next((s for _, s, loc in members if loc == local), members[0][1])
        m_line = re.search(r"CSV Error on Line: (\d+)", text)
        line = int(m_line.group(1)) if m_line else None
        raw = _physical_line(local, line) if line else None
        n = len(columns)
        if m := re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text):
            found = int(m.group(2))
            col = found + 1 if found < n else n + 1
            what = "truncated record" if found < n else "extra field(s)"
            name = columns[found] if found < n else None
            return InputError(
                f"{what}: expected {n} comma-separated fields, found {found}",
                path=src.display, line=line, column=col, column_name=name,
            )
        if "Invalid unicode" in text or "not utf-8" in text.lower():
            col = _column_at(raw, _first_bad_utf8(raw)) if raw is not None else None
            return InputError(
                "bytes that are not UTF-8 (police.uk files are UTF-8; re-save the file as UTF-8)",
                path=src.display, line=line, column=col,
                column_name=columns[col - 1] if col and col <= n else None,
            )
        if "unterminated quote" in text:
            col = _column_at(raw, raw.rfind(b'"')) if raw is not None else None
            return InputError(
                "a quoted field is never closed (unterminated quote)",
                path=src.display, line=line, column=col,
                column_name=columns[col - 1] if col and col <= n else None,
            )
        if "Maximum line size" in text:
            return InputError(
                "record longer than the reader's 2 MB limit: not a police.uk row",
                path=src.display, line=line,
            )
        if "gzip" in text.lower() or "decompress" in text.lower():
            return InputError(f"cannot decompress ({text.splitlines()[0]})", path=src.display)
        first = text.splitlines()[0] if text else type(exc).__name__
        return InputError(f"unreadable CSV ({first})", path=src.display, line=line)

    # -- de-duplication ---------------------------------------------------------------------
    def _fold_and_supersede(self) -> None:
        con = self.con
        # 1. Within the batch, a (family, force, month) carried by several files: last file wins.
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _dropped AS
               SELECT file_id, count(*) AS n FROM (
                 SELECT file_id, max(file_id) OVER (PARTITION BY source, force, month) AS owner
                 FROM staged) WHERE file_id <> owner GROUP BY file_id"""
        )
        if con.execute("SELECT count(*) FROM _dropped").fetchone()[0]:  # type: ignore[index]
            con.execute(
                """DELETE FROM staged s USING (
                     SELECT source, force, month, max(file_id) AS owner FROM staged
                     GROUP BY ALL) o
                   WHERE s.source = o.source AND s.force IS NOT DISTINCT FROM o.force
                     AND s.month = o.month AND s.file_id <> o.owner"""
            )
        # 2. One street row per Crime ID and month, preferring the one with a location.
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _folded AS
               SELECT file_id, count(*) AS n FROM (
                 SELECT file_id, row_number() OVER (
                   PARTITION BY crime_id, month
                   ORDER BY (x IS NULL), file_id, line) AS k
                 FROM staged WHERE source = 'street' AND crime_id IS NOT NULL)
               WHERE k > 1 GROUP BY file_id"""
        )
        if con.execute("SELECT count(*) FROM _folded").fetchone()[0]:  # type: ignore[index]
            con.execute(
                """DELETE FROM staged WHERE (file_id, line) IN (
                     SELECT (file_id, line) FROM (
                       SELECT file_id, line, row_number() OVER (
                         PARTITION BY crime_id, month ORDER BY (x IS NULL), file_id, line) AS k
                       FROM staged WHERE source = 'street' AND crime_id IS NOT NULL)
                     WHERE k > 1)"""
            )
        # 3. Earlier loads of the same (family, force, month) are superseded by this batch.
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _parts AS
               SELECT source, force, month, min(file_id) AS file_id FROM staged GROUP BY ALL"""
        )
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _superseded AS
               SELECT p.file_id, count(*) AS n FROM events e JOIN _parts p
                 ON e.source = p.source AND e.force IS NOT DISTINCT FROM p.force
                 AND e.month = p.month
               GROUP BY p.file_id"""
        )
        if con.execute("SELECT count(*) FROM _superseded").fetchone()[0]:  # type: ignore[index]
            con.execute(
                """DELETE FROM events e USING _parts p
                   WHERE e.source = p.source AND e.force IS NOT DISTINCT FROM p.force
                     AND e.month = p.month"""
            )

    def _insert(self) -> None:
        cols = ", ".join(n for n, _, _ in EVENT_COLUMNS)
        self.progress("writing", 0, 1)
        self.con.execute(f"INSERT INTO events SELECT {cols} FROM staged ORDER BY _order, line")
        self.progress("writing", 1, 1)

    def _record(
        self,
        batch_id: int,
        started: datetime,
        files: list[tuple[int, SourceFile, Header, str]],
        by_display: dict[str, FileReport],
    ) -> None:
        con = self.con
        counts = {
            name: dict(con.execute(sql).fetchall())
            for name, sql in {
                "loaded": "SELECT file_id, count(*) FROM staged GROUP BY file_id",
                "folded": "SELECT file_id, n FROM _folded",
                "dropped": "SELECT file_id, n FROM _dropped",
                "superseded": "SELECT file_id, n FROM _superseded",
                "quarantined": "SELECT file_id, count(*) FROM quarantine GROUP BY file_id",
            }.items()
        }
        now = datetime.now(UTC).replace(tzinfo=None)
        for file_id, src, header, digest in files:
            fr = by_display[src.display]
            fr.rows_loaded = int(counts["loaded"].get(file_id, 0))
            fr.rows_folded = int(counts["folded"].get(file_id, 0))
            fr.rows_quarantined = int(counts["quarantined"].get(file_id, 0))
            fr.rows_superseded = int(counts["superseded"].get(file_id, 0)) + int(
                counts["dropped"].get(file_id, 0)
            )
            fr.rows_read = (
                fr.rows_loaded
                + fr.rows_folded
                + fr.rows_quarantined
                + int(counts["dropped"].get(file_id, 0))
            )
            con.execute(
                "INSERT INTO ingest_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    file_id, batch_id, str(src.path), src.member, digest, header.family,
                    fr.rows_read, fr.rows_loaded, fr.rows_folded, fr.rows_quarantined,
                    fr.rows_superseded, now,
                ],
            )
        reps = [by_display[src.display] for _, src, _, _ in files]
        con.execute(
            "INSERT INTO ingest_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch_id, started, now, "lenient" if self.lenient else "strict", len(files),
                sum(r.rows_loaded for r in reps), sum(r.rows_folded for r in reps),
                sum(r.rows_quarantined for r in reps), sum(r.rows_superseded for r in reps),
            ],
        )


# -- per-family checks and typed columns ------------------------------------------------------
def _checks(family: str, present: set[str]) -> list[tuple[str, str, str]]:
    """(warehouse column, SQL condition that is TRUE when the row is bad, reason) in order."""
    checks: list[tuple[str, str, str]] = []
    if family in ("street", "outcome"):
        checks.append(
            (
                "month",
                f"""(month IS NULL OR NOT regexp_full_match(trim(month), '\\d{{4}}-\\d{{2}}')
                    OR try_strptime(trim(month) || '-01', '%Y-%m-%d') IS NULL
                    OR year(try_strptime(trim(month) || '-01', '%Y-%m-%d')) < {_OLDEST_YEAR}
                    OR try_strptime(trim(month) || '-01', '%Y-%m-%d')
                       > current_date + INTERVAL 31 DAY)""",
                f"impossible month: expected YYYY-MM between {_OLDEST_YEAR}-01 and this month",
            )
        )
        checks.append(
            ("force", "force IS NULL OR trim(force) = ''", "blank 'Falls within': expected a force")
        )
    else:
        checks.append(
            (
                "occurred_at",
                """(occurred_at IS NULL OR try_cast(trim(occurred_at) AS TIMESTAMPTZ) IS NULL
                    OR year(try_cast(trim(occurred_at) AS TIMESTAMPTZ)) < 2000)""",
                "impossible date: expected an ISO 8601 date-time like 2019-01-01T02:48:45+00:00",
            )
        )
    for axis, lo, hi in (("longitude", *UK_LON), ("latitude", *UK_LAT)):
        other = "latitude" if axis == "longitude" else "longitude"
        checks.append(
            (
                axis,
                f"({axis} IS NOT NULL AND try_cast(trim({axis}) AS DOUBLE) IS NULL)",
                f"{axis} is not a number: expected decimal degrees (WGS84)",
            )
        )
        checks.append(
            (
                axis,
                f"(try_cast(trim({axis}) AS DOUBLE) NOT BETWEEN {lo} AND {hi})",
                f"{axis} outside the UK: expected {lo} to {hi} degrees",
            )
        )
        checks.append(
            (
                axis,
                f"({axis} IS NULL AND {other} IS NOT NULL)",
                f"{axis} is blank but {other} is not: expected both or neither",
            )
        )
    if "lsoa_code" in present:
        checks.append(
            (
                "lsoa_code",
                "(lsoa_code IS NOT NULL AND NOT regexp_full_match(trim(lsoa_code), '[EWSN]\\d{8}'))",
                "not an LSOA code: expected a letter E/W/S/N and 8 digits (e.g. E01000001) or blank",
            )
        )
    if family == "street":
        checks.append(
            (
                "event_type",
                f"(event_type IS NULL OR trim(event_type) NOT IN "
                f"{_in_list(CRIME_TYPES + LEGACY_CRIME_TYPES)})",
                "unknown crime type: expected one of the 14 police.uk crime types",
            )
        )
    if family == "outcome":
        checks.append(("crime_id", "crime_id IS NULL", "blank Crime ID: an outcome needs its crime"))
        checks.append(("event_type", "event_type IS NULL", "blank outcome type"))
    if family == "stop_search":
        checks.append(("search_type", "search_type IS NULL", "blank search type"))
        for col in ("outcome_linked", "removal_of_clothing", "part_of_operation"):
            if col in present:
                checks.append(
                    (
                        col,
                        f"({col} IS NOT NULL AND lower(trim({col})) NOT IN ('true', 'false'))",
                        "expected True, False or blank",
                    )
                )
    # Only check columns this file has; absent optional columns are NULL by construction.
    return [c for c in checks if c[0] in present]


def _typed_select(family: str, present: set[str]) -> str:
    """SELECT list turning checked VARCHARs into the warehouse columns."""

    def text(col: str) -> str:
        return f"nullif(trim({col}), '')" if col in present else "NULL"

    def boolean(col: str) -> str:
        return f"CAST(lower(trim({col})) = 'true' AS BOOLEAN)" if col in present else "NULL"

    exprs: dict[str, str] = {n: "NULL" for n, _, _ in EVENT_COLUMNS}
    exprs.update(
        {
            "source": _q(family),
            "longitude": "try_cast(trim(longitude) AS DOUBLE)",
            "latitude": "try_cast(trim(latitude) AS DOUBLE)",
            "file_id": "file_id",
            "line": "line",
        }
    )
    for col in ("crime_id", "reported_by", "location", "lsoa_code", "lsoa_name", "outcome",
                "context", "search_type", "object_of_search", "legislation", "operation_name",
                "gender", "age_range", "self_defined_ethnicity", "officer_defined_ethnicity"):
        exprs[col] = text(col)
    if family == "stop_search":
        ts = "timezone('UTC', try_cast(trim(occurred_at) AS TIMESTAMPTZ))"
        exprs["occurred_at"] = ts
        exprs["month"] = f"CAST(date_trunc('month', {ts}) AS DATE)"
        exprs["event_type"] = _q(STOP_AND_SEARCH)
        exprs["force"] = "_slug"
        for col in ("outcome_linked", "removal_of_clothing", "part_of_operation"):
            exprs[col] = boolean(col)
    else:
        exprs["month"] = "CAST(strptime(trim(month) || '-01', '%Y-%m-%d') AS DATE)"
        exprs["event_type"] = "trim(event_type)"
        exprs["force"] = "trim(force)"
    types = {n: t for n, t, _ in EVENT_COLUMNS}
    # x and y are added by the projection step.
    return ", ".join(
        f"CAST({exprs[n]} AS {types[n]}) AS {n}" for n, _, _ in EVENT_COLUMNS if n not in ("x", "y")
    )


def _physical_line(path: str, line: int) -> bytes | None:
    """The raw bytes of line ``line`` (1-based) of a CSV, for locating an error's column."""
    import gzip

    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            for i, raw in enumerate(fh, start=1):
                if i == line:
                    return bytes(raw[:1_000_000])
    except OSError:
        return None
    return None


def _first_bad_utf8(raw: bytes) -> int:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return 0


def _column_at(raw: bytes, pos: int) -> int:
    """1-based CSV field index of byte offset ``pos`` (commas inside quotes ignored)."""
    col, quoted = 1, False
    for b in raw[: max(pos, 0)]:
        if b == 0x22:
            quoted = not quoted
        elif b == 0x2C and not quoted:
            col += 1
    return col
