"""Partner indicators for the warehouse (table ``partner_indicators``): drug deaths, hospital
admissions, needle finds and treatment entries.

Two families of files are understood:

* ``bdd_wide`` — the national and local drug statistics as compiled by the
  BritishDrugDynamics project (ONS drug-related deaths, NHS Digital *Statistics on Drug
  Misuse* admissions): one row per year, one column per area (upper-tier local authority,
  police force, or England and its regions). The indicator and area level come from the
  file name: ``deaths_misuse[_polices].csv``, ``deaths_poisoning[_polices].csv``, and under a
  ``hospital_admissions`` folder ``misuse``, ``primary`` and ``secondary`` (with
  ``_polices`` or ``_England_and_regions``). Counts only: the ``_100k`` rate files are
  refused (a rate summed over areas means nothing), and so are the national deaths files,
  which hold rates under a count's name. A leading unnamed index column is ignored.
* ``indicators`` — per LSOA and month (``month, lsoa_code`` and any of ``overdoses,
  drug_deaths, needle_finds, treatment_entries``), as the simulator writes
  ``partners/indicators.csv`` and as a force can prepare from its partners' records.

**Suspect rows.** The hospital-admission files carry a 2020 row that does not continue the
series (``misuse.csv``: Barking and Dagenham 25 in 2019, 160 in 2020; across local
authorities the 2019 and 2020 values correlate at 0.09, against 0.96 for 2018 and 2019; it
looks shifted between columns). Every 2020 row of a hospital-admissions file is therefore
**refused**: left out of the load, and the batch says how many rows it refused and why
(:attr:`PartnerBatch.refused`).

Loading is strict (the first bad value fails the batch naming file, line and column),
atomic (every file is checked before anything is written) and idempotent (rows of a file
content and indicator already loaded are not loaded again).

References
----------
Office for National Statistics. *Deaths related to drug poisoning in England and Wales*.

NHS Digital. *Statistics on Drug Misuse, England*.

Castro, L. et al. BritishDrugDynamics (GitHub ``LeonardoCastro/BritishDrugDynamics``,
``data/``), MIT licence; the statistics themselves are OGL v3.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import MappingProxyType

import duckdb
import pandas as pd

from harmscope.errors import InputError
from harmscope.harm.measured import LSOA_LEVEL, default_indicators
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
    "INDICATOR_COLUMNS",
    "PARTNER_COLUMNS",
    "SUSPECT_YEAR",
    "PartnerBatch",
    "Partners",
    "read_partner_file",
    "write_partners",
]

#: Columns of ``partner_indicators``, in order (the DDL is in ``warehouse.schema``).
PARTNER_COLUMNS = (
    "area_code",
    "area_name",
    "area_level",
    "period",
    "month_from",
    "month_to",
    "indicator",
    "value",
    "unit",
    "source_file",
    "line",
    "file_sha256",
)

#: Per-LSOA file: column -> indicator id.
INDICATOR_COLUMNS = {
    "overdoses": "nonfatal_overdoses",
    "drug_deaths": "drug_deaths",
    "needle_finds": "needle_finds",
    "treatment_entries": "treatment_entries",
}

#: The year whose hospital-admission rows are refused (see the module notes).
SUSPECT_YEAR = 2020

_WIDE = re.compile(
    r"^(?P<stem>deaths_misuse|deaths_poisoning|misuse|primary|secondary)"
    r"(?P<level>_polices|_England_and_regions)?(?P<rate>_100k)?\.csv$"
)
_STEMS = {
    "deaths_misuse": "drug_misuse_deaths",
    "deaths_poisoning": "drug_poisoning_deaths",
    "misuse": "drug_poisoning_admissions",
    "primary": "drug_disorder_admissions_primary",
    "secondary": "drug_disorder_admissions_any",
}
_LEVELS = {None: "upper_tier_la", "_polices": "police_force", "_England_and_regions": "region"}
_YEAR = re.compile(r"^(\d{4})(\.0+)?$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _wide_kind(src: SourceFile) -> tuple[str, str, str | None] | None:
    """``(indicator, area level, refusal)`` of a wide drug-statistics file, from its name."""
    m = _WIDE.match(src.name)
    if m is None:
        return None
    stem, level = m["stem"], m["level"]
    admissions = stem in ("misuse", "primary", "secondary")
    if admissions and "hospital_admissions" not in src.folders:
        return None
    refusal = None
    if m["rate"]:
        refusal = "rates per 100,000 are not loaded (a rate summed over areas means nothing)"
    elif not admissions and level == "_England_and_regions":
        refusal = "the national deaths files hold rates, not counts, and are not loaded"
    return _STEMS[stem], _LEVELS[level], refusal


def _header(src: SourceFile) -> tuple[str, ...]:
    return read_csv_header(src) or ()


@dataclass
class PartnerFrame:
    """One checked file: its rows to load, and the rows refused with the reason."""

    frame: pd.DataFrame
    refused: int = 0
    refused_reason: str = ""


def _text(src: SourceFile) -> str:
    with src.open_bytes() as fh:
        raw = fh.read()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", path=src.display) from None


def _number(text: str, *, src: SourceFile, line: int, col: int, name: str) -> float | None:
    """A published count: blank is None (not published), else a non-negative number."""
    t = text.strip().replace(",", "")
    if t == "":
        return None
    try:
        v = float(t)
    except ValueError:
        v = float("nan")
    if not v >= 0 or v == float("inf"):
        raise InputError(
            f"{text!r}: expected a count (a number >= 0) or blank",
            path=src.display,
            line=line,
            column=col,
            column_name=name,
        )
    return v


def _read_wide(src: SourceFile, indicator: str, level: str, sha: str, unit: str) -> PartnerFrame:
    rows = list(csv.reader(io.StringIO(_text(src))))
    header = [c.strip() for c in rows[0]] if rows else []
    offset = 1 if header[:2] == ["", "year"] else 0  # a pandas index column written out
    if header[offset : offset + 1] != ["year"]:
        raise InputError(
            "expected the first column to be 'year' (one row per year, one column per area)",
            path=src.display,
            line=1,
            column=offset + 1,
        )
    areas = header[offset + 1 :]
    admissions = indicator != "drug_misuse_deaths" and indicator != "drug_poisoning_deaths"
    out: list[dict[str, object]] = []
    seen: dict[int, int] = {}
    refused = 0
    for i, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise InputError(
                f"{len(row)} fields, expected {len(header)} (as in the header)",
                path=src.display,
                line=i,
            )
        ym = _YEAR.match(row[offset].strip())
        if ym is None or not 1900 <= int(ym[1]) <= 2100:
            raise InputError(
                f"year {row[offset]!r}: expected a year such as 2018",
                path=src.display,
                line=i,
                column=offset + 1,
                column_name="year",
            )
        year = int(ym[1])
        if year in seen:
            raise InputError(
                f"year {year} again (first on line {seen[year]})",
                path=src.display,
                line=i,
                column=offset + 1,
                column_name="year",
            )
        seen[year] = i
        values = [
            _number(row[offset + 1 + k], src=src, line=i, col=offset + 2 + k, name=a)
            for k, a in enumerate(areas)
        ]
        if admissions and year == SUSPECT_YEAR:
            refused += 1
            continue
        for area, v in zip(areas, values, strict=True):
            if v is None:
                continue
            level_here = "country" if level == "region" and area == "England" else level
            out.append(
                {
                    "area_code": None,
                    "area_name": area,
                    "area_level": level_here,
                    "period": str(year),
                    "month_from": pd.Timestamp(year=year, month=1, day=1).date(),
                    "month_to": pd.Timestamp(year=year, month=12, day=1).date(),
                    "indicator": indicator,
                    "value": v,
                    "unit": unit,
                    "source_file": src.display,
                    "line": i,
                    "file_sha256": sha,
                }
            )
    reason = (
        f"the {SUSPECT_YEAR} row of a hospital-admissions file is refused (it does not "
        "continue the series)"
        if refused
        else ""
    )
    return PartnerFrame(pd.DataFrame(out, columns=list(PARTNER_COLUMNS)), refused, reason)


def _read_lsoa(src: SourceFile, sha: str) -> PartnerFrame:
    rows = list(csv.reader(io.StringIO(_text(src))))
    header = [c.strip() for c in rows[0]] if rows else []
    check_columns(INDICATORS, header, path=src.display, what="partner indicators")
    given = [c for c in header if c in INDICATOR_COLUMNS]
    if not given:
        raise InputError(
            f"no indicator column (expected some of: {', '.join(INDICATOR_COLUMNS)})",
            path=src.display,
            line=1,
        )
    cat = default_indicators()
    pos = {c: header.index(c) for c in header}
    out: list[dict[str, object]] = []
    for i, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise InputError(
                f"{len(row)} fields, expected {len(header)} (as in the header)",
                path=src.display,
                line=i,
            )
        month = row[pos["month"]].strip()
        if not _MONTH.match(month):
            raise InputError(
                f"month {month!r}: expected YYYY-MM",
                path=src.display,
                line=i,
                column=pos["month"] + 1,
                column_name="month",
            )
        code = row[pos["lsoa_code"]].strip()
        if not code:
            raise InputError(
                "blank LSOA code",
                path=src.display,
                line=i,
                column=pos["lsoa_code"] + 1,
                column_name="lsoa_code",
            )
        first = pd.Timestamp(f"{month}-01").date()
        for c in given:
            v = _number(row[pos[c]], src=src, line=i, col=pos[c] + 1, name=c)
            if v is None:
                continue
            if v != int(v):
                raise InputError(
                    f"{row[pos[c]]!r}: expected a whole count",
                    path=src.display,
                    line=i,
                    column=pos[c] + 1,
                    column_name=c,
                )
            ind = INDICATOR_COLUMNS[c]
            out.append(
                {
                    "area_code": code,
                    "area_name": None,
                    "area_level": LSOA_LEVEL,
                    "period": month,
                    "month_from": first,
                    "month_to": first,
                    "indicator": ind,
                    "value": v,
                    "unit": cat.get(ind).unit,
                    "source_file": src.display,
                    "line": i,
                    "file_sha256": sha,
                }
            )
    return PartnerFrame(pd.DataFrame(out, columns=list(PARTNER_COLUMNS)))


def read_partner_file(src: SourceFile | str | Path) -> PartnerFrame:
    """Read and check one partner file (either family): its rows, and what it refused.

    Raises
    ------
    InputError
        Naming file, line and column: an unknown layout, a rate file, a year or month
        that is not one, a value that is not a count.
    """
    s = src if isinstance(src, SourceFile) else SourceFile(Path(src))
    if s.member is None and not s.path.exists():
        raise InputError("no such file", path=s.display)
    sha = s.sha256()
    family = ADAPTER.recognise(s)
    if family == "bdd_wide":
        kind = _wide_kind(s)
        assert kind is not None
        indicator, level, refusal = kind
        if refusal:
            raise InputError(refusal, path=s.display)
        unit = default_indicators().get(indicator).unit
        return _read_wide(s, indicator, level, sha, unit)
    if family == "indicators":
        return _read_lsoa(s, sha)
    raise InputError(
        "not a partner file: expected a drug-statistics file (deaths_misuse.csv, "
        "hospital_admissions/misuse.csv, ...: 'year' then one column per area) or per-LSOA "
        f"indicators (month, lsoa_code and some of {', '.join(INDICATOR_COLUMNS)})",
        path=s.display,
        line=1,
    )


def write_partners(con: duckdb.DuckDBPyConnection, frames: Sequence[pd.DataFrame]) -> int:
    """Insert checked partner rows into ``partner_indicators``, all or nothing.

    Rows of a (file content, indicator) pair already in the table, or given twice in the
    batch, are left out: loading is idempotent. Returns the rows written.
    """
    loaded = set(
        con.execute("SELECT DISTINCT file_sha256, indicator FROM partner_indicators").fetchall()
    )
    parts: dict[tuple[str, str], pd.DataFrame] = {}
    for f in frames:
        for key, g in f.groupby(["file_sha256", "indicator"], sort=False):
            k = (str(key[0]), str(key[1]))
            if k not in loaded and k not in parts:
                parts[k] = g
    if not parts:
        return 0
    rows = pd.concat(parts.values(), ignore_index=True)
    con.register("_hs_partners", rows)
    try:
        con.execute(
            f"INSERT INTO partner_indicators SELECT {', '.join(PARTNER_COLUMNS)} FROM _hs_partners"
        )
    finally:
        con.unregister("_hs_partners")
    return len(rows)


INDICATORS = Family(
    "indicators",
    ("partner_indicators",),
    {"month": "month", "lsoa_code": "lsoa_code", **{c: c for c in INDICATOR_COLUMNS}},
    ("month", "lsoa_code"),
    closed=True,
    description="per LSOA and month: overdoses, drug deaths, needle finds, treatment entries",
)
BDD_WIDE = Family(
    "bdd_wide",
    ("partner_indicators",),
    {"year": "period"},
    ("year",),
    closed=False,  # one column per area, whatever the areas are
    description="one row per year, one column per area (drug deaths, hospital admissions)",
)


@dataclass(frozen=True)
class PartnerBatch(Batch):
    """A :class:`~harmscope.sources.base.Batch` that also says what it refused."""

    refused: dict[str, str] = field(default_factory=dict)
    """File -> why rows of it were refused (the suspect 2020 rows)."""


class Partners:
    """Source adapter for partner indicators (see the module notes)."""

    name = "partners"
    families = MappingProxyType({"indicators": INDICATORS, "bdd_wide": BDD_WIDE})

    def discover(self, paths: Iterable[str | Path]) -> Discovery:
        def accept(src: SourceFile) -> bool:
            kind = _wide_kind(src)
            if kind is not None:
                return kind[2] is None  # rate files in a folder are passed over quietly
            return self.recognise(src) == "indicators"

        return walk(paths, accept)

    def recognise(self, src: SourceFile) -> str | None:
        if not src.name.lower().endswith(".csv"):
            return None
        cols = _header(src)
        if _wide_kind(src) is not None and "year" in cols[:2]:
            return "bdd_wide"
        if {"month", "lsoa_code"} <= set(cols) and set(cols) & set(INDICATOR_COLUMNS):
            return "indicators"
        return None

    def check_columns(self, src: SourceFile) -> Family:
        family = self.recognise(src)
        if family is None:
            read_partner_file(src)  # raises, naming what was expected
        fam = self.families[family or "indicators"]
        if fam is INDICATORS:
            check_columns(INDICATORS, _header(src), path=src.display, what="partner indicators")
        return fam

    def provenance(self, src: SourceFile) -> Provenance:
        return Provenance(self.name, self.recognise(src) or "", src.display, src.sha256())

    def prepare(
        self,
        paths: Sequence[str | Path],
        *,
        lenient: bool = False,
        progress: Progress | None = None,
        indicators: Collection[str] | None = None,
    ) -> PartnerBatch:
        """Read and check every partner file under ``paths``; nothing is written yet.

        ``indicators`` keeps only those indicator ids (a :class:`KeyError` names an
        unknown one).
        """
        no_lenient(self.name, lenient)
        if indicators is not None:
            cat = default_indicators()
            for ind in indicators:
                cat.get(ind)
        files = self.discover(paths).files
        if not files:
            raise InputError("no partner file found here", path=", ".join(map(str, paths)))
        frames = []
        refused: dict[str, str] = {}
        for k, src in enumerate(files):
            if progress:
                progress("checking partner files", k, len(files))
            got = read_partner_file(src)
            frame = got.frame
            if indicators is not None:
                frame = frame[frame["indicator"].isin(set(indicators))]
            frames.append(frame)
            if got.refused:
                refused[src.display] = got.refused_reason
        # Every file is checked before anything is written: one bad file loads nothing.
        return PartnerBatch(self.name, len(files), partial(write_partners, frames=frames), refused)


ADAPTER = Partners()
