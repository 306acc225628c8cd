"""Harms of control: what drug enforcement itself costs the people it reaches (UKDPC source
"control"), measured from police records.

Two measured cells, each in the indicator catalogue (``harm/data/partners.toml``):

- **Drug searches that found nothing** (:func:`nil_find_searches`): stop-and-searches for
  controlled drugs that ended in no further action with the outcome not linked to the object
  of the search. Unit: searches (no published weight turns a search into days). Social
  harm (loss of legitimacy and trust) to the individuals searched (Bradford 2017; HMIC 2013).
  Range: from those searches (low and central) to every drug search whose outcome was not
  linked to drugs, whatever the outcome (high: it found no drugs, though it may have found
  something else).
- **Violence after enforcement** (:func:`violence_after_enforcement`): violence in a grid
  cell in the month after a month of more drug enforcement than usual there, above the violence that
  follows its other months (Werb et al. 2011). In the scheme's unit, and **not** added to
  the matrix total: that violence is already in the crime cells.

Both read the ``events`` table through Ibis and pull only aggregates.

References
----------
Bradford, B. (2017). *Stop and search and police legitimacy*. London: Routledge.

HM Inspectorate of Constabulary (2013). *Stop and search powers: are the police using them
effectively and fairly?* London: HMIC.

Werb, D., Rowell, G., Guyatt, G., Kerr, T., Montaner, J. & Wood, E. (2011). Effect of drug
law enforcement on drug market violence: a systematic review. *International Journal of
Drug Policy* 22(2), 87-94.
"""

from __future__ import annotations

import math
from collections.abc import Collection

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from harmscope.harm.measured import Catalogue, MeasuredCell, default_indicators
from harmscope.harm.weigh import STOP_SEARCH_SOURCE, select_events
from harmscope.periods import Months

__all__ = [
    "DRUG_OBJECT",
    "NO_FURTHER_ACTION",
    "VIOLENCE_TYPES",
    "control_cells",
    "excess_after_surges",
    "nil_find_searches",
    "violence_after_enforcement",
]

#: police.uk 'Object of search' of a drug search.
DRUG_OBJECT = "controlled drugs"

#: police.uk search outcomes meaning nothing followed (the current label and the pre-2016 one).
NO_FURTHER_ACTION = ("a no further action disposal", "nothing found - no further action")

#: police.uk crime types counted as violence (current and pre-2013 names).
VIOLENCE_TYPES = ("Violence and sexual offences", "Violent crime")

#: police.uk crime type of drug offences (police-found: drug enforcement).
DRUGS_TYPE = "drugs"

Z95 = 1.959963984540054

#: Grid cell side, metres: the hot-spot grid's default (``places.grid.DEFAULT_CELL_SIZE``).
DEFAULT_CELL_SIZE = 250.0


def _drug_searches(events: ir.Table) -> ir.Table:
    s = events.filter(events.source == STOP_SEARCH_SOURCE)
    return s.filter(s.object_of_search.lower().strip() == DRUG_OBJECT)


def _base(ind_id: str, cat: Catalogue, **fields: object) -> MeasuredCell:
    ind = cat.get(ind_id)
    cell = MeasuredCell(
        harm_type=ind.harm_type,
        bearer=ind.bearer,
        source=ind.source,
        indicator=ind.id,
        label=ind.label,
        kind=ind.kind,
        value=None,
        low=None,
        high=None,
        unit=ind.unit,
        basis="measured",
        refs=list(ind.refs),
        areas=[],
        area_level="lsoa",
        periods=[],
        rows=0,
        note="",
    )
    cell.update(fields)  # type: ignore[typeddict-item]
    return cell


def _months_of(frame: pd.DataFrame) -> list[str]:
    if frame.empty:
        return []
    m = pd.to_datetime(frame["month"])
    return [f"{m.min():%Y-%m}", f"{m.max():%Y-%m}"]


