"""CSV output that spreadsheets will not execute. Every CSV HarmScope writes goes through here.

Spreadsheet programs read a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some
of them, tab or carriage return) as a formula, so text that came from a police.uk file,
such as a Location of ``=cmd|' /C calc'!A0``, could run when an analyst opens our export
(OWASP, *CSV Injection*). :func:`write_csv` prefixes such cells with a single quote, which
makes the spreadsheet show them as text. Plain numbers are left alone, so ``-3.5`` (a
string or a float) stays a number. Fields that contain the delimiter, quotes or line breaks
are quoted, so a cell cannot spill into its neighbours either.

:func:`write_csv` serves tables held in Python (DataFrames, rows). Warehouse-sized output
(:func:`export_events`) applies the same rule inside the engine (:func:`neutralise_sql`)
and lets DuckDB write the file; the tests check that the two forms agree.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import re
import shutil
import tempfile
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import IO, Any

import duckdb
import numpy as np
import pandas as pd

from harmscope.harm.schemes import Scheme, load_scheme
from harmscope.harm.weigh import OUTCOME_SOURCE, STOP_AND_SEARCH, STOP_SEARCH_SOURCE
from harmscope.periods import Months, parse_month
from harmscope.warehouse.handle import Warehouse
from harmscope.warehouse.schema import EVENT_COLUMNS

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP list)."""

_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

EVENT_SOURCES = ("street", "outcome", "stop_search")


def neutralise(value: Any) -> Any:
    """``value`` made inert for a spreadsheet: text that could start a formula gets a ``'``.

    Numbers (including numpy numbers and booleans) and strings that are plain decimal
    numbers (``-3.5``, ``+12``, ``1e-3``) come back unchanged; so does anything that does
    not start with one of :data:`FORMULA_TRIGGERS`. Other objects are judged by ``str()``.
    """
    if value is None or isinstance(value, numbers.Number):
        return value
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return value


