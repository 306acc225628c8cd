"""Markets known from intelligence: the force's market list and graded reports naming markets.

Detection (:mod:`harmscope.markets.detection`) starts from these *sites* and adds the hot spots
of market activity no intelligence explains. Two kinds of intelligence locate a market:

``known``
    The force's own list of drug markets (``records_markets``, filled by ``harmscope
    load-records`` from a ``markets`` file, docs/force-records.md): a market with its cell
    (``cell_x``, ``cell_y``, BNG metres). The table holds no personal data, so any lens reads it.
``reports``
    Markets the force's list does not hold but that at least :data:`MIN_REPORTS` graded
    intelligence reports name (their ``market_id``), counting only reports whose
    intelligence assessment is 1-3 in the 3x5x2 system (known directly, known indirectly and
    corroborated, known indirectly; College of Policing 2016) — 4 (not known) and 5
    (suspected false) are left out. Reports are personal data: they are read only through
    :func:`harmscope.warehouse.personal.read_personal` (audited), so only with a user and a
    reason. A report names an LSOA, not a point: the site is the cell of the reports' most
    named LSOA with most market activity (drug offences and drug finds), leaving out cells
    within ``reach`` of a site already placed, so two markets in one LSOA do not share a cell.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from harmscope.markets.model import MarketSite
from harmscope.sources.records.formats import FORMATS
from harmscope.warehouse.handle import Warehouse
from harmscope.warehouse.personal import read_personal

__all__ = [
    "MIN_REPORTS",
    "REPORT_GRADES",
    "known_sites",
    "read_reports",
    "report_counts",
    "reported_sites",
]

#: Fewest graded reports naming a market that make it a site.
MIN_REPORTS = 3

#: Intelligence assessments (3x5x2) a report needs to count.
REPORT_GRADES: tuple[str, ...] = ("1", "2", "3")

#: Table of the force's known markets (non-personal).
KNOWN_TABLE = FORMATS["markets"].table
#: Table of graded intelligence reports (personal: read through read_personal only).
REPORTS_TABLE = FORMATS["reports"].table


def _snap(value: float, cell_size: float) -> float:
    return float(math.floor(float(value) / cell_size) * cell_size)


def known_sites(wh: Warehouse, *, cell_size: float) -> list[MarketSite]:
    """The force's known markets with a cell (``records_markets``), on the ``cell_size`` grid.

    Returns an empty list when no markets file was loaded. Rows without ``cell_x``/``cell_y``
    are left out (they cannot be placed).
    """
    if not wh.has(KNOWN_TABLE):
        return []
    # Through Ibis, so any engine holding the table answers (not only DuckDB).
    table = wh.table(KNOWN_TABLE)
    frame = (
        table.filter(table.cell_x.notnull() & table.cell_y.notnull())
        .select("market_id", "cell_x", "cell_y", "market_type", "mode")
        .order_by("market_id")
        .to_pandas()
    )
    out = []
    for r in frame.itertuples(index=False):
        kind = " ".join(str(v) for v in (r.market_type, r.mode) if isinstance(v, str) and v)
        out.append(
            MarketSite(
                id=str(r.market_id),
                cell_x=_snap(r.cell_x, cell_size),
                cell_y=_snap(r.cell_y, cell_size),
                source="known",
                detail=f"on the force's market list as {r.market_id}"
                + (f" ({kind.replace('_', '-')})" if kind else ""),
            )
        )
    return out


def report_counts(
    reports: pd.DataFrame,
    *,
    exclude: Sequence[str] = (),
    grades: Sequence[str] = REPORT_GRADES,
    min_reports: int = MIN_REPORTS,
) -> pd.DataFrame:
    """Markets named by at least ``min_reports`` reports graded ``grades``, with their LSOA.

    Parameters
    ----------
    reports : DataFrame
        ``market_id``, ``lsoa_code``, ``intelligence_assessment`` (the reports table).
    exclude : sequence of str
        Market ids already placed (the known ones).

    Returns
    -------
    DataFrame
        ``market_id``, ``reports`` (count), ``lsoa_code`` (the most named LSOA; ties: the
        first in code order), most reports first (ties by id).

    Examples
    --------
    >>> r = pd.DataFrame({"market_id": ["M1"] * 3 + ["M2"],
    ...                   "lsoa_code": ["E1", "E1", "E2", "E3"],
    ...                   "intelligence_assessment": ["1", "3", "2", "1"]})
    >>> report_counts(r).to_dict("records")
    [{'market_id': 'M1', 'reports': 3, 'lsoa_code': 'E1'}]
    """
    cols = ["market_id", "reports", "lsoa_code"]
    grade = reports["intelligence_assessment"].astype(str)
    named = reports[
        reports["market_id"].notna()
        & (reports["market_id"].astype(str).str.strip() != "")
        & reports["lsoa_code"].notna()
        & grade.isin([str(g) for g in grades])
        & ~reports["market_id"].astype(str).isin([str(e) for e in exclude])
    ]
    if named.empty:
        return pd.DataFrame(columns=cols)
    counts = named.groupby("market_id").size().rename("reports")
    counts = counts[counts >= min_reports]
    where = (
        named[named["market_id"].isin(counts.index)]
        .groupby(["market_id", "lsoa_code"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["market_id", "n", "lsoa_code"], ascending=[True, False, True])
        .drop_duplicates("market_id")
        .set_index("market_id")["lsoa_code"]
    )
    out = counts.to_frame().join(where).reset_index()
    out = out.sort_values(["reports", "market_id"], ascending=[False, True], kind="stable")
    return out[cols].reset_index(drop=True)


def read_reports(source: Any, *, user: str, reason: str) -> pd.DataFrame:
    """Graded reports' ``market_id``, ``lsoa_code``, ``intelligence_assessment`` (audited read).

    Read through :func:`~harmscope.warehouse.personal.read_personal`, so the read is logged with
    ``user`` and ``reason``; an empty frame when no reports were loaded. Call it before opening
    the warehouse read-only (the audit row needs a writable connection).
    """
    cols = ["market_id", "lsoa_code", "intelligence_assessment"]
    with Warehouse.of(source, read_only=False) as wh:
        if not wh.has(REPORTS_TABLE):
            return pd.DataFrame(columns=cols)
        return read_personal(wh, REPORTS_TABLE, user=user, reason=reason, columns=cols)


def reported_sites(
    counts: pd.DataFrame,
    cells: pd.DataFrame,
    *,
    placed: Sequence[MarketSite] = (),
    reach: float = 250.0,
) -> list[MarketSite]:
    """Markets named in graded reports and not on the force's list, placed on cells.

    Parameters
    ----------
    counts : DataFrame
        :func:`report_counts` of the reports.
    cells : DataFrame
        ``cell_x``, ``cell_y``, ``lsoa_code``, ``market``, ``records`` per cell: the LSOA
        most of the cell's located records fall in, its market activity and record count.
    placed : sequence of MarketSite
        Sites already placed (known markets): their ids are left out and their cells (and
        those within ``reach``) are not given to a reported market.
    reach : float, default 250
        Metres.

    Returns
    -------
    list of MarketSite
        ``source='reports'``, in the order of ``counts``.
    """
    done = {s.id for s in placed}
    taken = [(s.cell_x, s.cell_y) for s in placed]
    out: list[MarketSite] = []
    for r in counts.itertuples(index=False):
        if str(r.market_id) in done:
            continue
        here = cells[cells["lsoa_code"] == r.lsoa_code]
        if taken and not here.empty:
            tx = np.array([t[0] for t in taken])
            ty = np.array([t[1] for t in taken])
            near = (np.abs(here["cell_x"].to_numpy()[:, None] - tx[None, :]) <= reach + 1e-6) & (
                np.abs(here["cell_y"].to_numpy()[:, None] - ty[None, :]) <= reach + 1e-6
            )
            free = here[~near.any(axis=1)]
            # An LSOA whose every cell is taken still gets its market, beside the other one.
            here = free if not free.empty else here
        if here.empty:
            continue
        best = here.sort_values(
            ["market", "records", "cell_y", "cell_x"], ascending=[False, False, True, True]
        ).iloc[0]
        site = MarketSite(
            id=str(r.market_id),
            cell_x=float(best["cell_x"]),
            cell_y=float(best["cell_y"]),
            source="reports",
            detail=f"named as {r.market_id} by {int(r.reports)} graded intelligence reports "
            f"(assessment 1-3), most in {r.lsoa_code}",
        )
        out.append(site)
        taken.append((site.cell_x, site.cell_y))
    return out
