"""Assessed cells: an analyst's rating of a matrix cell that no data measure.

Exploitation of children, harm to families and the loss of a neighbourhood's confidence are
harms of drug markets that no police or partner file counts. An analyst records a rating
instead (DESIGN §2): **severity** and **incidence** on the ordinal scales of Greenfield &
Paoli's harm assessment framework, a **confidence** (low, medium, high) and the
**evidence** it rests on, with who made it and when. The priority band of a rating comes
from a configurable lookup (``harm/data/assessment.toml``); the confidence widens the rating
to a range of bands.

Assessed cells are ordinal: they are shown apart from measured cells and never summed into
any total.

References
----------
Greenfield, V. A. & Paoli, L. (2013). A framework to assess the harms of crimes. *British
Journal of Criminology* 53(5), 864-885. (A method; it postdates the UKDPC report.)
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypedDict

import ibis.expr.types as ir
import pandas as pd

from harmscope.errors import SchemeError
from harmscope.harm.taxonomy import Taxonomy, default_taxonomy

__all__ = [
    "ASSESSMENT_FIELDS",
    "CONFIDENCE",
    "DEFAULT_SCALES_PATH",
    "AssessedCell",
    "Assessment",
    "Scales",
    "assessed_cells",
    "default_scales",
    "load_scales",
]

#: Path of the packaged scales and priority lookup.
DEFAULT_SCALES_PATH = Path(str(resources.files("harmscope.harm") / "data" / "assessment.toml"))

#: Confidence grades, lowest first (DESIGN §2).
CONFIDENCE = ("low", "medium", "high")

#: Columns of the ``assessed_cells`` table, in order.
ASSESSMENT_FIELDS = (
    "assessment_id",
    "harm_type",
    "bearer",
    "source",
    "category",
    "area",
    "severity",
    "incidence",
    "confidence",
    "evidence",
    "assessed_by",
    "assessed_at",
)


@dataclass(frozen=True)
class Scales:
    """The rating scales (lowest grade first), the priority lookup and the confidence spread.

    Attributes
    ----------
    severity, incidence, bands : tuple of str
        Grades, lowest first.
    priority : dict of (severity, incidence) to band
    spread : dict of confidence to int
        Grades either way a rating of that confidence could be.
    citation : str
    path : Path
    """

    severity: tuple[str, ...]
    incidence: tuple[str, ...]
    bands: tuple[str, ...]
    priority: dict[tuple[str, str], str]
    spread: dict[str, int]
    citation: str
    path: Path

    def band(self, severity: str, incidence: str) -> str:
        """The priority band of a rating."""
        return self.priority[(severity, incidence)]

    def band_range(self, severity: str, incidence: str, confidence: str) -> tuple[str, str]:
        """Lowest and highest band a rating could be, given its confidence.

        Both scales move ``spread[confidence]`` grades either way (clipped at the ends); the
        bands of the lowest and highest corners are returned.
        """
        k = self.spread[confidence]
        s, i = self.severity.index(severity), self.incidence.index(incidence)
        lo_s, hi_s = max(s - k, 0), min(s + k, len(self.severity) - 1)
        lo_i, hi_i = max(i - k, 0), min(i + k, len(self.incidence) - 1)
        return (
            self.band(self.severity[lo_s], self.incidence[lo_i]),
            self.band(self.severity[hi_s], self.incidence[hi_i]),
        )


def load_scales(path: str | os.PathLike[str] | None = None) -> Scales:
    """Read and check the scales file (the packaged one when omitted).

    Raises
    ------
    SchemeError
        Names the file and key: a missing scale, a lookup row or band that does not fit the
        scales, a confidence without a spread.
    """
    p = DEFAULT_SCALES_PATH if path is None else Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SchemeError(f"{p}: cannot read the assessment scales ({exc})") from exc
    sc = data.get("scales", {})
    sev, inc, bands = (tuple(sc.get(k, ())) for k in ("severity", "incidence", "bands"))
    for key, grades in (("severity", sev), ("incidence", inc), ("bands", bands)):
        if len(grades) < 2 or len(set(grades)) != len(grades):
            raise SchemeError(f"{p}: scales.{key}: expected two or more distinct grades")
    lookup: dict[tuple[str, str], str] = {}
    table = data.get("priority", {})
    for s in sev:
        row = table.get(s)
        if not isinstance(row, list) or len(row) != len(inc):
            raise SchemeError(f"{p}: priority.{s}: expected {len(inc)} bands, one per incidence")
        for i, b in zip(inc, row, strict=True):
            if b not in bands:
                raise SchemeError(f"{p}: priority.{s}: {b!r} is not one of scales.bands")
            lookup[(s, i)] = b
    spread = {}
    for c in CONFIDENCE:
        v = data.get("confidence", {}).get(c, {}).get("spread")
        if not isinstance(v, int) or v < 0:
            raise SchemeError(f"{p}: confidence.{c}.spread: expected a whole number >= 0")
        spread[c] = v
    return Scales(sev, inc, bands, lookup, spread, str(sc.get("citation", "")), p)


@lru_cache(maxsize=1)
def default_scales() -> Scales:
    """The packaged scales (``harm/data/assessment.toml``), read once."""
    return load_scales()


@dataclass(frozen=True)
class Assessment:
    """One analyst's rating of a matrix cell, as recorded (``harmscope assess add``).

    ``category`` is one of the harm type's finer categories (e.g. ``exploitation``) or
    None; ``area`` a free description of where (an LSOA code, a market id, a district).
    """

    harm_type: str
    bearer: str
    source: str
    severity: str
    incidence: str
    confidence: str
    evidence: str
    assessed_by: str
    category: str | None = None
    area: str | None = None

    def check(self, taxonomy: Taxonomy | None = None, scales: Scales | None = None) -> None:
        """Raise :class:`ValueError` naming the first field that is not valid.

        Axes and categories are checked against the taxonomy, grades against the scales;
        evidence and the assessor must not be blank.
        """
        tax = taxonomy or default_taxonomy()
        sc = scales or default_scales()
        allowed = {
            "harm_type": tax.harm_types.ids,
            "bearer": tax.bearers.ids,
            "source": tax.sources.ids,
            "severity": sc.severity,
            "incidence": sc.incidence,
            "confidence": CONFIDENCE,
        }
        for name, ids in allowed.items():
            value = getattr(self, name)
            if value not in ids:
                raise ValueError(f"{name}: expected one of {', '.join(ids)}; got {value!r}")
        if self.category is not None:
            cats = tax.harm_types.get(self.harm_type).children
            if self.category not in cats:
                raise ValueError(
                    f"category: {self.category!r} is not a category of {self.harm_type} "
                    f"(expected one of {', '.join(cats)})"
                )
        for name in ("evidence", "assessed_by"):
            if not str(getattr(self, name)).strip():
                raise ValueError(f"{name}: must not be blank (say what the rating rests on)")


class AssessedCell(TypedDict):
    """One assessed cell as shown beside the matrix (ordinal: no value, never summed).

    ``priority`` is the band of the rating, ``priority_low``/``priority_high`` the bands it
    could be given its confidence; ``superseded`` counts earlier assessments of the same
    cell, category and area.
    """

    harm_type: str
    bearer: str
    source: str
    category: str | None
    area: str | None
    severity: str
    incidence: str
    confidence: str
    priority: str
    priority_low: str
    priority_high: str
    evidence: str
    assessed_by: str
    assessed_at: str
    assessment_id: int
    basis: str
    superseded: int


def _none(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and v != v) else v


def assessed_cells(
    rows: ir.Table | pd.DataFrame | None,
    *,
    scales: Scales | None = None,
    latest: bool = True,
) -> list[AssessedCell]:
    """Assessed cells from ``assessed_cells`` rows.

    Parameters
    ----------
    rows : ibis.Table, DataFrame or None
        The warehouse table (None: no assessment recorded).
    latest : bool
        Keep only the latest assessment of each (harm type, bearer, source, category,
        area), counting the ones it supersedes; False lists every assessment.

    Returns
    -------
    list of AssessedCell
        Highest priority first, then newest first.
    """
    sc = scales or default_scales()
    if rows is None:
        return []
    frame = rows if isinstance(rows, pd.DataFrame) else rows.execute()
    if frame.empty:
        return []
    frame = frame.sort_values(["assessed_at", "assessment_id"], ascending=False)
    key = ["harm_type", "bearer", "source", "category", "area"]
    counts = frame.fillna({"category": "", "area": ""}).groupby(key)["assessment_id"]
    n_by_key = counts.transform("count")
    if latest:
        first = ~frame.fillna({"category": "", "area": ""}).duplicated(key)
        frame, n_by_key = frame[first], n_by_key[first]
    out: list[AssessedCell] = []
    for (_, r), n in zip(frame.iterrows(), n_by_key, strict=True):
        lo, hi = sc.band_range(r["severity"], r["incidence"], r["confidence"])
        at = r["assessed_at"]
        out.append(
            AssessedCell(
                harm_type=r["harm_type"],
                bearer=r["bearer"],
                source=r["source"],
                category=_none(r["category"]),
                area=_none(r["area"]),
                severity=r["severity"],
                incidence=r["incidence"],
                confidence=r["confidence"],
                priority=sc.band(r["severity"], r["incidence"]),
                priority_low=lo,
                priority_high=hi,
                evidence=r["evidence"],
                assessed_by=r["assessed_by"],
                assessed_at=(
                    f"{pd.Timestamp(at):%Y-%m-%dT%H:%M:%SZ}"
                    if isinstance(at, datetime)
                    else str(at)
                ),
                assessment_id=int(r["assessment_id"]),
                basis="assessed",
                superseded=int(n) - 1 if latest else 0,
            )
        )
    rank = {b: i for i, b in enumerate(sc.bands)}
    out.sort(key=lambda c: -rank[c["priority"]])  # stable: newest first within a band
    return out