def nil_find_searches(
    events: ir.Table,
    *,
    months: Months | None = None,
    lsoas: Collection[str] | None = None,
    catalogue: Catalogue | None = None,
) -> MeasuredCell | None:
    """Drug searches that found nothing: a measured harm of control, in searches.

    Parameters
    ----------
    events : ibis.Table
        Warehouse ``events`` (stop-and-search rows: ``source = 'stop_search'``, ``outcome``,
        ``outcome_linked``, ``object_of_search``).
    months, lsoas
        As :func:`harmscope.harm.weigh.select_events`.

    Returns
    -------
    MeasuredCell or None
        None when the warehouse holds no stop-and-search record at all (then "no search found
        nothing" would be a false zero). ``value = low``: drug searches with outcome no
        further action and the outcome not linked to the object (blank counts as not
        linked); ``high``: drug searches whose outcome was not linked to drugs, whatever it
        was.
    """
    cat = catalogue or default_indicators()
    if "object_of_search" not in events.columns:
        return None
    if not events.filter(events.source == STOP_SEARCH_SOURCE).limit(1).count().execute():
        return None
    s = _drug_searches(select_events(events, months=months, lsoas=lsoas))
    not_linked = s.outcome_linked.isnull() | (s.outcome_linked == ibis.literal(False))
    nfa = s.outcome.lower().strip().isin(list(NO_FURTHER_ACTION))
    agg = s.aggregate(
        searches=s.count(),
        nil=(nfa & not_linked).ifelse(1, 0).sum(),
        unlinked=not_linked.ifelse(1, 0).sum(),
        first=s.month.min(),
        last=s.month.max(),
    ).execute()
    row = agg.iloc[0]
    n = int(row["searches"])
    nil = 0 if n == 0 else int(row["nil"])
    unlinked = 0 if n == 0 else int(row["unlinked"])
    periods = [] if n == 0 else [f"{row['first']:%Y-%m}", f"{row['last']:%Y-%m}"]
    return _base(
        "nil_find_searches",
        cat,
        value=float(nil),
        low=float(nil),
        high=float(unlinked),
        areas=sorted(lsoas) if lsoas is not None else [],
        periods=periods,
        rows=n,
        note=f"{nil:,} of {n:,} drug searches found nothing and led to no further action",
    )


def _enforcement_violence(
    events: ir.Table, months: Months | None, lsoas: Collection[str] | None, cell_size: float
) -> pd.DataFrame:
    """Per grid cell and month: drug enforcement (drug offences + drug searches) and violence.

    Grid cells, not LSOAs: police.uk stop-and-search records have a location but no LSOA.
    """
    e = select_events(events, months=months, lsoas=lsoas)
    e = e.filter(e.x.notnull() & e.y.notnull() & (e.source != "outcome"))
    kind = e.event_type.lower().strip()
    is_search = e.source == STOP_SEARCH_SOURCE
    drug_search = is_search & (e.object_of_search.lower().strip() == DRUG_OBJECT)
    enforcement = drug_search | (~is_search & (kind == DRUGS_TYPE))
    violent = ~is_search & kind.isin([t.lower() for t in VIOLENCE_TYPES])
    e = e.mutate(
        cell_x=(e.x / cell_size).floor().cast("int64"),
        cell_y=(e.y / cell_size).floor().cast("int64"),
    )
    agg = e.group_by(["cell_x", "cell_y", "month"]).aggregate(
        enforcement=enforcement.ifelse(1, 0).sum(), violence=violent.ifelse(1, 0).sum()
    )
    return agg.execute()


def excess_after_surges(
    enforcement: np.ndarray, violence: np.ndarray
) -> tuple[float, float, int, int]:
    """Excess violence after enforcement surges, for one place's consecutive months.

    Month ``m`` is a *surge* when its enforcement is above the place's median over the
    months; the violence of month ``m + 1`` is compared between surge and other months.

    Returns
    -------
    excess, variance, n_post, n_base
        ``excess = sum(V_post) - n_post * mean(V_base)`` (events) and its Poisson variance
        ``sum(V_post) + n_post**2 * sum(V_base) / n_base**2``; (0, 0, 0, 0) when the
        place has no surge or no other month to compare with.
    """
    e, v, k, b = surge_excess_rows(
        np.asarray(enforcement, float)[None, :], np.asarray(violence, float)[None, :]
    )
    return float(e[0]), float(v[0]), int(k[0]), int(b[0])


