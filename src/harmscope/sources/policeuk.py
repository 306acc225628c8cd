"""police.uk bulk-download files: the three file families, their headers and vocabularies.

data.police.uk publishes one CSV per force per month per family, in a zip laid out as
``YYYY-MM/YYYY-MM-<force>-street.csv`` (also ``-outcomes.csv``, ``-stop-and-search.csv``).
This module knows the formats; :mod:`harmscope.warehouse.ingest` loads them (sources sit
below the warehouse and never import it).
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harmscope.errors import InputError
from harmscope.sources.base import (
    Discovery,
    Family,
    Provenance,
    SourceFile,
    check_columns,
    column_at,
    read_csv_header,
    walk,
)

__all__ = [
    "ADAPTER",
    "CRIME_TYPES",
    "FAMILIES",
    "LEGACY_CRIME_TYPES",
    "STOP_AND_SEARCH",
    "Discovery",
    "FileIdentity",
    "Header",
    "PoliceUk",
    "SourceFile",
    "discover",
    "discover_all",
    "force_of",
    "identity_of",
    "read_header",
]

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
_DESCRIPTIONS = {
    "street": "street-level crimes and anti-social behaviour, one row per record",
    "outcome": "outcomes recorded in the month, one row per outcome, linked by Crime ID",
    "stop_search": "stop-and-search records with their date, time and location",
}
ADAPTER_FAMILIES: dict[str, Family] = {
    name: Family(name, ("events",), columns, required, description=_DESCRIPTIONS[name])
    for name, (columns, required) in FAMILIES.items()
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


def identity_of(src: SourceFile) -> FileIdentity | None:
    """(family, force slug, month) of a police.uk file, from its name.

    The month falls back to the nearest ``YYYY-MM`` folder above the file (in the zip archive
    or on disk) when the name has none; None when the name does not say which force and
    family the file holds.
    """
    if m := _NAME_RE.search(src.name):
        if not _MONTH_FOLDER_RE.match(m["month"]):
            return None  # "2019-13-...": not a month, so the name says nothing reliable
        return FileIdentity(_FAMILY_OF_SUFFIX[m["family"]], m["force"], m["month"])
    m = _UNDATED_NAME_RE.match(src.name)
    if m is None:
        return None
    month = next((f for f in src.folders if _MONTH_FOLDER_RE.match(f)), None)
    if month is None:
        return None
    return FileIdentity(_FAMILY_OF_SUFFIX[m["family"]], m["force"], month)


def force_of(src: SourceFile) -> str | None:
    """Force slug from a police.uk file name (``city-of-london``), else None."""
    ident = identity_of(src)
    return ident.force if ident else None


def _is_policeuk(src: SourceFile) -> bool:
    return _is_csv(src.name) and identity_of(src) is not None


def _is_csv(name: str) -> bool:
    return name.lower().endswith((".csv", ".csv.gz"))


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
        one = walk([raw], _is_policeuk)
        if Path(raw).is_dir() and not one.files:
            raise InputError(
                "no police.uk files in this folder (expected names like "
                "2019-01-city-of-london-street.csv, -outcomes.csv, -stop-and-search.csv)",
                path=str(raw),
            )
        found.files.extend(one.files)
        for name in one.passed_over_names:
            found.pass_over(name)
        found.passed_over += one.passed_over - len(one.passed_over_names)
    return found


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
        raise InputError(
            f"byte 0x{first[exc.start]:02x} is not UTF-8 (police.uk files are UTF-8)",
            path=src.display,
            line=1,
            column=column_at(first, exc.start),
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
    check_columns(ADAPTER_FAMILIES[family], cols, path=src.display, what=f"police.uk {family}")
    return Header(family, cols)


def _family_of(src: SourceFile, cols: tuple[str, ...]) -> str:
    if (identity := identity_of(src)) is not None:
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


class PoliceUk:
    """Source adapter for police.uk bulk downloads (street, outcomes, stop-and-search).

    Loading is :func:`harmscope.warehouse.ingest.ingest_paths`, registered for this source in
    :mod:`harmscope.warehouse.loaders`: strict (the first bad row
    fails the batch with file, line and column), one transaction per batch, identical bytes
    skipped and a later load of a file's :class:`FileIdentity` superseding the earlier one.
    """

    name = "policeuk"
    families = ADAPTER_FAMILIES

    def discover(self, paths: Iterable[str | Path]) -> Discovery:
        return discover_all(paths)

    def recognise(self, src: SourceFile) -> str | None:
        if (ident := identity_of(src)) is not None:
            return ident.family if _is_csv(src.name) else None
        cols = read_csv_header(src)
        if cols is None:
            return None
        for family in ("street", "outcome", "stop_search"):
            columns, required = FAMILIES[family]
            if set(cols) <= set(columns) and set(required) <= set(cols):
                return family
        return None

    def check_columns(self, src: SourceFile) -> Family:
        return ADAPTER_FAMILIES[read_header(src).family]

    def provenance(self, src: SourceFile) -> Provenance:
        ident = identity_of(src)
        family = ident.family if ident else self.check_columns(src).name
        return Provenance(
            self.name,
            family,
            src.display,
            src.sha256(),
            (ident.family, ident.force, ident.month) if ident else None,
        )


ADAPTER = PoliceUk()
