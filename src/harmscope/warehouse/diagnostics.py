"""Diagnostics on the error path: physical lines, fields and bytes of a bad CSV record.

DuckDB reports records, not physical lines, and no column for some faults; these helpers
re-read the one file that failed (cheap, and only when something is wrong) to name the
line and column a person can find in an editor.
"""

from __future__ import annotations

import csv
import gzip
import re
import zlib
from collections.abc import Iterable

import duckdb

from harmscope.errors import InputError
from harmscope.sources.base import column_at
from harmscope.sources.policeuk import SourceFile


def physical_line(path: str, line: int) -> bytes | None:
    """The raw bytes of line ``line`` (1-based) of a CSV, for locating an error's column."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            for i, raw in enumerate(fh, start=1):
                if i == line:
                    return bytes(raw[:1_000_000])
    except (OSError, EOFError, zlib.error):
        return None
    return None


def gzip_problem(path: str) -> str | None:
    """Why the gzip file ``path`` cannot be read to its end, or None when it can."""
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        return str(exc)
    return None


def physical_lines(path: str, lines: Iterable[int], *, count_blank: bool) -> dict[int, int]:
    """Map record numbers (header = 1, one per record) to the physical line each record starts on.

    They differ after a quoted field that spans lines. DuckDB's reader errors also count
    blank lines (``count_blank=True``); numbers derived from row order do not. The file is
    scanned once, up to the last number asked for; a number not reached maps to itself.
    """
    wanted = set(lines)
    found: dict[int, int] = {}
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as fh:
            reader = csv.reader(fh)
            n, end, last = 0, 0, max(wanted, default=0)
            for rec in reader:
                if rec or count_blank:
                    n += 1
                    if n in wanted:
                        found[n] = end + 1
                    if n >= last:
                        break
                end = reader.line_num
    except (OSError, EOFError, zlib.error, csv.Error):
        pass  # unreadable past some point: keep the reader's numbers from there on
    return {n: found.get(n, n) for n in wanted}


def record_fields(path: str, index: int) -> list[str] | None:
    """The fields of data record ``index`` (0-based, header excluded), read with csv."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            for i, record in enumerate(csv.reader(fh)):
                if i == index + 1:
                    return record
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return None


def mixed_newline(path: str) -> int | None:
    """First line (1-based) whose ending differs from line 1's (CRLF vs LF), if any."""
    import gzip

    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            crlf: bool | None = None
            for i, raw in enumerate(fh, start=1):
                if not raw.endswith(b"\n"):
                    return None  # last line without an ending: nothing to compare
                this = raw.endswith(b"\r\n")
                if crlf is None:
                    crlf = this
                elif this != crlf:
                    return i
    except OSError:
        return None
    return None


def first_bad_utf8(raw: bytes) -> int:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return 0


def csv_error(
    exc: duckdb.Error,
    members: list[tuple[int, SourceFile, str]],
    columns: tuple[str, ...],
) -> InputError:
    """Turn a DuckDB CSV reader error into a message with file, line and column.

    ``members`` are the group's ``(file_id, source, local path)``; the error names the local
    path, which is mapped back to the source a user knows.
    """
    text = str(exc)
    m_file = re.search(r"file = (.+)", text)
    local = m_file.group(1).strip() if m_file else members[0][2]
    src = next((s for _, s, loc in members if loc == local), members[0][1])
    if local.endswith(".gz") and (problem := gzip_problem(local)):
        # DuckDB reads a truncated stream up to the cut, so its own error is misleading.
        return InputError(
            f"cannot decompress: truncated or corrupt gzip ({problem})", path=src.display
        )
    m_line = re.search(r"CSV Error on Line: (\d+)", text)
    line = int(m_line.group(1)) if m_line else None
    if line is not None:
        line = physical_lines(local, [line], count_blank=True)[line]
    raw = physical_line(local, line) if line else None
    n = len(columns)

    def name(col: int | None) -> str | None:
        return columns[col - 1] if col and col <= n else None

    if m := re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text):
        found = int(m.group(2))
        col: int | None = found + 1 if found < n else n + 1
        what = "truncated record" if found < n else "extra field(s)"
        return InputError(
            f"{what}: expected {n} comma-separated fields, found {found}",
            path=src.display,
            line=line,
            column=col,
            column_name=name(col),
        )
    if "Invalid unicode" in text or "not utf-8" in text.lower():
        col = column_at(raw, first_bad_utf8(raw)) if raw is not None else None
        return InputError(
            "bytes that are not UTF-8 (police.uk files are UTF-8; re-save the file as UTF-8)",
            path=src.display,
            line=line,
            column=col,
            column_name=name(col),
        )
    if "unterminated quote" in text:
        col = column_at(raw, raw.rfind(b'"')) if raw is not None else None
        return InputError(
            "a quoted field is never closed (unterminated quote)",
            path=src.display,
            line=line,
            column=col,
            column_name=name(col),
        )
    if "Maximum line size" in text:
        return InputError(
            "record longer than the reader's 2 MB limit: not a police.uk row",
            path=src.display,
            line=line,
        )
    first = text.splitlines()[0] if text else type(exc).__name__
    if "invalid state" in text and (mixed := mixed_newline(local)) is not None:
        return InputError(
            "line ends differently from the first line (mixed CRLF and LF line endings): "
            "expected one line-ending style per file",
            path=src.display,
            line=mixed,
        )
    if "gzip" in text.lower() or "decompress" in text.lower():
        return InputError(f"cannot decompress ({first})", path=src.display)
    return InputError(f"unreadable CSV ({first})", path=src.display, line=line)
