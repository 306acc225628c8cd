"""Load police.uk CSVs into the warehouse: strict, atomic and idempotent.

One call is one *batch* and one transaction: every file is read by DuckDB's CSV reader,
checked row by row in SQL, projected to British National Grid, de-duplicated and inserted,
or — on the first bad row — nothing at all is written and :class:`InputError` names the
file, line and column. ``lenient=True`` instead moves bad rows to the ``quarantine`` table.

Idempotence works at two levels. A file whose bytes were loaded before (same SHA-256) is
skipped. police.uk publishes each force-month-family as a unit and revises outcomes in later
downloads, so a file whose *identity* — (family, force, month) read from its name or archive
folder, never from its rows — was loaded before *supersedes* the rows of that earlier file;
within one batch the file listed last wins. Either way the same content never counts twice.
Rows dated outside their file's month (a late search listed in the next month's file) are
kept, under their own date, and counted as *outside month*.

Real files repeat a Crime ID within a month (one row with a location, one without); street
rows are folded to one per Crime ID and month, keeping the located one, and the count is
reported as *folded*.

One pass: each file is read once in Python (gzip checked, decompressed once) and street rows
whose key cannot repeat go straight into ``events`` in one statement per header; only the
few that may fold are staged and folded in SQL (:mod:`harmscope.warehouse.ingest_local`,
``docs/warehouse.md``).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from harmscope.errors import InputError
from harmscope.geo import bng_select_sql
from harmscope.periods import Progress
from harmscope.sources.policeuk import (
    FAMILIES,
    FileIdentity,
    Header,
    SourceFile,
    discover_all,
    force_of,
    identity_of,
    read_header,
)
from harmscope.warehouse import diagnostics as diag
from harmscope.warehouse import engines, ingest_local, targets
from harmscope.warehouse import rowchecks as rows
from harmscope.warehouse.handle import default_db, open_duckdb
from harmscope.warehouse.ingest_report import FileReport, IngestReport

__all__ = ["FileReport", "IngestReport", "ingest_paths"]
from harmscope.warehouse.schema import EVENT_COLUMNS


def ingest_paths(
    paths: Iterable[str | Path],
    *,
    db: str | Path | None = None,
    lenient: bool = False,
    progress: Progress | None = None,
    engine: str | None = None,
) -> IngestReport:
    """Ingest police.uk files, folders and zip archives into the warehouse ``db``.

    Parameters
    ----------
    paths
        CSV or CSV.gz files, folder trees of them, or data.police.uk zip archives.
    db
        Warehouse file (DuckDB), created when missing; a warehouse folder (``pyspark``) or
        a database URL (``postgres``).
    lenient
        Quarantine bad rows (table ``quarantine``) instead of failing the batch.
    progress
        Optional ``progress(stage, done, total)`` callback.
    engine
        ``duckdb``, ``pyspark`` or ``postgres`` (default: ``--engine``/``$HARMSCOPE_ENGINE``,
        else duckdb). Every engine is loaded by this same DuckDB code; only the write-out of
        the result differs (:mod:`harmscope.warehouse.targets`).

    Raises
    ------
    InputError
        On the first bad file or row (strict mode); the warehouse is left exactly as it was.
    """
    name = engines.engine_name(engine)
    if name != "duckdb":
        where = engines.location(None if db is None else str(db), name, default_db())
        return targets.ingest_to(
            ingest_paths, paths, db=where, engine=name, lenient=lenient, progress=progress
        )
    found = discover_all(paths)
    if not found.files:
        raise InputError("no CSV files found", path=", ".join(map(str, paths)))
    con = open_duckdb(db)
    try:
        with tempfile.TemporaryDirectory(prefix="harmscope-ingest-") as tmp:
            report = _Batch(con, Path(tmp), lenient=lenient, progress=progress).run(found.files)
    finally:
        con.close()
    report.files_passed_over = found.passed_over
    report.passed_over_names = list(found.passed_over_names)
    return report


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
            digest = src.sha256()
            fr = FileReport(src.display, header.family, digest, identity=identity_of(src))
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
            losers = self._identities(files)
            # One "loading" stage: each file read, then each header's statement.
            groups = len({(h.family, h.columns) for _, _, h, _ in files})
            total = len(files) + groups
            locals_ = ingest_local.prepare(
                [(fid, src, header) for fid, src, header, _ in files],
                self.tmp,
                split=not self.lenient,
                whole_apart=losers,
                progress=lambda done, _: self.progress("loading", done, total),
            )
            direct = self._load_all(locals_, first_file_id, len(files), total)
            # Each stage reports 0 then its total (periods.Progress): bars end full.
            dedup = self._fold(losers)
            # Deleting committed rows leaves the rows this batch wrote untouched (deleting
            # those would make DuckDB's commit write them all again).
            dedup["superseded"] = self._supersede()
            self._write_staged(losers, bool(dedup["folded"]))
            for fid, (n, k) in direct.items():
                dedup["staged"][fid] = dedup["staged"].get(fid, 0) + n
                if k:
                    dedup["outside"][fid] = dedup["outside"].get(fid, 0) + k
            self.progress("recording", 0, 1)
            self._record(batch_id, started, files, by_display, dedup)
            self.progress("recording", 1, 1)
            self.progress("committing", 0, 1)
            con.execute("COMMIT")
            self.progress("committing", 1, 1)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return report

    # -- reading ---------------------------------------------------------------------------
    def _load_all(
        self, locals_: list[ingest_local.LocalFile], first: int, start: int, total: int
    ) -> dict[int, tuple[int, int]]:
        """Insert every file's rows, one statement per header: direct parts into ``events``.

        Rows that may fold (:mod:`~harmscope.warehouse.ingest_local`) and every row in
        lenient mode go to the in-memory ``staged`` table for :meth:`_fold`. Returns the rows
        written straight to ``events`` per file id, and how many of them are dated outside
        their file's month.
        """
        con = self.con
        con.execute("CREATE OR REPLACE TEMP TABLE staged AS FROM events LIMIT 0")
        con.register("_file_map", _file_map([(lf.file_id, lf.src, p) for lf, p in _parts(locals_)]))
        groups: dict[tuple[str, tuple[str, ...]], list[ingest_local.LocalFile]] = {}
        for lf in locals_:
            groups.setdefault((lf.header.family, lf.header.columns), []).append(lf)
        for k, ((family, columns), group) in enumerate(groups.items()):
            self.progress("loading", start + k, total)
            if self.lenient:  # not split: `direct` is the whole file
                whole = [(lf.file_id, lf.src, lf.direct) for lf in group if lf.direct]
                self._load_lenient(family, columns, whole)
            else:
                self._load_strict(family, columns, group)
        self.progress("loading", total, total)
        con.unregister("_file_map")
        direct = con.execute(
            "SELECT e.file_id, count(*), count(*) FILTER (e.month <> i.file_month) "
            "FROM events e LEFT JOIN _identity i ON e.file_id = i.file_id "
            "WHERE e.file_id >= ? GROUP BY ALL",
            [first],
        ).fetchall()
        return {int(f): (int(n), int(k)) for f, n, k in direct}

    def _read_csv(self, family: str, columns: tuple[str, ...], locals_: list[str]) -> str:
        mapping, _ = FAMILIES[family]
        spec = "{" + ", ".join(f"{rows.q(mapping[c])}: 'VARCHAR'" for c in columns) + "}"
        opts = (
            f"header=true, auto_detect=false, columns={spec}, delim=',', quote='\"', "
            "escape='\"', strict_mode=true, filename=true"
        )
        if self.lenient:
            opts += ", ignore_errors=true, store_rejects=true"
        return f"read_csv([{', '.join(rows.q(p) for p in locals_)}], {opts})"

    def _checked(self, family: str, columns: tuple[str, ...], locals_: list[str]) -> str:
        """The warehouse rows of ``locals_``; a bad row stops the statement through error().

        The message is rebuilt by :meth:`_explain` from the first bad row of the file named.
        """
        mapping, _ = FAMILIES[family]
        present = {mapping[c] for c in columns}
        raise_bad = " ".join(
            f"WHEN {cond} THEN error('harmscope-bad-row|' || filename || '|')"
            for _, cond, _ in rows.checks(family, present)
        )
        reader = self._read_csv(family, columns, locals_)
        good = (
            f"SELECT {rows.typed_select(family, present)} FROM ({rows.parsed(family, reader)}) "
            f"WHERE (CASE {raise_bad} END) IS NULL"
        )
        cols = ", ".join(n for n, _, _ in EVENT_COLUMNS)
        return f"SELECT {cols} FROM ({bng_select_sql(f'({good})')})"

    def _load_strict(
        self, family: str, columns: tuple[str, ...], group: list[ingest_local.LocalFile]
    ) -> None:
        """One pass per part: parse, check, type and project straight into the target."""
        for target, paths in (
            ("events", [lf.direct for lf in group if lf.direct]),
            ("staged", [lf.apart for lf in group if lf.apart]),
        ):
            if not paths:
                continue
            try:
                self.con.execute(f"INSERT INTO {target} {self._checked(family, columns, paths)}")
            except duckdb.Error as exc:
                raise self._explain(exc, family, columns, group) from exc

    def _explain(
        self,
        exc: duckdb.Error,
        family: str,
        columns: tuple[str, ...],
        group: list[ingest_local.LocalFile],
    ) -> InputError:
        """The error of the first bad row, with the line and column of the file itself.

        Split parts do not keep the files' line numbers, so the group is read again whole,
        on its own cursor (the failed INSERT has aborted the batch's transaction).
        """
        whole = [
            (lf.file_id, lf.src, ingest_local.whole_copy(lf.src, self.tmp, f"whole{lf.file_id}"))
            for lf in group
        ]
        cur = self.con.cursor()
        try:
            cur.register("_file_map", _file_map(whole))
            try:
                sql = self._checked(family, columns, [loc for _, _, loc in whole])
                cur.execute(f"CREATE TEMP TABLE _whole AS {sql}")
            except duckdb.Error as again:
                exc = again
        finally:
            cur.close()
        m = re.search(r"harmscope-bad-row\|(.+?)\|", str(exc))
        src = next((s for _, s, loc in whole if m and loc == m.group(1)), None)
        if m and src is not None:
            return self._first_bad_row(family, columns, m.group(1), src.display)
        return diag.csv_error(exc, whole, columns)

    def _load_lenient(
        self, family: str, columns: tuple[str, ...], group: list[tuple[int, SourceFile, str]]
    ) -> None:
        """Materialise so rejected records and bad rows can be quarantined by line."""
        con = self.con
        mapping, _ = FAMILIES[family]
        present = {mapping[c] for c in columns}
        checks = rows.checks(family, present)
        reader = self._read_csv(family, columns, [loc for _, _, loc in group])
        typed = rows.typed_select(family, present)
        cols = ", ".join(n for n, _, _ in EVENT_COLUMNS)
        con.execute("DROP TABLE IF EXISTS raw_rows")
        try:
            con.execute(f"CREATE TEMP TABLE raw_rows AS SELECT * FROM {reader}")
        except duckdb.Error as exc:  # errors even lenient reading cannot step over
            raise diag.csv_error(exc, group, columns) from exc
        line = self._lenient_lines(group)
        bad_col = rows.case_sql(checks, then="column")
        bad_reason = rows.case_sql(checks, then="reason")
        raw_text = (
            "concat_ws(',', " + ", ".join(f"coalesce(r.{mapping[c]}, '')" for c in columns) + ")"
        )
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE checked AS
                SELECT *, {bad_col} AS _bad_col, {bad_reason} AS _bad_reason
                FROM ({
                rows.parsed(
                    family,
                    "raw_rows",
                    extra=f", {line} AS _line, {raw_text} AS _raw",
                    join="JOIN _file_map m ON r.filename = m._local "
                    "LEFT JOIN _line_fix f ON f.f = r.filename AND f.k = r.rowid - r._first",
                )
            })"""
        )
        bad_lines = con.execute(
            "SELECT filename, list(_line) FROM checked WHERE _bad_col IS NOT NULL GROUP BY ALL"
        ).fetchall()
        moved = [
            (f, rec, phys)
            for f, ls in bad_lines
            for rec, phys in diag.physical_lines(f, ls, count_blank=False).items()
            if rec != phys
        ]
        con.register(
            "_moved",
            pa.table(
                {
                    "f": pa.array([m[0] for m in moved], pa.string()),
                    "rec": pa.array([m[1] for m in moved], pa.int64()),
                    "line": pa.array([m[2] for m in moved], pa.int64()),
                }
            ),
        )
        con.execute(
            "INSERT INTO quarantine SELECT c.file_id, coalesce(p.line, c._line), c._bad_col, "
            "c._bad_reason, c._raw FROM checked c "
            "LEFT JOIN _moved p ON p.f = c.filename AND p.rec = c._line "
            "WHERE c._bad_col IS NOT NULL ORDER BY c._line"
        )
        con.unregister("_moved")
        good = f"SELECT {typed} FROM checked WHERE _bad_col IS NULL"
        con.execute(f"INSERT INTO staged SELECT {cols} FROM ({bng_select_sql(f'({good})')})")
        con.execute("DROP TABLE checked")
        con.execute("DROP TABLE raw_rows")

    def _first_bad_row(
        self, family: str, columns: tuple[str, ...], local: str, display: str
    ) -> InputError:
        """Find, in file order, the first row of ``local`` that fails a check.

        Runs on its own cursor: the failed INSERT has aborted the batch's transaction.
        """
        con = self.con.cursor()
        try:
            mapping, _ = FAMILIES[family]
            checks = rows.checks(family, {mapping[c] for c in columns})
            bad_col = rows.case_sql(checks, then="column")
            bad_reason = rows.case_sql(checks, then="reason")
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _one AS SELECT * FROM {self._read_csv(family, columns, [local])}"
            )
            row = con.execute(
                f"""SELECT _rid + 2, {bad_col} AS c, {bad_reason}
                    FROM ({rows.parsed(family, "_one", extra=", r.rowid AS _rid", join="")})
                    WHERE c IS NOT NULL ORDER BY _rid LIMIT 1"""
            ).fetchone()
            if row is None:  # pragma: no cover - the INSERT failed on this file, so a row exists
                return InputError("a row failed validation", path=display)
            line_no, col, reason = row
            value = con.execute(f"SELECT {col} FROM _one WHERE rowid = ?", [line_no - 2]).fetchone()
            con.execute("DROP TABLE _one")
        finally:
            con.close()
        line = diag.physical_lines(local, [int(line_no)], count_blank=False)[int(line_no)]
        # DuckDB drops an empty last field of an over-long record, shifting the others:
        # report the field count, which is the real fault, rather than the shifted value.
        fields = diag.record_fields(local, int(line_no) - 2)
        n = len(columns)
        if fields is not None and len(fields) != n:
            found = len(fields)
            what = "truncated record" if found < n else "extra field(s)"
            at = found + 1 if found < n else n + 1
            return InputError(
                f"{what}: expected {n} comma-separated fields, found {found}",
                path=display,
                line=line,
                column=at,
                column_name=columns[at - 1] if at <= n else None,
            )
        index = next(i for i, c in enumerate(columns, start=1) if mapping[c] == col)
        shown = "blank" if value is None or value[0] is None else repr(value[0])
        return InputError(
            f"{reason}; found {shown}",
            path=display,
            line=line,
            column=index,
            column_name=columns[index - 1],
        )

    def _lenient_lines(self, group: list[tuple[int, SourceFile, str]]) -> str:
        """Line of each row in ``raw_rows``; records DuckDB rejected shift them, so map back.

        Rejected records go straight to ``quarantine``. Adds ``_first`` (first rowid of each
        file) to ``raw_rows`` and registers ``_line_fix(f, k, l)``: the k-th surviving record
        of file f is on line l.
        """
        con = self.con
        con.execute(
            "CREATE OR REPLACE TEMP TABLE raw_rows AS SELECT *, "
            "min(rowid) OVER (PARTITION BY filename) AS _first FROM raw_rows ORDER BY rowid"
        )
        # One quarantine row per rejected record (DuckDB lists e.g. each missing column).
        rejects = con.execute(
            "SELECT s.file_path, e.line, e.column_name, e.error_type, e.csv_line "
            "FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id) "
            "QUALIFY row_number() OVER (PARTITION BY s.file_path, e.line ORDER BY e.column_idx) = 1"
        ).fetchall()
        by_local = {loc: fid for fid, _, loc in group}
        skipped: dict[str, set[int]] = {}
        for path, line_no, _, _, _ in rejects:
            if path in by_local:
                skipped.setdefault(path, set()).add(int(line_no))
        physical = {p: diag.physical_lines(p, ls, count_blank=True) for p, ls in skipped.items()}
        for path, line_no, col, err, raw in rejects:
            if path in by_local:
                con.execute(
                    "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?)",
                    [
                        by_local[path],
                        physical[path][int(line_no)],
                        col,
                        f"unreadable CSV record ({err})",
                        raw,
                    ],
                )
        con.execute("DELETE FROM reject_errors")
        con.execute("DELETE FROM reject_scans")
        tables = []
        for path, gone in skipped.items():
            n = con.execute("SELECT count(*) FROM raw_rows WHERE filename = ?", [path]).fetchone()
            kept = int(n[0]) if n else 0
            # Lines 2.. of the file, minus the rejected ones: the k-th is row k's line.
            lines = np.setdiff1d(np.arange(2, kept + len(gone) + 2), np.fromiter(gone, int))[:kept]
            tables.append(
                pa.table(
                    {
                        "f": pa.array([path] * kept, pa.string()),
                        "k": pa.array(np.arange(kept), pa.int64()),
                        "l": pa.array(lines, pa.int64()),
                    }
                )
            )
        empty = pa.table(
            {
                "f": pa.array([], pa.string()),
                "k": pa.array([], pa.int64()),
                "l": pa.array([], pa.int64()),
            }
        )
        con.register("_line_fix", pa.concat_tables(tables) if tables else empty)
        return "CAST(coalesce(f.l, r.rowid - r._first + 2) AS INTEGER)"

    # -- de-duplication ---------------------------------------------------------------------
    def _identities(self, files: list[tuple[int, SourceFile, Header, str]]) -> set[int]:
        """Register ``_identity`` (each file's family, force, month); return the losers.

        Supersession is decided per *file*, on its identity (family, force, month from its
        name or archive folder): a row's own date never decides which file it belongs to, so
        a late search listed in the next month's file cannot make a whole month vanish.
        Several files of this batch with one identity: the one listed last wins, the others
        (*losers*) are read and checked but none of their rows is loaded.
        """
        owner: dict[FileIdentity, int] = {}
        identity: dict[int, FileIdentity] = {}
        for file_id, src, header, _ in files:
            ident = identity_of(src)
            if ident is not None and ident.family == header.family:
                owner[ident] = file_id
                identity[file_id] = ident
        losers = {fid for fid, ident in identity.items() if owner[ident] != fid}
        self.con.register(
            "_identity",
            pa.table(
                {
                    "file_id": pa.array(list(identity), pa.int32()),
                    "kind": pa.array([i.family for i in identity.values()], pa.string()),
                    "file_force": pa.array([i.force for i in identity.values()], pa.string()),
                    "file_month": pa.array(
                        [datetime.strptime(i.month, "%Y-%m").date() for i in identity.values()],
                        pa.date32(),
                    ),
                    "loser": pa.array([fid in losers for fid in identity], pa.bool_()),
                }
            ),
        )
        return losers

    def _supersede(self) -> dict[int, int]:
        """Delete the rows of earlier loads of a file this batch loads again; rows per new file."""
        con = self.con
        self.progress("superseding", 0, 1)
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _earlier AS
                SELECT f.file_id AS old, i.file_id AS new FROM ingest_files f
                JOIN _identity i ON NOT i.loser AND f.kind = i.kind
                  AND f.file_force = i.file_force AND f.file_month = i.file_month"""
        )
        superseded = dict(
            con.execute(
                "SELECT o.new, count(*) FROM events e JOIN _earlier o ON e.file_id = o.old "
                "GROUP BY ALL"
            ).fetchall()
        )
        if superseded:
            con.execute("DELETE FROM events WHERE file_id IN (SELECT old FROM _earlier)")
        self.progress("superseding", 1, 1)
        return superseded

    def _fold(self, losers: set[int]) -> dict[str, dict[int, int]]:
        """Apply the de-duplication rules to ``staged`` (:meth:`_write_staged` moves the rest).

        ``staged`` holds the rows that may fold and, in lenient mode, every row. Decisions
        come from small GROUP BY results and the surplus rows are left out by an anti-join on
        the way in: deleting from a table that this transaction has just bulk-written would
        make DuckDB's commit rewrite it.
        """
        con = self.con
        # One pass: rows per file, and those dated outside the file's month.
        per_file = con.execute(
            "SELECT s.file_id, count(*), count(*) FILTER (s.month <> i.file_month) "
            "FROM staged s LEFT JOIN _identity i ON s.file_id = i.file_id GROUP BY ALL"
        ).fetchall()
        staged = {fid: int(n) for fid, n, _ in per_file}
        outside = {fid: int(k) for fid, _, k in per_file if k and fid not in losers}
        dropped = {fid: staged.get(fid, 0) for fid in losers}
        drop = " ANTI JOIN _identity l ON s.file_id = l.file_id AND l.loser" if losers else ""
        # One street row per Crime ID and month, preferring the one with a location.
        self.progress("folding", 0, 1)
        keyed = "source = 'street' AND crime_id IS NOT NULL"
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _surplus AS
                SELECT rid, file_id, month FROM (
                  SELECT s.rowid AS rid, s.file_id, s.month, row_number() OVER (
                    PARTITION BY s.crime_id, s.month ORDER BY (s.x IS NULL), s.file_id, s.rowid
                  ) AS k
                  FROM staged s{drop} WHERE {keyed} AND (crime_id, month) IN (
                    SELECT (crime_id, month) FROM staged s{drop} WHERE {keyed}
                    GROUP BY crime_id, month HAVING count(*) > 1))
                WHERE k > 1"""
        )
        folded = dict(con.execute("SELECT file_id, count(*) FROM _surplus GROUP BY ALL").fetchall())
        # Folded rows are not loaded: take those dated outside their file's month back off.
        for fid, k in con.execute(
            "SELECT u.file_id, count(*) FROM _surplus u JOIN _identity i ON u.file_id = i.file_id "
            "WHERE u.month <> i.file_month GROUP BY ALL"
        ).fetchall():
            outside[fid] -= int(k)
        self.progress("folding", 1, 1)
        return {"staged": staged, "dropped": dropped, "folded": folded, "outside": outside}

    def _write_staged(self, losers: set[int], folded: bool) -> None:
        """Move the staged rows that survive the fold (and are not losers') into ``events``."""
        con = self.con
        drop = " ANTI JOIN _identity l ON s.file_id = l.file_id AND l.loser" if losers else ""
        surplus = " ANTI JOIN _surplus u ON s.rowid = u.rid" if folded else ""
        self.progress("writing", 0, 1)
        con.execute(f"INSERT INTO events SELECT s.* FROM staged s{drop}{surplus}")
        self.progress("writing", 1, 1)
        con.execute("DROP TABLE staged")
        con.unregister("_identity")

    def _record(
        self,
        batch_id: int,
        started: datetime,
        files: list[tuple[int, SourceFile, Header, str]],
        by_display: dict[str, FileReport],
        dedup: dict[str, dict[int, int]],
    ) -> None:
        con = self.con
        first = files[0][0]
        quarantined = dict(
            con.execute(
                "SELECT file_id, count(*) FROM quarantine WHERE file_id >= ? GROUP BY ALL", [first]
            ).fetchall()
        )
        now = datetime.now(UTC).replace(tzinfo=None)
        cols: dict[str, list[object]] = {c: [] for c in _FILE_COLUMNS}
        for file_id, src, header, digest in files:
            fr = by_display[src.display]
            dropped = int(dedup["dropped"].get(file_id, 0))
            staged = int(dedup["staged"].get(file_id, 0))
            fr.rows_folded = int(dedup["folded"].get(file_id, 0))
            fr.rows_loaded = staged - dropped - fr.rows_folded
            fr.rows_quarantined = int(quarantined.get(file_id, 0))
            fr.rows_superseded = int(dedup["superseded"].get(file_id, 0)) + dropped
            fr.rows_read = staged + fr.rows_quarantined
            fr.rows_outside_month = int(dedup["outside"].get(file_id, 0))
            ident = fr.identity if fr.identity and fr.identity.family == header.family else None
            values = (
                file_id,
                batch_id,
                str(src.path),
                src.member,
                digest,
                header.family,
                fr.rows_read,
                fr.rows_loaded,
                fr.rows_folded,
                fr.rows_quarantined,
                fr.rows_superseded,
                now,
                ident.force if ident else None,
                datetime.strptime(ident.month, "%Y-%m").date() if ident else None,
                fr.rows_outside_month,
            )
            for c, v in zip(_FILE_COLUMNS, values, strict=True):
                cols[c].append(v)
        # One statement for the batch's files (195 for the national extract), not one each.
        con.register("_files", pa.table(cols))
        con.execute(f"INSERT INTO ingest_files ({', '.join(_FILE_COLUMNS)}) SELECT * FROM _files")
        con.unregister("_files")
        reps = [by_display[src.display] for _, src, _, _ in files]
        con.execute(
            "INSERT INTO ingest_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch_id,
                started,
                now,
                "lenient" if self.lenient else "strict",
                len(files),
                sum(r.rows_loaded for r in reps),
                sum(r.rows_folded for r in reps),
                sum(r.rows_quarantined for r in reps),
                sum(r.rows_superseded for r in reps),
            ],
        )


#: The ``ingest_files`` columns :meth:`_Batch._record` fills, in its order.
_FILE_COLUMNS = (
    "file_id",
    "batch_id",
    "path",
    "member",
    "sha256",
    "kind",
    "rows_read",
    "rows_loaded",
    "rows_folded",
    "rows_quarantined",
    "rows_superseded",
    "ingested_at",
    "file_force",
    "file_month",
    "rows_outside_month",
)


def _parts(locals_: list[ingest_local.LocalFile]) -> list[tuple[ingest_local.LocalFile, str]]:
    """Every plain part DuckDB reads, with the file it comes from."""
    return [(lf, p) for lf in locals_ for p in (lf.direct, lf.apart) if p]


def _file_map(members: list[tuple[int, SourceFile, str]]) -> pa.Table:
    """``_file_map(_local, file_id, _slug)``: which file each local path is a part of."""
    return pa.table(
        {
            "_local": pa.array([loc for _, _, loc in members], pa.string()),
            "file_id": pa.array([fid for fid, _, _ in members], pa.int32()),
            "_slug": pa.array(
                [force_of(src) or Path(src.name).name for _, src, _ in members], pa.string()
            ),
        }
    )