def _cell(value: Any) -> Any:
    """A neutralised cell as the csv module should write it (missing values are empty)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value is pd.NaT or value is pd.NA:
        return ""
    return neutralise(value)


@contextmanager
def _text_out(file: str | Path | IO[str]) -> Iterator[IO[str]]:
    if isinstance(file, str | Path):
        with open(file, "w", newline="", encoding="utf-8") as fh:
            yield fh
    else:
        yield file


def write_csv(
    data: pd.DataFrame | Iterable[Mapping[str, Any]] | Iterable[Sequence[Any]],
    file: str | Path | IO[str],
    columns: Sequence[str] | None = None,
    *,
    header: bool = True,
) -> int:
    """Write rows as CSV with every text cell neutralised (see :func:`neutralise`).

    Parameters
    ----------
    data : DataFrame, iterable of mappings, or iterable of sequences
        The rows. A DataFrame's index is not written.
    file : path or text stream
        A path is opened (UTF-8, created or replaced); a stream is written to and left
        open (open files with ``newline=""``).
    columns : sequence of str, optional
        Columns to write, in order. Default: the DataFrame's columns, or the keys of the
        first mapping. Sequences are written as they are, under ``columns`` if given.
    header : bool
        Write the header line (also neutralised).

    Returns
    -------
    int
        Number of data rows written.
    """
    with _text_out(file) as fh:
        writer = csv.writer(fh, lineterminator="\n")
        if isinstance(data, pd.DataFrame):
            cols = list(data.columns) if columns is None else list(columns)
            if header and cols:
                writer.writerow([_cell(str(c)) for c in cols])
            if len(cols) < 2:
                # a one-column row of an empty cell is written '""' by the csv module
                writer.writerows(zip(*(_csv_column(data[c]) for c in cols), strict=True))
                return len(data)
            # Column by column, each cell made text once per distinct value, and each line
            # joined in C (issue 13: the csv module's per-character loop over a board's long
            # reasons took most of a 1/8 national run's CSV time); the bytes are the csv
            # module's (tests/warehouse/test_warehouse_export.py).
            texts = [_csv_texts(data[c]) for c in cols]
            for start in range(0, len(data), _LINES_PER_WRITE):
                block = [t[start : start + _LINES_PER_WRITE] for t in texts]
                fh.write("".join([",".join(row) + "\n" for row in zip(*block, strict=True)]))
            return len(data)
        cols, rows = _plain_rows(data, columns)
        if header and cols:
            writer.writerow([_cell(str(c)) for c in cols])
        n = 0
        for row in rows:
            writer.writerow([_cell(v) for v in row])
            n += 1
    return n


#: Lines joined per write of :func:`write_csv` (bounds the text held at once).
_LINES_PER_WRITE = 20_000


def _quote_chars() -> str:
    """The characters that make the csv module quote a field (QUOTE_MINIMAL, ``"\\n"`` lines).

    Asked of the running csv module rather than assumed: Python 3.11 quotes a field holding
    ``,``, ``"`` or ``\\n`` but not ``\\r``, which later versions may change. The tests
    check every code point against this answer.
    """
    found = ""
    for char in (",", '"', "\n", "\r"):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([f"a{char}b", "c"])
        if buf.getvalue().startswith('"'):
            found += char
    return found


_QUOTED = re.compile("[" + re.escape(_quote_chars()) + "]")


def _field(value: Any) -> str:
    """One cell of :func:`_cell` as the csv module writes it in a row of several fields."""
    text = value if isinstance(value, str) else str(value)
    if _QUOTED.search(text) is None:
        return text
    return '"' + text.replace('"', '""') + '"'


def _csv_texts(values: pd.Series) -> list[str]:
    """One column's cells as written in a row of several fields (:func:`_cell`, quoted).

    Every distinct value is made text once (a float column of a board repeats a few
    thousand values over a hundred thousand rows); numbers need no formula check and no
    quotes. Floats print as the csv module prints them (``repr``), NaN as an empty cell.
    """
    dtype = values.dtype
    kind = dtype.kind if isinstance(dtype, np.dtype) else ""
    if kind in ("i", "u", "b") or (kind == "" and pd.api.types.is_integer_dtype(dtype)):
        # never text; a nullable integer's missing value (code -1) is an empty cell
        codes, uniques = pd.factorize(values)
        texts = [str(v) for v in uniques.tolist()]
    elif dtype == np.float64:
        # factorised by bit pattern, so -0.0 stays apart from 0.0, as repr keeps them
        codes, bits = pd.factorize(values.to_numpy().view(np.int64))
        texts = ["" if v != v else repr(v) for v in bits.view(np.float64).tolist()]
    elif kind == "O" and pd.api.types.infer_dtype(values, skipna=True) == "string":
        # Text and missing values only: factorize maps None, NaN, NA and NaT to -1 (empty).
        codes, uniques = pd.factorize(values)
        texts = [_field(_cell(v)) for v in uniques.tolist()]
    else:
        return [_field(v) for v in _csv_column(values)]
    return np.array([*texts, ""], dtype=object)[codes].tolist()


def _csv_column(values: pd.Series) -> list[Any]:
    """One column's cells as :func:`_cell` makes them, without a Python call per cell.

    Numbers need no check; a text column is checked once per distinct value (a board's
    ``lens`` or ``harm_view`` repeats one value on every row). Other columns (mixed
    objects, where ``1``, ``1.0`` and ``True`` must stay apart) go cell by cell.
    """
    dtype = values.dtype
    kind = dtype.kind if isinstance(dtype, np.dtype) else ""
    if kind in ("i", "u", "b"):  # never missing, never text
        return values.tolist()
    if kind == "f" or pd.api.types.is_integer_dtype(dtype):  # float, or nullable integer
        return values.astype(object).where(values.notna(), "").tolist()
    if kind == "O" and pd.api.types.infer_dtype(values, skipna=True) == "string":
        # Text and missing values only: factorize maps None, NaN, NA and NaT to -1 (empty).
        codes, uniques = pd.factorize(values)
        texts: list[str] = uniques.tolist()
        cells = np.array([*texts, ""], dtype=object)
        # Only text starting with a trigger can change (a hot-spot table's names are 80,000
        # distinct strings: a full check of each cost a third of a second).
        for i, text in enumerate(texts):
            if text.startswith(FORMULA_TRIGGERS):
                cells[i] = _cell(text)
        return cells[codes].tolist()
    return [_cell(v) for v in values.tolist()]


def _plain_rows(
    data: Iterable[Mapping[str, Any]] | Iterable[Sequence[Any]], columns: Sequence[str] | None
) -> tuple[list[str], Iterator[Sequence[Any]]]:
    """Column names and value sequences of mapping or sequence rows."""
    it: Iterator[Any] = iter(data)
    first = next(it, None)
    if first is None:
        return list(columns or ()), iter(())
    rows = chain([first], it)
    if isinstance(first, Mapping):
        cols = list(first) if columns is None else list(columns)
        return cols, ([r.get(c) for c in cols] for r in rows)
    return list(columns or ()), rows


def neutralise_sql(expr: str) -> str:
    """SQL (DuckDB) for :func:`neutralise` of a VARCHAR expression: the same rule in the engine.

    Used where a table is too large to pass through Python cell by cell; the tests check
    that both forms agree on arbitrary text.
    """
    triggers = ", ".join(f"chr({ord(c)})" for c in FORMULA_TRIGGERS)
    number = _PLAIN_NUMBER.pattern.replace("'", "''")
    return (
        f"CASE WHEN left({expr}, 1) IN ({triggers}) "
        f"AND NOT regexp_full_match({expr}, '{number}') "
        f"THEN chr(39) || {expr} ELSE {expr} END"
    )


def export_events(
    con_or_db: duckdb.DuckDBPyConnection | str | Path | None,
    *,
    out: str | Path | IO[str],
    months: Months | None = None,
    source: str | None = None,
    types: Collection[str] | None = None,
    scheme: str | Path | Scheme = "cchi",
    cell_size: float = 250.0,
) -> int:
    """Write warehouse events as CSV (the event schema, each event's weight and cell), inert text.

    The engine writes the file (DuckDB ``COPY``) with every text column passed through
    :func:`neutralise_sql`, so a national extract of millions of rows takes seconds.
    Numbers stay numbers, missing values are empty, booleans are ``true``/``false``.

    Parameters
    ----------
    con_or_db : DuckDB connection, Warehouse, warehouse path, or None
        An open connection or :class:`~harmscope.warehouse.handle.Warehouse` (left open), or
        the warehouse file (None: the default one).
    out : path or text stream
        Where the CSV goes (a path is written whole, then renamed over any file there).
    months : (from, to), optional
        Inclusive month bounds, ``'YYYY-MM'`` or dates; either end may be None (open).
    source : str, optional
        Only this file family: ``street``, ``outcome`` or ``stop_search``.
    types : collection of str, optional
        Only these crime types, any case (``'Stop and search'`` for searches; outcome rows
        keep their crime's type), as :func:`harmscope.harm.weigh.select_events`.
    scheme : str, path or Scheme, default 'cchi'
        Weight scheme of the ``weight`` and ``kind`` columns.
    cell_size : float, default 250
        Grid cell side, metres, of ``cell_id``, ``cell_x``, ``cell_y``.

    Returns
    -------
    int
        Number of events written.

    Notes
    -----
    ``month`` is written ``YYYY-MM`` and the BNG ``x``, ``y`` to the metre (longitude and
    latitude as police.uk gives them). After the event schema's columns come :data:`EXPORT_EXTRA_COLUMNS`: ``weight`` (one
    event's harm or activity in the scheme's unit, e.g. days of imprisonment; empty for
    outcome rows and types the scheme does not weigh, as every analysis leaves them out),
    ``kind`` (``harm`` or ``activity``), and the event's grid cell: ``cell_x``, ``cell_y``
    (lower-left corner, metres, EPSG:27700: ``floor(x / size) * size``, as
    :func:`harmscope.places.grid.with_cells`) and ``cell_id`` (``cell-250m-533250-181500``,
    the id of place rows in ``priorities``); empty without a location.

    Raises
    ------
    ValueError
        A month that is not ``YYYY-MM``, an unknown ``source`` or a bad ``cell_size``.
    """
    where = []
    lo, hi = months if months is not None else (None, None)
    if lo is not None:
        where.append(f"e.month >= DATE '{parse_month(lo).isoformat()}'")
    if hi is not None:
        where.append(f"e.month <= DATE '{parse_month(hi).isoformat()}'")
    if source is not None:
        if source not in EVENT_SOURCES:
            raise ValueError(f"source {source!r}: expected one of {', '.join(EVENT_SOURCES)}")
        where.append(f"e.source = '{source}'")
    if types is not None:
        # The scheme key of select_events: searches are 'Stop and search' whatever their type.
        names = ", ".join("'" + t.strip().lower().replace("'", "''") + "'" for t in types)
        key = "CASE WHEN e.source = 'stop_search' THEN 'Stop and search' ELSE e.event_type END"
        where.append(f"lower({key}) IN ({names or 'NULL'})")
    if not (math.isfinite(cell_size) and cell_size > 0):
        raise ValueError(f"cell size must be a positive number of metres, got {cell_size!r}")
    weights = load_scheme(scheme).to_frame()
    select = ", ".join(_column_sql(name, typ) for name, typ, _ in EVENT_COLUMNS)
    query = (
        f"SELECT {select}, w.weight, w.kind, {_cell_sql(cell_size)} "
        f"FROM events e LEFT JOIN {_WEIGHTS} w ON w.event_type = {_key_sql()}"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + " ORDER BY e.month, e.source, e.file_id, e.rowid"
    )
    if isinstance(con_or_db, duckdb.DuckDBPyConnection):
        return _write_weighted(con_or_db, weights, query, out)
    with Warehouse.of(con_or_db) as wh:
        return _write_weighted(wh.con, weights, query, out)


#: Columns :func:`export_events` adds after the event schema's.
EXPORT_EXTRA_COLUMNS = ("weight", "kind", "cell_x", "cell_y", "cell_id")

_WEIGHTS = "_hs_export_weights"


def _column_sql(name: str, typ: str) -> str:
    """One event column as people read it: text inert, ``month`` as ``YYYY-MM``, BNG ``x``
    and ``y`` to the metre (police.uk snaps points to anonymous map points anyway)."""
    if typ == "VARCHAR":
        return f"{neutralise_sql('e.' + name)} AS {name}"
    if name == "month":
        return "strftime(e.month, '%Y-%m') AS month"
    if name in ("x", "y"):
        return f"CAST(round(e.{name}) AS BIGINT) AS {name}"
    return f"e.{name}"


def _key_sql() -> str:
    """The scheme key of an event (as :func:`harmscope.harm.weigh.event_key`); outcome rows
    (what happened to a crime, not an event of its own) get none, as :func:`weigh` drops them."""
    return (
        f"CASE WHEN e.source = '{OUTCOME_SOURCE}' THEN NULL "
        f"WHEN e.source = '{STOP_SEARCH_SOURCE}' THEN '{STOP_AND_SEARCH}' "
        "ELSE e.event_type END"
    )


def _cell_sql(cell_size: float) -> str:
    """``cell_x``, ``cell_y``, ``cell_id`` of ``e.x``, ``e.y`` at ``cell_size`` (SQL)."""
    whole = float(cell_size).is_integer()
    size = str(int(cell_size)) if whole else repr(float(cell_size))
    kind = "BIGINT" if whole else "DOUBLE"
    corner = {axis: f"CAST(floor(e.{axis} / {size}) * {size} AS {kind})" for axis in ("x", "y")}
    label = f"{float(cell_size):g}"
    return (
        f"{corner['x']} AS cell_x, {corner['y']} AS cell_y, "
        f"'cell-{label}m-' || {corner['x']} || '-' || {corner['y']} AS cell_id"
    )


def _write_weighted(
    con: duckdb.DuckDBPyConnection, weights: pd.DataFrame, query: str, out: str | Path | IO[str]
) -> int:
    """:func:`_write_query` with the scheme's weights visible to the query as a view."""
    con.register(_WEIGHTS, weights)
    try:
        return _write_query(con, query, out)
    finally:
        con.unregister(_WEIGHTS)


def _write_query(con: duckdb.DuckDBPyConnection, query: str, out: str | Path | IO[str]) -> int:
    """Write ``query``'s rows as CSV to a path or a text stream; the number of rows.

    A path gets the whole file or nothing: DuckDB writes a hidden file beside it, renamed
    over it once complete.
    """
    if isinstance(out, str | Path):
        target = Path(out)
        part = target.with_name(f".{target.name}.part")
        try:
            n = _copy_csv(con, query, part)
            part.replace(target)
        finally:
            part.unlink(missing_ok=True)
        return n
    with tempfile.TemporaryDirectory(prefix="harmscope-export-") as tmp:
        path = Path(tmp) / "events.csv"
        n = _copy_csv(con, query, path)
        with open(path, newline="", encoding="utf-8") as fh:
            shutil.copyfileobj(fh, out)
        return n


def _copy_csv(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> int:
    """Run ``query`` into a CSV file at ``path``; the number of rows written."""
    target = str(path).replace("'", "''")
    row = con.execute(
        f"COPY ({query}) TO '{target}' (FORMAT csv, HEADER, DELIMITER ',', QUOTE '\"')"
    ).fetchone()
    return int(row[0]) if row else 0
