"""police.uk bulk-download files: the three file families, their headers and vocabularies.

data.police.uk publishes one CSV per force per month per family, in a zip laid out as
``YYYY-MM/YYYY-MM-<force>-street.csv`` (also ``-outcomes.csv``, ``-stop-and-search.csv``).
This module knows the formats; :mod:`harmscope.warehouse.ingest` loads them.
"""

from __future__ import annotations

import csv
import gzip
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from harmscope.errors import InputError

# Column header -> warehouse column, per family. Required columns must be present;
# the others are optional (older or trimmed files omit them) and load as NULL.
STREET_COLUMNS = {
    "Crime ID": "crime_id",
    "Month": "month",
    "Reported by": "reported_by",
    "Falls within": "force",
    "Longitude": "longitude",
    "Latitude": "latitude",
    "Location": "location",
    "LSOA code": "lsoa_code",
    "LSOA name": "lsoa_name",
    "Crime type": "event_type",
    "Last outcome category": "outcome",
    "Context": "context",
}
STREET_REQUIRED = ("Month", "Falls within", "Longitude", "Latitude", "Crime type")

OUTCOME_COLUMNS = {
    "Crime ID": "crime_id",
    "Month": "month",
    "Reported by": "reported_by",
    "Falls within": "force",
    "Longitude": "longitude",
    "Latitude": "latitude",
    "Location": "location",
    "LSOA code": "lsoa_code",
    "LSOA name": "lsoa_name",
    "Outcome type": "event_type",
}
OUTCOME_REQUIRED = ("Crime ID", "Month", "Falls within", "Longitude", "Latitude", "Outcome type")

STOP_SEARCH_COLUMNS = {
    "Type": "search_type",
    "Date": "occurred_at",
    "Part of a policing operation": "part_of_operation",
    "Policing operation": "operation_name",
    "Latitude": "latitude",
    "Longitude": "longitude",
    "Gender": "gender",
    "Age range": "age_range",
    "Self-defined ethnicity": "self_defined_ethnicity",
    "Officer-defined ethnicity": "officer_defined_ethnicity",
    "Legislation": "legislation",
    "Object of search": "object_of_search",
    "Outcome": "outcome",
    "Outcome linked to object of search": "outcome_linked",
    "Removal of more than just outer clothing": "removal_of_clothing",
}
STOP_SEARCH_REQUIRED = ("Type", "Date", "Latitude", "Longitude", "Object of search")

FAMILIES: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "street": (STREET_COLUMNS, STREET_REQUIRED),
    "outcome": (OUTCOME_COLUMNS, OUTCOME_REQUIRED),
    "stop_search": (STOP_SEARCH_COLUMNS, STOP_SEARCH_REQUIRED),
}

# The 14 current police.uk crime types, and the three used before May 2013.
CRIME_TYPES = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)
LEGACY_CRIME_TYPES = ("Violent crime", "Public disorder and weapons")
STOP_AND_SEARCH = "Stop and search"

_NAME_RE = re.compile(
    r"(?P<month>\d{4}-\d{2})-(?P<force>[a-z0-9-]+?)-(?P<family>street|outcomes|stop-and-search)"
    r"\.csv(\.gz)?$"
)
_FAMILY_OF_SUFFIX = {"street": "street", "outcomes": "outcome", "stop-and-search": "stop_search"}
# A name without its month (``city-of-london-street.csv``) still gives force and family; the
# month then comes from the archive folder the file sits in (``2019-01/``).
_UNDATED_NAME_RE = re.compile(
    r"^(?P<force>[a-z0-9-]+?)-(?P<family>street|outcomes|stop-and-search)\.csv(\.gz)?$"
)
_MONTH_FOLDER_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
PASSED_OVER_SHOWN = 5
"""How many names of passed-over files a :class:`Discovery` keeps to show."""


@dataclass(frozen=True)
class FileIdentity:
    """What a police.uk file *is*: one family of one force for one month.

    police.uk publishes each (family, force, month) as a unit and revises it in later
    downloads, so this — read from the file's name or archive folder, never from its rows — is
    what a later load of the same file replaces.
    """

    family: str
    force: str
    month: str  # YYYY-MM


@dataclass(frozen=True)
class SourceFile:
    """One CSV to load: a file on disk, or a member of a zip archive.

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
    def force_slug(self) -> str | None:
        """Force slug from a police.uk file name (``city-of-london``), else None."""
        m = _NAME_RE.search(self.name)
        return m["force"] if m else None

    @property
    def identity(self) -> FileIdentity | None:
        """(family, force slug, month) from the file name, the month falling back to the
        nearest ``YYYY-MM`` folder above it (in the zip archive or on disk); None when the
        name does not say which force and family the file holds.
        """
        if m := _NAME_RE.search(self.name):
            return FileIdentity(_FAMILY_OF_SUFFIX[m["family"]], m["force"], m["month"])
        m = _UNDATED_NAME_RE.match(self.name)
        if m is None:
            return None
        parents = Path(self.member).parents if self.member else self.path.parents
        month = next((p.name for p in parents if _MONTH_FOLDER_RE.match(p.name)), None)
        if month is None:
            return None
        return FileIdentity(_FAMILY_OF_SUFFIX[m["family"]], m["force"], month)

    def open_bytes(self) -> IO[bytes]:
        """The file's CSV bytes (decompressed if gzipped)."""
        raw: IO[bytes]
        if self.member is not None:
            raw = zipfile.ZipFile(self.path).open(self.member)  # noqa: SIM115 - returned
        else:
            raw = open(self.path, "rb")  # noqa: SIM115 - returned to the caller
        if self.name.endswith(".gz"):
            return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
        return raw


