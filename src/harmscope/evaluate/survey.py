"""Community survey responses in the warehouse (table ``survey_responses``).

The simulator writes ``survey/responses.csv`` (one row per respondent: ``month``,
``lsoa_code`` and coded answers); a force's own survey in the same columns loads the same
way. The table is created here, not in the warehouse schema, because only the evaluation
reads it.

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
from pathlib import Path

import duckdb
import pandas as pd

from harmscope.errors import InputError

__all__ = ["SURVEY_COLUMNS", "SURVEY_DDL", "load_survey", "survey_exists"]

#: Columns a survey file must have, with the range of valid codes (None = not a code).
SURVEY_COLUMNS: dict[str, tuple[int, int] | None] = {
    "month": None,
    "lsoa_code": None,
    "drug_problem": (1, 4),
    "confidence_in_police": (1, 5),
    "feel_safe_after_dark": (1, 4),
}

SURVEY_DDL = """CREATE TABLE IF NOT EXISTS survey_responses (
    month DATE NOT NULL,
    lsoa_code VARCHAR,
    drug_problem INTEGER,
    confidence_in_police INTEGER,
    feel_safe_after_dark INTEGER,
    file_sha256 VARCHAR NOT NULL
)"""


def survey_exists(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse has a survey table with rows."""
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'survey_responses'"
    ).fetchone()
    if not found or not found[0]:
        return False
    rows = con.execute("SELECT count(*) FROM survey_responses").fetchone()
    return bool(rows and rows[0])


def load_survey(path: str | Path, *, db: str | Path | None = None) -> int:
    """Load survey responses (CSV) into the warehouse table ``survey_responses``.

    Parameters
    ----------
    path : str or Path
        CSV with at least the columns of :data:`SURVEY_COLUMNS`.
    db : str or Path, optional
        Warehouse file.

    Returns
    -------
    int
        Rows loaded (0 when the same file content was loaded before: loading is idempotent).

    Raises
    ------
    InputError
        A missing column, a month that is not ``YYYY-MM`` or a code out of range; the message
        names the file, line and column. Nothing is loaded then.
    """
    from harmscope.warehouse import connect

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
    out["file_sha256"] = sha
    con = connect(db)
    try:
        con.execute(SURVEY_DDL)
        seen = con.execute(
            "SELECT count(*) FROM survey_responses WHERE file_sha256 = ?", [sha]
        ).fetchone()
        if seen and seen[0]:
            return 0
        con.register("_hs_survey", out)
        con.execute(
            "INSERT INTO survey_responses SELECT month, lsoa_code, drug_problem, "
            "confidence_in_police, feel_safe_after_dark, file_sha256 FROM _hs_survey"
        )
        con.unregister("_hs_survey")
    finally:
        con.close()
    return len(out)
