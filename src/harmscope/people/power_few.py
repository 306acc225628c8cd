"""The "power few": how much of the harm linked to people falls on the most harmful few.

From the force's crime-person links (the ``crime_people`` records, read only through the audited
:func:`~harmscope.warehouse.personal.read_personal`) and the police.uk crimes they name
(``events``, matched on Crime ID), each person of one role gets the harm of the crimes they
are linked to:

* a crime's harm is its scheme weight (:func:`~harmscope.harm.weigh.weigh`: all harm, or the
  drug-attributed share with ``harm='drug'``, the default view); police-activity types
  (drugs, possession of weapons) carry no harm, as everywhere in HarmScope (DESIGN §3);
* a crime linked to several people of the role is split equally among them, so the people's
  harm adds up to the harm of the linked crimes (offenders share the blame; victims of one
  crime share its harm -- a choice, stated in ``docs/people.md``).

From that it reports the share of harm held by the top 1 %, 5 % and 10 % of the people
(everyone linked in the role counts, including people whose crimes carry no harm), the
smallest share of people holding 80 % and 85 % of it, and, per calendar year, the turnover
of the year's highest-harm list: the share of the list that was on no earlier year's list,
and on not the previous year's. The list is the ``top_list_size`` most harmful people of
the year, or by default the fewest people holding 80 % of that year's harm (the "felonious
few" of Liggins et al. 2019).

Only shares leave this module: no person id is in the result.

References
----------
Liggins, A., Ratcliffe, J. H. & Bland, M. (2019). Targeting the most harmful offenders for
    an English police agency: continuity and change of membership in the "felonious few".
    *Cambridge Journal of Evidence-Based Policing* 3, 80-96. doi:10.1007/s41887-019-00039-7
    (Northamptonshire 2010-16: 7 % of detected offenders linked to 80 % of the harm
    identified to an offender; over 95 % of each year's list new).
Dudfield, G., Angel, C., Sherman, L. W. & Torrence, S. (2017). The "power curve" of victim
    harm: targeting the distribution of crime harm index values across all victims and
    repeat victims over 1 year. *Cambridge Journal of Evidence-Based Policing* 1, 38-58.
    doi:10.1007/s41887-017-0001-3 (Dorset 2015-16: under 4 % of victims suffered 85 % of
    victim harm).
Sherman, L. W. (2007). The power few: experimental criminology and the reduction of harm.
    *Journal of Experimental Criminology* 3, 289-298.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import numpy as np
import pandas as pd

from harmscope.errors import WarehouseError
from harmscope.harm.selection import harm_label
from harmscope.harm.weigh import weigh
from harmscope.sources.records.formats import CRIME_PEOPLE
from harmscope.warehouse.handle import Warehouse
from harmscope.warehouse.personal import read_personal

__all__ = [
    "HOLDING",
    "ROLES",
    "SHARES",
    "PowerFew",
    "holding_share",
    "nominal_harm",
    "power_few",
    "top_shares",
    "turnover",
]

ROLES = ("offender", "victim")
"""Roles analysed (the links' ``role``; suspects are not counted as offenders)."""
SHARES = (0.01, 0.05, 0.1)
"""Top fractions of people reported (top 1 %, 5 %, 10 %)."""
HOLDING = (0.8, 0.85)
"""Harm shares for which the smallest share of people holding them is reported (80 %:
Northamptonshire's offenders; 85 %: Dorset's victims)."""
FELONIOUS_FEW = 0.8
"""Default highest-harm list of a year: the fewest people holding this share of its harm."""
TABLE = CRIME_PEOPLE.table
"""The warehouse table of crime-person links (personal data: read only via read_personal)."""


def nominal_harm(links: pd.DataFrame, crimes: pd.DataFrame, role: str) -> tuple[pd.DataFrame, int]:
    """Harm per person and year from crime-person links.

    Parameters
    ----------
    links : DataFrame
        ``crime_id``, ``nominal_id``, ``role`` and ``month`` (``YYYY-MM`` or a date: the
        month of the crime).
    crimes : DataFrame
        ``crime_id`` and ``harm`` (scheme units per crime, e.g. CCHI days; 0 for police
        activity). Links to crimes not listed here carry no harm and are counted.
    role : {'offender', 'victim'}
        Which links to use.

    Returns
    -------
    per_year : DataFrame
        ``nominal_id``, ``year`` (int) and ``harm`` (the person's share of their crimes'
        harm that year), one row per person and year with a link; sorted by nominal and year.
    unmatched : int
        Links of the role whose crime is not in ``crimes``.
    """
    if role not in ROLES:
        raise ValueError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    mine = links.loc[links["role"] == role, ["crime_id", "nominal_id", "month"]]
    mine = mine.drop_duplicates(["crime_id", "nominal_id"])
    harm = crimes.drop_duplicates("crime_id").set_index("crime_id")["harm"]
    matched = mine["crime_id"].isin(harm.index)
    # Equal split: the people linked to one crime in this role share its harm.
    per_crime = mine.groupby("crime_id")["nominal_id"].transform("size")
    share = mine["crime_id"].map(harm).fillna(0.0).astype(float) / per_crime
    year = pd.to_datetime(mine["month"].astype(str).str[:7], format="%Y-%m").dt.year
    frame = pd.DataFrame({"nominal_id": mine["nominal_id"], "year": year, "harm": share})
    per_year = frame.groupby(["nominal_id", "year"], as_index=False)["harm"].sum()
    return per_year, int((~matched).sum())


def _ranked(harm: pd.Series) -> np.ndarray:
    """Harm values, highest first (ties in any order: only sums of the top k are used)."""
    return np.sort(harm.to_numpy(dtype=float))[::-1]


def top_shares(harm: pd.Series, shares: Sequence[float] = SHARES) -> dict[float, float]:
    """Share of total harm held by the top ``ceil(s * n)`` people, for each ``s``.

    ``harm`` holds one value per person (zeros included: they count in ``n``). NaN when the
    total is zero.
    """
    h = _ranked(harm)
    total = h.sum()
    n = len(h)
    return {
        s: float(h[: max(1, math.ceil(s * n))].sum() / total) if total > 0 else float("nan")
        for s in shares
    }


def holding_share(harm: pd.Series, target: float) -> float:
    """Smallest share of people whose harm adds up to at least ``target`` of the total."""
    h = _ranked(harm)
    total = h.sum()
    if total <= 0:
        return float("nan")
    # A small tolerance so that exactly reaching the target counts despite rounding.
    k = int(np.searchsorted(np.cumsum(h), target * total * (1 - 1e-12))) + 1
    return min(k, len(h)) / len(h)


def _year_list(year_harm: pd.DataFrame, size: int | None) -> set[str]:
    ordered = year_harm.sort_values(["harm", "nominal_id"], ascending=[False, True])
    ordered = ordered[ordered["harm"] > 0]
    if size is None:
        total = ordered["harm"].sum()
        k = int(np.searchsorted(np.cumsum(ordered["harm"].to_numpy()), FELONIOUS_FEW * total))
        size = k + 1
    return set(ordered["nominal_id"].head(size))


def turnover(per_year: pd.DataFrame, top_list_size: int | None = None) -> pd.DataFrame:
    """Each year's highest-harm list and how much of it is new.

    Parameters
    ----------
    per_year : DataFrame
        ``nominal_id``, ``year``, ``harm`` (:func:`nominal_harm`).
    top_list_size : int, optional
        People on a year's list (the most harmful first; ties by nominal id). Default: the
        fewest people holding 80 % of the year's harm. People with no harm are never listed.

    Returns
    -------
    DataFrame
        One row per year: ``year``, ``people`` (linked that year), ``harm`` (that year's
        total), ``list_size``, ``new_vs_earlier`` (share of the list on no earlier year's
        list; NaN for the first year) and ``new_vs_previous`` (share not on the previous
        year's list; NaN when there is no previous year).
    """
    rows: list[dict[str, Any]] = []
    earlier: set[str] = set()
    previous: set[str] | None = None
    last_year: int | None = None
    for year, grp in per_year.groupby("year", sort=True):
        listed = _year_list(grp, top_list_size)
        n = len(listed)
        first = last_year is None
        consecutive = previous is not None and last_year == int(year) - 1
        rows.append(
            {
                "year": int(year),
                "people": int(grp["nominal_id"].nunique()),
                "harm": float(grp["harm"].sum()),
                "list_size": n,
                "new_vs_earlier": float("nan") if first or n == 0 else len(listed - earlier) / n,
                "new_vs_previous": (
                    len(listed - previous) / n
                    if consecutive and previous is not None and n
                    else float("nan")
                ),
            }
        )
        earlier |= listed
        previous, last_year = listed, int(year)
    return pd.DataFrame(
        rows,
        columns=["year", "people", "harm", "list_size", "new_vs_earlier", "new_vs_previous"],
    )


@dataclass(frozen=True)
class PowerFew:
    """The power-few figures of one role (all shares are fractions, 0 to 1).

    Attributes
    ----------
    role, scheme, harm_view : str
        Role analysed, weight scheme, and which harm (``harm_label``: drug-attributed or all).
    people : int
        People linked to at least one crime in the role.
    links, unmatched : int
        Links of the role, and those whose Crime ID is not among the warehouse's street crimes
        (they carry no harm).
    total_harm : float
        Harm of the linked crimes (scheme units, CCHI: days).
    top : dict
        ``{0.01: share of harm held by the top 1 % of people, ...}``.
    holding : dict
        ``{0.8: smallest share of people holding 80 % of the harm, ...}``.
    years : DataFrame
        :func:`turnover` per calendar year.
    top_list_size : int or None
        Size of each year's list (None: the fewest people holding 80 % of the year's harm).
    """

    role: str
    scheme: str
    harm_view: str
    people: int
    links: int
    unmatched: int
    total_harm: float
    top: dict[float, float]
    holding: dict[float, float]
    years: pd.DataFrame = field(repr=False)
    top_list_size: int | None = None

    @property
    def mean_new(self) -> float:
        """Mean over years (from the second) of the share of the list new to it."""
        v = self.years["new_vs_earlier"].dropna()
        return float(v.mean()) if len(v) else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (keys stable: the ``--format json`` contract)."""

        def num(v: float) -> float | None:
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

        return {
            "role": self.role,
            "scheme": self.scheme,
            "harm_view": self.harm_view,
            "people": self.people,
            "links": self.links,
            "unmatched_links": self.unmatched,
            "total_harm": self.total_harm,
            "top_share": {f"{s:g}": num(v) for s, v in self.top.items()},
            "people_holding": {f"{s:g}": num(v) for s, v in self.holding.items()},
            "top_list_size": self.top_list_size,
            "mean_new_vs_earlier": num(self.mean_new),
            "years": [
                {k: (num(v) if isinstance(v, float) else v) for k, v in row.items()}
                for row in self.years.to_dict(orient="records")
            ],
        }

    def to_frame(self) -> pd.DataFrame:
        """Long table for CSV: ``role``, ``measure``, ``year`` (blank: whole period), ``value``."""
        rows: list[tuple[str, str, object, float]] = [
            (self.role, "people", "", float(self.people)),
            (self.role, "links", "", float(self.links)),
            (self.role, "unmatched_links", "", float(self.unmatched)),
            (self.role, "total_harm", "", self.total_harm),
        ]
        rows += [(self.role, f"top_share_{s:g}", "", v) for s, v in self.top.items()]
        rows += [(self.role, f"people_holding_{s:g}", "", v) for s, v in self.holding.items()]
        rows.append((self.role, "mean_new_vs_earlier", "", self.mean_new))
        for r in self.years.itertuples(index=False):
            for measure in ("people", "harm", "list_size", "new_vs_earlier", "new_vs_previous"):
                rows.append((self.role, measure, int(r.year), float(getattr(r, measure))))
        frame = pd.DataFrame(rows, columns=["role", "measure", "year", "value"])
        frame.attrs["harm_view"] = self.harm_view
        return frame


def _crime_harm(
    source: Warehouse | str | os.PathLike[str] | None,
    crime_ids: pd.Series,
    scheme: str,
    harm: str,
) -> pd.DataFrame:
    """Harm per linked crime: the scheme weight of its street row (0 for activity types and
    for types the scheme does not weigh)."""
    ids = pd.DataFrame({"crime_id": crime_ids.drop_duplicates().astype(str).to_numpy()})
    with Warehouse.of(source) as wh:
        wh.require("events")
        ev = wh.events()
        ev = ev.filter((ev.source == "street") & ev.crime_id.notnull())
        wanted = ibis.memtable(ids, schema={"crime_id": "string"})
        ev = ev.semi_join(wanted, "crime_id").select("source", "event_type", "crime_id")
        weighed = weigh(ev, scheme, harm=harm, keep_unknown=True).execute()
    value = weighed["weight"].where(weighed["kind"] == "harm", 0.0).fillna(0.0)
    return pd.DataFrame({"crime_id": weighed["crime_id"], "harm": value.astype(float)})


def power_few(
    db: Warehouse | str | os.PathLike[str] | None = None,
    *,
    user: str | None,
    reason: str | None,
    role: str = "offender",
    scheme: str = "cchi",
    harm: str = "drug",
    top_list_size: int | None = None,
) -> PowerFew:
    """Power-few figures of one role from the warehouse's crime-person links (audited read).

    Parameters
    ----------
    db : Warehouse, path or None
        The warehouse (default :func:`~harmscope.warehouse.handle.default_db`); it must hold
        force records (``load-records``) and the police.uk street crimes they name
        (``ingest``), and be writable (the read is logged).
    user, reason : str
        Who reads the personal data and why (written to ``audit_log``).
    role : {'offender', 'victim'}
        Offenders (links with role ``offender``) or victims.
    scheme : str
        Weight scheme (default ``cchi``: days of imprisonment).
    harm : {'drug', 'all'}
        Drug-attributed harm (default) or all harm.
    top_list_size : int, optional
        People on each year's highest-harm list (default: the fewest holding 80 % of it).

    Returns
    -------
    PowerFew

    Raises
    ------
    AuditError
        No user or reason (nothing is read).
    WarehouseError
        No force records or no street crimes in the warehouse, or no links in the role.
    """
    if role not in ROLES:
        raise ValueError(f"--role {role!r}: expected one of {', '.join(ROLES)}")
    if top_list_size is not None and top_list_size < 1:
        raise ValueError(f"--top-list-size must be at least 1, got {top_list_size}")
    links = read_personal(
        db,
        TABLE,
        user=user,
        reason=reason,
        columns=["crime_id", "nominal_id", "role", "month"],
        where={"role": [role]},
    )
    if links.empty:
        raise WarehouseError(f"{TABLE}: no links with role {role!r}")
    crimes = _crime_harm(db, links["crime_id"], scheme, harm)
    per_year, unmatched = nominal_harm(links, crimes, role)
    per_person = per_year.groupby("nominal_id")["harm"].sum()
    return PowerFew(
        role=role,
        scheme=scheme,
        harm_view=harm_label(harm),
        people=len(per_person),
        links=len(links.drop_duplicates(["crime_id", "nominal_id"])),
        unmatched=unmatched,
        total_harm=float(per_person.sum()),
        top=top_shares(per_person),
        holding={t: holding_share(per_person, t) for t in HOLDING},
        years=turnover(per_year, top_list_size),
        top_list_size=top_list_size,
    )
