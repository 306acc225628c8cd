"""Force records and intelligence as a source: nominals, groups, markets, links, reports,
crime-person links and custody/arrest records (seven CSV layouts, :mod:`.formats`).

The adapter discovers and recognises the files (by header), checks every value
(:mod:`.read`) and replaces every person id by its keyed pseudonym (:mod:`.pseudonym`)
before anything leaves this package, so raw ids never reach the warehouse. Writing is the
warehouse's (:func:`harmscope.warehouse.records.load_records`: one transaction for the whole
batch, identical files loaded once, every load written to ``audit_log``); reading the
personal tables back goes through :func:`harmscope.warehouse.personal.read_personal`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import MappingProxyType

from harmscope.errors import InputError
from harmscope.periods import Progress
from harmscope.sources.base import (
    Discovery,
    Family,
    Provenance,
    SourceFile,
    check_columns,
    read_csv_header,
    walk,
)
from harmscope.sources.records.formats import FORMATS, PERSONAL_TABLES, RecordFormat
from harmscope.sources.records.pseudonym import Pseudonymiser
from harmscope.sources.records.read import (
    UTF16_BOMS,
    RecordFile,
    decode_utf8,
    family_of,
    read_file,
)

__all__ = [
    "ADAPTER",
    "FORMATS",
    "PERSONAL_TABLES",
    "Pseudonymiser",
    "RecordFile",
    "Records",
    "format_of_header",
]


def format_of_header(header: Sequence[str]) -> RecordFormat | None:
    """The format a header is meant to be, or None when it is no records file.

    A candidate holds its format's first key column and at least half of its required
    columns; of those, the one sharing most columns with the header wins. A header missing
    a required column is therefore still recognised, so :meth:`Records.check_columns` can
    name the column it lacks.
    """
    cols = set(header)
    fits = [
        f
        for f in FORMATS.values()
        if f.key[0] in cols and 2 * len(cols & set(f.required)) >= len(f.required)
    ]
    return max(
        fits, key=lambda f: (len(cols & set(f.names)), -len(cols - set(f.names))), default=None
    )


class Records:
    """Source adapter for force records and intelligence (see the package docstring).

    Not a :class:`~harmscope.sources.base.WritesBatch`: loading needs the pseudonym key and
    an audited user and reason, so the warehouse registers its own loader
    (``harmscope.warehouse.loaders.LOADERS["records"]``).
    """

    name = "records"
    families: MappingProxyType[str, Family] = MappingProxyType(
        {name: family_of(f) for name, f in FORMATS.items()}
    )

    def discover(self, paths: Iterable[str | Path]) -> Discovery:
        """Files named directly are always taken (and refused with a reason if no layout
        fits); inside folders and archives only files whose header is exactly a layout's
        (every required column, no other), so a folder holding other CSVs (a simulated
        city's ``truth/``) loads cleanly; the rest are counted as passed over."""
        return walk(paths, self.fits)

    def fits(self, src: SourceFile) -> bool:
        """Whether ``src``'s header is exactly one layout's (required columns, no others).

        A file meant as a layout but unfit to load is refused, never passed over: one whose
        header holds only that layout's columns but lacks a required one
        (:class:`InputError` naming the column), or a layout's header in UTF-16 or another
        encoding than UTF-8 (:meth:`recognise`).
        """
        name = self.recognise(src)
        if name is None:
            return False
        cols = set(read_csv_header(src) or ())
        fmt = FORMATS[name]
        if cols <= set(fmt.names) and not set(fmt.required) <= cols:
            self.check_columns(src)  # raises: names what is missing
        return set(fmt.required) <= cols <= set(fmt.names)

    def recognise(self, src: SourceFile) -> str | None:
        """The layout ``src`` is meant to be, or None.

        Raises
        ------
        InputError
            A layout's header that is not UTF-8 (UTF-16, Windows-1252 ...): the file is a
            records file that cannot be read as one, which must not pass unnoticed.
        """
        if not src.name.lower().endswith((".csv", ".csv.gz")):
            return None
        header = read_csv_header(src)
        if header is None:
            try:
                with src.open_bytes() as fh:
                    first = fh.readline(1 << 16)
            except (OSError, EOFError):
                return None
            codec = "utf-16" if first.startswith(UTF16_BOMS) else "cp1252"
            guess = next(csv.reader([first.decode(codec, "replace").strip("\x00\r\n\ufffd")]), [])
            if format_of_header([c.strip() for c in guess]) is not None:
                decode_utf8(src, first)  # raises, naming the line and column
            return None
        fmt = format_of_header(header)
        return fmt.name if fmt else None

    def check_columns(self, src: SourceFile) -> Family:
        fmt = self.format(src)
        family = self.families[fmt.name]
        check_columns(family, read_csv_header(src) or (), path=src.display, what=fmt.name)
        return family

    def format(self, src: SourceFile) -> RecordFormat:
        """The format of ``src``; :class:`InputError` naming the layouts when none fits."""
        name = self.recognise(src)
        if name is None:
            raise InputError(
                "not a force-records file: its header holds the required columns of none of "
                + "; ".join(f"{f.name} ({', '.join(f.required)})" for f in FORMATS.values()),
                path=src.display,
                line=1,
            )
        return FORMATS[name]

    def provenance(self, src: SourceFile) -> Provenance:
        return Provenance(self.name, self.format(src).name, src.display, src.sha256())

    def read(
        self,
        paths: Sequence[str | Path],
        pseudonymise: Callable[[str], str],
        *,
        progress: Progress | None = None,
    ) -> tuple[list[RecordFile], Discovery]:
        """Discover, read, check and pseudonymise every file under ``paths``.

        Returns the checked files and the discovery (what was passed over). Nothing is
        written. Person ids (``person`` columns; in links only where the kind
        column says ``nominal``) are replaced by ``pseudonymise(id)`` here, so the returned
        rows hold no raw id.

        Raises
        ------
        InputError
            The first bad file, line and column (see :func:`.read.read_file`), or a path
            holding no records file.
        """
        found = self.discover(paths)
        files = found.files
        if not files:
            raise InputError(
                "no force-records files here (nominals, groups, markets, links, reports, "
                "crime_people or arrests layouts)",
                path=", ".join(map(str, paths)),
            )
        out = []
        for k, src in enumerate(files):
            if progress:
                progress("checking records files", k, len(files))
            fmt = self.format(src)
            rf = read_file(src, fmt, sha256=src.sha256())
            for column in fmt.columns:
                if column.kind != "person":
                    continue
                values = rf.rows[column.name]
                mask = values.notna()
                if column.kind_column:
                    mask &= rf.rows[column.kind_column] == "nominal"
                rf.rows.loc[mask, column.name] = values[mask].map(pseudonymise)
            out.append(rf)
        return out, found


ADAPTER = Records()
