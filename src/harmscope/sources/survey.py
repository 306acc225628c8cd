"""Community survey responses in the warehouse (table ``survey_responses``).

The simulator writes ``survey/responses.csv`` (one row per respondent: ``month``,
``lsoa_code`` and coded answers); a force's own survey in the same columns loads the same
way. The table is defined with every other in :mod:`harmscope.warehouse.schema`; this module
reads and checks files (:func:`read_survey`) and writes them through a connection the
warehouse layer opens (:func:`write_survey`). ``harmscope.evaluate.survey`` offers
``load_survey(path, db=...)`` on top, for the evaluation that reads the table.

Codes (``survey/codebook.csv``): ``drug_problem`` 1-4 (not a problem at all … very big
problem), ``confidence_in_police`` 1-5 (strongly disagree … strongly agree),
``feel_safe_after_dark`` 1-4 (very unsafe … very safe).

References
----------
Office for National Statistics. *Crime Survey for England and Wales* questionnaire
(confidence in the local police; perceptions of drug use or dealing as a problem; feeling safe
walking alone after dark), the wording the simulator's codebook follows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from types import MappingProxyType

import duckdb
import pandas as pd

from harmscope.errors import InputError
from harmscope.sources.base import (
    Batch,
    Discovery,
    Family,
    Progress,
    Provenance,
    SourceFile,
    check_columns,
    no_lenient,
    read_csv_header,
    walk,
)

__all__ = [
    "ADAPTER",
    "SURVEY_COLUMNS",
    "Survey",
    "read_survey",
    "survey_exists",
    "write_survey",
]

#: Columns a survey file must have, with the range of valid codes (None = not a code).
SURVEY_COLUMNS: dict[str, tuple[int, int] | None] = {
    "month": None,
    "lsoa_code": None,
    "drug_problem": (1, 4),
    "confidence_in_police": (1, 5),
    "feel_safe_after_dark": (1, 4),
}


def survey_exists(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse has a survey table with rows."""
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'survey_responses'"
    ).fetchone()
    if not found or not found[0]:
        return False
    rows = con.execute("SELECT count(*) FROM survey_responses").fetchone()
    return bool(rows and rows[0])


def read_survey(path: str | Path) -> pd.DataFrame:
    """Read and check one survey CSV: the rows to load, with their file's ``file_sha256``.

    Raises :class:`InputError` naming file, line and column on the first bad value.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", path=str(p))
    raw = p.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    try:
        frame = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV ({exc})", path=str(p)) from None
    header = list(frame.columns)
    missing = [c for c in SURVEY_COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; expected {', '.join(SURVEY_COLUMNS)}",
            path=str(p),
            line=1,
        )
    out = pd.DataFrame({"lsoa_code": frame["lsoa_code"].str.strip().replace("", None)})
    months = pd.to_datetime(frame["month"].str.strip(), format="%Y-%m", errors="coerce")
    bad = months.isna()
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise InputError(
            f"month {frame['month'].iat[i]!r}: expected YYYY-MM",
            path=str(p),
            line=i + 2,
            column=header.index("month") + 1,
            column_name="month",
        )
    out.insert(0, "month", months.dt.date)
    for col, bounds in SURVEY_COLUMNS.items():
        if bounds is None:
            continue
        text = frame[col].str.strip()
        values = pd.to_numeric(text.replace("", None), errors="coerce")
        lo, hi = bounds
        wrong = (text != "") & (values.isna() | (values < lo) | (values > hi) | (values % 1 != 0))
        if wrong.any():
            i = int(wrong.to_numpy().argmax())
            raise InputError(
                f"{frame[col].iat[i]!r}: expected a code from {lo} to {hi} or blank",
                path=str(p),
                line=i + 2,
                column=header.index(col) + 1,
                column_name=col,
            )
        out[col] = values.astype("Int64")
    for col in RANK_COLUMNS:  # optional: the harm ranking, for the board's community weights
        if col in frame.columns:
            out[col] = frame[col].str.strip().replace("", None)
    out["file_sha256"] = sha
    return out


def write_survey(con: duckdb.DuckDBPyConnection, frames: Sequence[pd.DataFrame]) -> int:
    """Insert checked survey frames and their harm rankings, all or nothing (see
    :func:`_write_survey`); inside the caller's transaction when there is one."""
    try:
        con.execute("BEGIN TRANSACTION")
    except duckdb.TransactionException:  # the caller's transaction holds both inserts
        return _write_survey(con, frames)
    try:
        rows = _write_survey(con, frames)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return rows


