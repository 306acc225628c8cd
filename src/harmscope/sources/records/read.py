"""Reading and checking one force-records file: every value, or an error naming its place.

:func:`read_file` parses a CSV with the :mod:`csv` module (so each record keeps the line it
starts on), checks the header against its :class:`~.formats.RecordFormat` and every value
against its column's kind, and returns the typed rows. The first bad value raises
:class:`~harmscope.errors.InputError` naming file, line and column; a value of a person-id
column is never echoed in a message (it is what pseudonymisation keeps out of every record).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from harmscope.errors import InputError
from harmscope.sources.base import Family, SourceFile, check_columns, column_at
from harmscope.sources.records.formats import Column, RecordFormat

if TYPE_CHECKING:
    import pandas as pd

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_LSOA = re.compile(r"[EWSN]\d{8}")
_INT = re.compile(r"[+-]?\d+")
_BOOL = {"True": True, "False": False, "true": True, "false": False}


@dataclass
class RecordFile:
    """One checked records file: its format, where it came from and its typed rows.

    ``rows`` has the format's columns (blank values as missing) and ``_line``, the line each
    record starts on (header = line 1).
    """

    format: RecordFormat
    src: SourceFile
    sha256: str
    rows: pd.DataFrame


def family_of(fmt: RecordFormat) -> Family:
    """The :class:`~harmscope.sources.base.Family` view of a records format."""
    return Family(
        fmt.name,
        (fmt.table,),
        {c: c for c in fmt.names},
        fmt.required,
        closed=True,
        description=fmt.description,
    )


def _fail(src: SourceFile, line: int, col: int, column: Column, message: str) -> InputError:
    return InputError(message, path=src.display, line=line, column=col, column_name=column.name)


def _shown(column: Column, value: str) -> str:
    # A person id is never repeated back: it could end up in a log or a ticket.
    return "(a person id, not shown)" if column.kind == "person" else repr(value)


def _check_column(
    src: SourceFile, column: Column, col: int, values: pd.Series, lines: np.ndarray
) -> pd.Series:
    """Check one column's values; return them typed (missing for blank)."""
    import pandas as pd  # here: police.uk ingest imports this package without needing pandas

    blank = values == ""
    if column.required and blank.any():
        i = int(blank.to_numpy().argmax())
        raise _fail(src, int(lines[i]), col, column, "blank value: this column is required")
    kind = column.kind
    if kind in ("id", "person", "text"):
        return values.where(~blank, None)
    if kind == "choice":
        bad = ~blank & ~values.isin(column.allowed)
        expected = "one of " + ", ".join(column.allowed)
    elif kind == "month":
        bad = ~blank & ~values.str.fullmatch(_MONTH.pattern)
        expected = "a month written YYYY-MM"
    elif kind == "lsoa":
        bad = ~blank & ~values.str.fullmatch(_LSOA.pattern)
        expected = "an LSOA code: a letter E/W/S/N and 8 digits (e.g. E01000001)"
    elif kind == "bool":
        bad = ~blank & ~values.isin(list(_BOOL))
        expected = "True or False"
    else:  # int
        lo, hi = column.bounds or (-(2**62), 2**62)
        ok = values.str.fullmatch(_INT.pattern)
        num = pd.to_numeric(values.where(ok & ~blank, None), errors="coerce")
        bad = ~blank & (~ok | (num < lo) | (num > hi))
        expected = f"a whole number from {lo} to {hi}"
    if bad.any():
        i = int(bad.to_numpy().argmax())
        found = _shown(column, str(values.iat[i]))
        raise _fail(src, int(lines[i]), col, column, f"expected {expected}; found {found}")
    if kind == "month":
        return pd.to_datetime(values.where(~blank, None), format="%Y-%m").dt.date
    if kind == "bool":
        return values.map(_BOOL).astype("boolean")
    if kind == "int":
        return pd.to_numeric(values.where(~blank, None)).astype("Int64")
    return values.where(~blank, None)


def _records(src: SourceFile, text: str, width: int) -> tuple[list[list[str]], list[int]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for row in reader:
            if start == 1:  # the header, checked by the caller
                start = reader.line_num + 1
                continue
            if not row:  # a blank line ends nothing and holds nothing
                start = reader.line_num + 1
                continue
            if len(row) != width:
                raise InputError(
                    f"expected {width} fields, found {len(row)}",
                    path=src.display,
                    line=start,
                    column=min(len(row), width) + 1,
                )
            rows.append([v.strip() for v in row])
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(
            f"not a readable CSV record ({exc})", path=src.display, line=start
        ) from None
    return rows, lines


#: Byte-order marks of UTF-16 text, which spreadsheet "Unicode text" exports write.
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode_utf8(src: SourceFile, raw: bytes) -> str:
    """``raw`` as UTF-8 text (a BOM dropped); :class:`InputError` naming where it is not.

    The error names the line and the column (field) holding the first bad byte, and says
    when the file is UTF-16 (what "Unicode text" exports from spreadsheets are).
    """
    if raw.startswith(UTF16_BOMS):
        raise InputError(
            "UTF-16 text, not UTF-8 (save the export as CSV UTF-8)", path=src.display, line=1
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = raw.rfind(b"\n", 0, exc.start) + 1
        raise InputError(
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be read "
            "(save the export as CSV UTF-8)",
            path=src.display,
            line=raw[: exc.start].count(b"\n") + 1,
            column=column_at(raw[start:], exc.start - start),
        ) from None


def read_file(src: SourceFile, fmt: RecordFormat, *, sha256: str) -> RecordFile:
    """Read and check ``src`` as a ``fmt`` file.

    Parameters
    ----------
    src : SourceFile
        The file (plain or gzipped, on disk or in a zip archive).
    fmt : RecordFormat
        Its layout (:data:`~.formats.FORMATS`).
    sha256 : str
        SHA-256 of its bytes (provenance; what makes loading idempotent).

    Returns
    -------
    RecordFile
        Typed rows; columns the header leaves out (optional ones) are blank.

    Raises
    ------
    InputError
        Naming file, line and column: not UTF-8, an unknown, repeated or missing column, a
        record with too many or too few fields, a blank required value, a value outside its
        column's kind or allowed values, or a record repeating an earlier one's key.
    """
    try:
        with src.open_bytes() as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read the file ({exc})", path=src.display) from None
    text = decode_utf8(src, raw)
    first = next(csv.reader(io.StringIO(text.split("\n", 1)[0])), [])
    header = [c.strip() for c in first]
    check_columns(family_of(fmt), header, path=src.display, what=f"force records {fmt.name}")
    rows, lines = _records(src, text, len(header))
    line_arr = np.asarray(lines, dtype=np.int64)
    import pandas as pd

    frame = pd.DataFrame(rows, columns=header, dtype=object).astype(str)
    out = pd.DataFrame(index=frame.index)
    for column in fmt.columns:
        if column.name in frame:
            col = header.index(column.name) + 1
            out[column.name] = _check_column(src, column, col, frame[column.name], line_arr)
        else:
            out[column.name] = None
    dup = out.duplicated(list(fmt.key), keep="first")
    if dup.any():
        i = int(dup.to_numpy().argmax())
        first_key = fmt.column(fmt.key[0])
        raise InputError(
            f"repeats the record of an earlier line (same {', '.join(fmt.key)})",
            path=src.display,
            line=int(line_arr[i]),
            column=header.index(first_key.name) + 1,
            column_name=first_key.name,
        )
    out["_line"] = line_arr
    return RecordFile(fmt, src, sha256, out)