def surge_excess_rows(
    enforcement: np.ndarray, violence: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`excess_after_surges` for many places at once, one row each (places x months).

    Set-based so a national warehouse's hundreds of thousands of cells cost one pass of numpy
    (issue 13), not a Python loop per cell. Rows without a surge or without another month to
    compare with get zeros.
    """
    if enforcement.shape[1] < 2:
        zero = np.zeros(enforcement.shape[0])
        return zero, zero, zero.astype(np.int64), zero.astype(np.int64)
    surge = enforcement[:, :-1] > np.median(enforcement, axis=1)[:, None]
    after = violence[:, 1:]
    n_post = surge.sum(axis=1)
    n_base = (~surge).sum(axis=1)
    ok = (n_post > 0) & (n_base > 0)
    post = np.where(surge, after, 0.0).sum(axis=1)
    base = np.where(surge, 0.0, after).sum(axis=1)
    mean_base = np.divide(base, n_base, out=np.zeros_like(base), where=n_base > 0)
    excess = np.where(ok, post - n_post * mean_base, 0.0)
    var = np.where(
        ok,
        post + n_post**2 * np.divide(mean_base, n_base, out=np.zeros_like(base), where=n_base > 0),
        0.0,
    )
    return excess, var, np.where(ok, n_post, 0), np.where(ok, n_base, 0)


def violence_after_enforcement(
    events: ir.Table,
    *,
    violence_weight: float,
    unit: str,
    months: Months | None = None,
    lsoas: Collection[str] | None = None,
    cell_size: float = DEFAULT_CELL_SIZE,
    catalogue: Catalogue | None = None,
) -> MeasuredCell:
    """Violence after drug enforcement, above its baseline: a measured harm of control.

    Parameters
    ----------
    events : ibis.Table
        Warehouse ``events``.
    violence_weight : float
        The scheme's weight of one violent crime (``cchi``: days; ``count``: 1).
    unit : str
        The scheme's unit, which the cell carries.
    months, lsoas
        As :func:`harmscope.harm.weigh.select_events` (with ``lsoas``, searches, which
        police.uk publishes without an LSOA, drop out).
    cell_size : float
        Side of the grid cells, metres (British National Grid).

    Returns
    -------
    MeasuredCell
        ``value`` = excess violent crimes x ``violence_weight`` summed over cells (may be
        negative: less violence after surges), ``low``/``high`` its normal 95% interval;
        ``rows`` the violent crimes compared (after surges and after other months).

    Notes
    -----
    Drug enforcement in a grid cell and month is drug offences recorded (police-found) plus
    searches for drugs located in it. For each cell, every month but the last of the period
    whose enforcement is above the cell's median is a *surge*; the violent crimes of the
    month after each surge are compared with those after its other months
    (:func:`excess_after_surges`), and the excesses are summed over cells with their
    variances. Cells are used rather than LSOAs because police.uk searches carry a location
    but no LSOA. police.uk gives months, not days, so "the weeks after" is "the month after".
    This is an association, not a causal estimate: surges may answer violence already
    rising.
    """
    cat = catalogue or default_indicators()
    frame = _enforcement_violence(events, months, lsoas, cell_size)
    excess = var = 0.0
    n_cells = n_post = records = 0
    if not frame.empty:
        frame["month"] = pd.to_datetime(frame["month"])
        all_months = pd.date_range(frame["month"].min(), frame["month"].max(), freq="MS")
        # cells x months, months with no record of the cell as 0; cells in (x, y) order, not
        # the engine's (which varies from run to run), so the sums below are repeatable
        cell = frame.groupby(["cell_x", "cell_y"], sort=True).ngroup().to_numpy()
        col = all_months.get_indexer(frame["month"])
        grid = np.zeros((2, int(cell.max()) + 1, len(all_months)))
        grid[0, cell, col] = frame["enforcement"].to_numpy(float)
        grid[1, cell, col] = frame["violence"].to_numpy(float)
        e, v, k, _b = surge_excess_rows(grid[0], grid[1])
        used = k > 0
        excess, var = float(e.sum()), float(v.sum())
        n_cells, n_post = int(used.sum()), int(k.sum())
        records = int(grid[1, used, 1:].sum())  # the crimes compared
    sd = math.sqrt(var)
    w = violence_weight
    return _base(
        "violence_after_enforcement",
        cat,
        value=excess * w,
        low=(excess - Z95 * sd) * w,
        high=(excess + Z95 * sd) * w,
        unit=unit,
        areas=sorted(lsoas) if lsoas is not None else [],
        periods=_months_of(frame),
        rows=records,
        note=(
            f"{excess:+,.1f} violent crimes after {n_post:,} surge months in "
            f"{n_cells:,} cells of {cell_size:g} m, against the months after their other months"
        ),
    )


def control_cells(
    events: ir.Table,
    *,
    violence_weight: float,
    unit: str,
    months: Months | None = None,
    lsoas: Collection[str] | None = None,
    catalogue: Catalogue | None = None,
) -> list[MeasuredCell]:
    """Both harms of control (:func:`nil_find_searches` when searches are loaded, and
    :func:`violence_after_enforcement`)."""
    out = []
    nil = nil_find_searches(events, months=months, lsoas=lsoas, catalogue=catalogue)
    if nil is not None:
        out.append(nil)
    out.append(
        violence_after_enforcement(
            events,
            violence_weight=violence_weight,
            unit=unit,
            months=months,
            lsoas=lsoas,
            catalogue=catalogue,
        )
    )
    return out