def _write_survey(con: duckdb.DuckDBPyConnection, frames: Sequence[pd.DataFrame]) -> int:
    """Insert checked survey frames (:func:`read_survey`) into ``survey_responses``.

    One INSERT statement, so all or nothing; content (SHA-256) loaded before, or given twice,
    is left out, which makes loading idempotent. The table must exist (the warehouse creates
    it when opened for writing). Returns the rows written.
    """
    _write_ranks(con, frames)
    loaded = {
        r[0] for r in con.execute("SELECT DISTINCT file_sha256 FROM survey_responses").fetchall()
    }
    new = [f for f in frames if len(f) and f["file_sha256"].iat[0] not in loaded]
    # The same bytes given twice in one batch load once.
    unique = list({f["file_sha256"].iat[0]: f for f in new}.values())
    if not unique:
        return 0
    con.register("_hs_survey", pd.concat(unique, ignore_index=True))
    try:
        con.execute(
            "INSERT INTO survey_responses SELECT month, lsoa_code, drug_problem, "
            "confidence_in_police, feel_safe_after_dark, file_sha256 FROM _hs_survey"
        )
    finally:
        con.unregister("_hs_survey")
    return sum(len(f) for f in unique)


#: Optional columns: "which three of these harm your area most" (table survey_harm_ranks).
RANK_COLUMNS = ("harm_rank_1", "harm_rank_2", "harm_rank_3")


def _write_ranks(con: duckdb.DuckDBPyConnection, frames: Sequence[pd.DataFrame]) -> None:
    """Insert the harm rankings of frames not loaded yet (also for a survey loaded before
    the rankings were kept), in the caller's transaction."""
    loaded = {
        r[0] for r in con.execute("SELECT DISTINCT file_sha256 FROM survey_harm_ranks").fetchall()
    }
    new = {
        f["file_sha256"].iat[0]: f
        for f in frames
        if len(f) and "harm_rank_1" in f.columns and f["file_sha256"].iat[0] not in loaded
    }
    for f in new.values():
        rows = f.reindex(columns=["month", "lsoa_code", *RANK_COLUMNS, "file_sha256"])
        con.register("_hs_ranks", rows[rows["harm_rank_1"].notna()])
        try:
            con.execute("INSERT INTO survey_harm_ranks SELECT * FROM _hs_ranks")
        finally:
            con.unregister("_hs_ranks")


RESPONSES = Family(
    "responses",
    ("survey_responses",),
    {c: c for c in SURVEY_COLUMNS},
    tuple(SURVEY_COLUMNS),
    closed=False,  # a survey file may carry other questions; only these are loaded
    description="one row per respondent: month, LSOA and coded answers",
)


class Survey:
    """Source adapter for community survey responses (:func:`read_survey`, :func:`write_survey`).

    Strict (the first bad value fails the file, naming line and column), one transaction per
    file, identical content (SHA-256) loaded once.
    """

    name = "survey"
    families = MappingProxyType({"responses": RESPONSES})

    def discover(self, paths: Iterable[str | Path]) -> Discovery:
        return walk(paths, lambda src: self.recognise(src) is not None)

    def recognise(self, src: SourceFile) -> str | None:
        if not src.name.lower().endswith(".csv"):
            return None
        cols = read_csv_header(src)
        return "responses" if cols is not None and set(SURVEY_COLUMNS) <= set(cols) else None

    def check_columns(self, src: SourceFile) -> Family:
        check_columns(RESPONSES, read_csv_header(src) or (), path=src.display, what="survey")
        return RESPONSES

    def provenance(self, src: SourceFile) -> Provenance:
        return Provenance(self.name, "responses", src.display, src.sha256())

    def prepare(
        self,
        paths: Sequence[str | Path],
        *,
        lenient: bool = False,
        progress: Progress | None = None,
    ) -> Batch:
        no_lenient(self.name, lenient)
        files = self.discover(paths).files
        frames = []
        for k, src in enumerate(files):
            if progress:
                progress("checking survey files", k, len(files))
            if src.member is not None:
                raise InputError(
                    "survey files are read from disk, not from archives", path=src.display
                )
            frames.append(read_survey(src.path))
        # Every file is checked before anything is written: one bad file loads nothing.
        return Batch(self.name, len(files), partial(write_survey, frames=frames))


ADAPTER = Survey()
