"""The source-adapter protocol: what every input to the warehouse says about itself.

A *source* is one kind of input (police.uk bulk files, LSOA reference data, community
surveys; later intelligence and partner data). Its adapter answers five questions, so the
warehouse and the CLI can treat every source alike:

1. **discover** — which files under the paths a user gave are this source's
   (:meth:`SourceAdapter.discover`, returning a :class:`Discovery` that also counts what was
   passed over);
2. **recognise** — which *family* of the source a file is (police.uk ``street``, ``outcome``,
   ``stop_search``; ``areas_csv``; ``responses``), or ``None`` when it is not this source's;
3. **map and check columns** — each family's header → warehouse column map and required
   columns (:class:`Family`), checked by :meth:`SourceAdapter.check_columns`, which raises
   :class:`~harmscope.errors.InputError` naming file, line and column;
4. **target table** — :attr:`Family.tables`, the warehouse tables a family writes;
5. **provenance** — :meth:`SourceAdapter.provenance`: the file as shown to users, the SHA-256
   of its bytes (what makes loading idempotent) and the identity a later load supersedes.

:meth:`WritesBatch.prepare` then reads and checks a batch of files and hands back a
:class:`Batch` whose ``write`` puts it into an open warehouse connection, strictly and
atomically (all or nothing) and idempotently (identical content adds nothing). Sources sit
*below* the warehouse: they never open it. :mod:`harmscope.warehouse.loaders` opens the
warehouse and runs the batch (police.uk, whose writing is the warehouse's own ingest, is
registered there). Adapters are registered in :mod:`harmscope.sources.registry`;
``docs/warehouse.md`` shows how to add one.

This module imports nothing of ours but :mod:`harmscope.errors`.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

import duckdb

from harmscope.errors import InputError
from harmscope.periods import Progress

PASSED_OVER_SHOWN = 5
"""How many names of passed-over files a :class:`Discovery` keeps to show."""


@dataclass(frozen=True)
class SourceFile:
    """One file to load: a file on disk, or a member of a zip archive.

    ``display`` is what messages and provenance show (``archive.zip!2019-01/...csv``).
    """

    path: Path
    member: str | None = None

    @property
    def display(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    @property
    def name(self) -> str:
        return Path(self.member).name if self.member else self.path.name

    @property
    def folders(self) -> list[str]:
        """Names of the folders above the file, nearest first (inside the archive if any)."""
        return [p.name for p in (Path(self.member) if self.member else self.path).parents]

    def open_bytes(self) -> IO[bytes]:
        """The file's bytes (decompressed if gzipped)."""
        raw: IO[bytes]
        if self.member is not None:
            raw = zipfile.ZipFile(self.path).open(self.member)  # noqa: SIM115 - returned
        else:
            raw = open(self.path, "rb")  # noqa: SIM115 - returned to the caller
        if self.name.endswith(".gz"):
            return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
        return raw

    def sha256(self) -> str:
        """SHA-256 of the bytes as stored (a gzipped file hashes its compressed bytes)."""
        h = hashlib.sha256()
        if self.member is None:
            with open(self.path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
        else:
            with zipfile.ZipFile(self.path) as zf, zf.open(self.member) as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
        return h.hexdigest()


@dataclass
class Discovery:
    """The files to load, and what the folders and archives held that is not the source's."""

    files: list[SourceFile] = field(default_factory=list)
    passed_over: int = 0
    """Files in the folder trees and archives given that the source does not take."""
    passed_over_names: list[str] = field(default_factory=list)
    """The first :data:`PASSED_OVER_SHOWN` of them (``path`` or ``archive.zip!member``)."""

    def pass_over(self, name: str) -> None:
        self.passed_over += 1
        if len(self.passed_over_names) < PASSED_OVER_SHOWN:
            self.passed_over_names.append(name)


def walk(paths: Iterable[str | Path], accept: Callable[[SourceFile], bool]) -> Discovery:
    """Expand files, folder trees and zip archives, in a stable (sorted) order.

    Inside folders and archives only files that ``accept`` are taken; the others are counted
    as passed over. A file named directly is always taken (and a zip named directly is
    opened). Raises :class:`InputError` for a path that does not exist or an unreadable zip.
    """
    found = Discovery()
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InputError("no such file or folder", path=str(p))
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if not f.is_file():
                    continue
                if f.suffix.lower() == ".zip":
                    _zip_members(f, accept, found)
                elif accept(SourceFile(f)):
                    found.files.append(SourceFile(f))
                else:
                    found.pass_over(str(f))
        elif p.suffix.lower() == ".zip":
            _zip_members(p, accept, found)
        else:
            found.files.append(SourceFile(p))
    return found


def _zip_members(path: Path, accept: Callable[[SourceFile], bool], found: Discovery) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            names = sorted(n for n in zf.namelist() if not n.endswith("/"))
    except zipfile.BadZipFile as exc:
        raise InputError(f"not a readable zip archive ({exc})", path=str(path)) from exc
    for n in names:
        if accept(SourceFile(path, n)):
            found.files.append(SourceFile(path, n))
        else:
            found.pass_over(f"{path}!{n}")


@dataclass(frozen=True)
class Family:
    """One kind of file of a source: its columns, the required ones, the tables it writes.

    ``columns`` maps a header as published to the warehouse column it loads into. With
    ``closed`` a header may hold no other column; with ``repeats`` a column may appear more
    than once (the first is read: the Census 2011 table repeats ``Persons``).
    """

    name: str
    tables: tuple[str, ...]
    columns: Mapping[str, str]
    required: tuple[str, ...] = ()
    closed: bool = True
    repeats: bool = False
    description: str = ""


def check_columns(family: Family, header: Sequence[str], *, path: str, what: str = "") -> None:
    """Check a header against ``family``: no unknown (if closed) or repeated column, and every
    required one present. Raises :class:`InputError` naming line 1 and the column.

    ``what`` names the file kind in messages (``"police.uk street"``).
    """
    kind = what or family.name
    seen: set[str] = set()
    for i, c in enumerate(header, start=1):
        if family.closed and c not in family.columns:
            raise InputError(
                f"unexpected column {c!r} in a {kind} file "
                f"(expected some of: {', '.join(family.columns)})",
                path=path,
                line=1,
                column=i,
                column_name=c,
            )
        if c in seen and not family.repeats:
            raise InputError(f"duplicate column {c!r}", path=path, line=1, column=i)
        seen.add(c)
    missing = [c for c in family.required if c not in seen]
    if missing:
        raise InputError(
            f"missing required column(s) {', '.join(map(repr, missing))}", path=path, line=1
        )


@dataclass(frozen=True)
class Provenance:
    """Where loaded rows come from: recorded with them, and what makes a load idempotent."""

    source: str
    family: str
    file: str
    """The file as messages show it (``archive.zip!member`` for an archive member)."""
    sha256: str
    """SHA-256 of the bytes: identical content is never loaded twice."""
    identity: tuple[str, ...] | None = None
    """What a later load of the *same* file supersedes (police.uk: family, force, month);
    None when only identical bytes are recognised."""


@dataclass
class LoadResult:
    """What one load of a source wrote (``detail``: the source's own report)."""

    source: str
    files: int
    rows_loaded: int
    detail: object = None


@runtime_checkable
class SourceAdapter(Protocol):
    """One kind of input to the warehouse (see the module docstring)."""

    name: str
    """Registry key (``policeuk``, ``areas``, ``survey``)."""
    families: Mapping[str, Family]

    def discover(self, paths: Iterable[str | Path]) -> Discovery:
        """The files of this source under ``paths``."""
        ...

    def recognise(self, src: SourceFile) -> str | None:
        """The family of ``src``, or None when it is not this source's; never raises."""
        ...

    def check_columns(self, src: SourceFile) -> Family:
        """Read and check ``src``'s header; its :class:`Family`, or :class:`InputError`."""
        ...

    def provenance(self, src: SourceFile) -> Provenance:
        """Provenance of ``src`` (reads its bytes once for the SHA-256)."""
        ...


@dataclass(frozen=True)
class Batch:
    """A checked batch of one source's files, ready to write.

    ``write(con)`` inserts the batch through an open DuckDB connection to the warehouse (whose
    tables already exist) all or nothing, and returns the rows written (0 when the same
    content was written before). The warehouse layer opens the connection and calls it.
    """

    source: str
    files: int
    write: Callable[[duckdb.DuckDBPyConnection], int]


@runtime_checkable
class WritesBatch(Protocol):
    """A source whose files the warehouse loads by :meth:`prepare` then ``Batch.write``."""

    name: str

    def prepare(
        self,
        paths: Sequence[str | Path],
        *,
        lenient: bool = False,
        progress: Progress | None = None,
    ) -> Batch:
        """Discover, read and check every file of ``paths``: nothing is written yet."""
        ...


def column_at(raw: bytes, pos: int) -> int:
    """1-based CSV field index of byte offset ``pos`` in one line (commas inside quotes
    ignored): where a bad byte sits, for an error naming its column."""
    col, quoted = 1, False
    for b in raw[: max(pos, 0)]:
        if b == 0x22:
            quoted = not quoted
        elif b == 0x2C and not quoted:
            col += 1
    return col


def read_csv_header(src: SourceFile) -> tuple[str, ...] | None:
    """The first record of a CSV as column names, or None if it cannot be read as one."""
    try:
        with src.open_bytes() as fh:
            first = fh.readline(1 << 16).decode("utf-8-sig")
    except (OSError, EOFError, UnicodeDecodeError, zipfile.BadZipFile):
        return None
    rows = list(csv.reader(first.splitlines()[:1]))
    return tuple(c.strip() for c in rows[0]) if rows else None


def no_lenient(source: str, lenient: bool) -> None:
    """Refuse ``lenient`` for a source that has no quarantine (every row must be good)."""
    if lenient:
        raise ValueError(f"{source}: lenient loading is not available (every row must be valid)")