def _is_csv(name: str) -> bool:
    return name.lower().endswith((".csv", ".csv.gz"))


@dataclass
class Discovery:
    """The CSVs to load, and what a folder or archive held that is not a police.uk file."""

    files: list[SourceFile] = field(default_factory=list)
    passed_over: int = 0
    """Files in the folder trees and archives that are not named the police.uk way."""
    passed_over_names: list[str] = field(default_factory=list)
    """The first :data:`PASSED_OVER_SHOWN` of them (``path`` or ``archive.zip!member``)."""

    def pass_over(self, name: str) -> None:
        self.passed_over += 1
        if len(self.passed_over_names) < PASSED_OVER_SHOWN:
            self.passed_over_names.append(name)


def discover(paths: Iterable[str | Path]) -> list[SourceFile]:
    """Expand files, folder trees and zip archives into the CSVs to load, in a stable order."""
    return discover_all(paths).files


def discover_all(paths: Iterable[str | Path]) -> Discovery:
    """As :func:`discover`, also counting the files passed over for not being police.uk's.

    Folder trees hold other files too (simulator truth, notes): only files named as police.uk
    names them are taken (``YYYY-MM-<force>-<family>.csv``, or ``<force>-<family>.csv`` in a
    ``YYYY-MM`` folder: whatever gives the file its :class:`FileIdentity`), and the others are
    counted so the user hears about them. A file named on the command line is always read.
    """
    found = Discovery()
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InputError("no such file or folder", path=str(p))
        if p.is_dir():
            before = len(found.files)
            for f in sorted(p.rglob("*")):
                if not f.is_file():
                    continue
                if _is_csv(f.name) and SourceFile(f).identity is not None:
                    found.files.append(SourceFile(f))
                elif f.suffix.lower() == ".zip":
                    _zip_members(f, found)
                else:
                    found.pass_over(str(f))
            if len(found.files) == before:
                raise InputError(
                    "no police.uk files in this folder (expected names like "
                    "2019-01-city-of-london-street.csv, -outcomes.csv, -stop-and-search.csv)",
                    path=str(p),
                )
        elif p.suffix.lower() == ".zip":
            _zip_members(p, found)
        else:
            found.files.append(SourceFile(p))
    return found


def _zip_members(path: Path, found: Discovery) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            names = sorted(n for n in zf.namelist() if not n.endswith("/"))
    except zipfile.BadZipFile as exc:
        raise InputError(f"not a readable zip archive ({exc})", path=str(path)) from exc
    for n in names:
        if _is_csv(n) and SourceFile(path, n).identity is not None:
            found.files.append(SourceFile(path, n))
        else:
            found.pass_over(f"{path}!{n}")


@dataclass(frozen=True)
class Header:
    """A validated header: the family and the file's columns in order."""

    family: str
    columns: tuple[str, ...]


def read_header(src: SourceFile) -> Header:
    """Read and check the first line; decide the family from the columns present.

    Raises :class:`InputError` for an empty file, bytes that are not UTF-8, a wrong
    delimiter, unknown or duplicate columns, or missing required columns.
    """
    with src.open_bytes() as fh:
        try:
            first = fh.readline(1 << 16)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(f"cannot decompress ({exc})", path=src.display, line=1) from exc
    if not first.strip():
        raise InputError("empty file: expected a police.uk CSV header", path=src.display, line=1)
    try:
        text = first.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        col = first[: exc.start].count(b",") + 1
        raise InputError(
            f"byte 0x{first[exc.start]:02x} is not UTF-8 (police.uk files are UTF-8)",
            path=src.display,
            line=1,
            column=col,
        ) from exc
    # The first record, also when lines end in a bare CR (old Mac / Excel exports).
    cols = tuple(c.strip() for c in next(csv.reader(text.splitlines()[:1])))
    if len(cols) == 1:
        sep = next((d for d in (";", "\t", "|") if d in text), None)
        hint = f"; it looks {sep!r}-separated" if sep else ""
        raise InputError(
            f"header has a single column{hint}: expected comma-separated police.uk columns",
            path=src.display,
            line=1,
        )
    family = _family_of(src, cols)
    known, required = FAMILIES[family]
    seen: set[str] = set()
    for i, c in enumerate(cols, start=1):
        if c not in known:
            raise InputError(
                f"unexpected column {c!r} in a police.uk {family} file "
                f"(expected some of: {', '.join(known)})",
                path=src.display,
                line=1,
                column=i,
                column_name=c,
            )
        if c in seen:
            raise InputError(f"duplicate column {c!r}", path=src.display, line=1, column=i)
        seen.add(c)
    missing = [c for c in required if c not in seen]
    if missing:
        raise InputError(
            f"missing required column(s) {', '.join(map(repr, missing))}",
            path=src.display,
            line=1,
        )
    return Header(family, cols)


def _family_of(src: SourceFile, cols: tuple[str, ...]) -> str:
    if (identity := src.identity) is not None:
        return identity.family
    # Not a police.uk file name: decide by the columns that only one family has.
    if "Crime type" in cols:
        return "street"
    if "Outcome type" in cols:
        return "outcome"
    if "Object of search" in cols or "Date" in cols:
        return "stop_search"
    raise InputError(
        "not a police.uk street, outcomes or stop-and-search header "
        "(no 'Crime type', 'Outcome type' or 'Object of search' column)",
        path=src.display,
        line=1,
    )
