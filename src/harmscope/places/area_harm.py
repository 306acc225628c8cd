"""Harm per LSOA: totals over a period, per 1,000 residents, beside deprivation.

The analyst's first table: which neighbourhoods bear the most harm, how that compares with
their population, and how it lines up with the Index of Multiple Deprivation. Built on
:func:`harmscope.harm.harm_by_area` (per LSOA per month, in the engine) joined to the
warehouse ``areas`` table.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import ibis
import ibis.expr.types as ir

from harmscope.harm import harm_by_area
from harmscope.harm.selection import DEFAULT_HARM


def area_harm(
    events: ir.Table,
    areas: ir.Table,
    *,
    scheme: Any = "cchi",
    months: tuple[Any, Any] | None = None,
    lsoas: str | Collection[str] | None = None,
    by_month: bool = False,
    harm: str = DEFAULT_HARM,
    attribution: Any = None,
    types: Collection[str] | None = None,
) -> ir.Table:
    """Harm and activity per LSOA (optionally per month), with population and IMD decile.

    Parameters
    ----------
    events, areas : ibis.Table
        Warehouse ``events`` and ``areas``.
    scheme : Scheme, str or path-like
        Weight scheme (``"cchi"``: days of imprisonment per the Cambridge Crime Harm Index).
    months : (from, to), optional
        Inclusive month bounds (``'YYYY-MM'``).
    lsoas : str or collection of str, optional
        Restrict to these LSOAs.
    by_month : bool, default False
        One row per LSOA and month instead of per LSOA.
    harm : {'drug', 'all'}, default 'drug'
        View of harm: drug-attributed (default) or every crime's.
    attribution : Attribution or path, optional
        Attributable fractions of the drug view.
    types : collection of str, optional
        Only these crime types (police.uk names, any case).

    Returns
    -------
    ibis.Table
        ``lsoa_code, lsoa_name, lad_name, population, imd_decile, harm, activity,
        harm_events, activity_events, harm_per_1000`` (and ``month`` when ``by_month``),
        most harmful first. ``harm_per_1000`` is harm per 1,000 residents over the rows'
        period (NULL where population is unknown). Events without an LSOA are left out.
    """
    per = harm_by_area(
        events,
        scheme=scheme,
        months=months,
        lsoas=lsoas,
        drop_unlocated=True,
        harm=harm,
        attribution=attribution,
        types=types,
    )
    keys = ["lsoa_code", "month"] if by_month else ["lsoa_code"]
    agg = per.group_by(keys).aggregate(
        harm=per.harm.sum(),
        activity=per.activity.sum(),
        harm_events=per.harm_events.sum(),
        activity_events=per.activity_events.sum(),
    )
    a = areas.select("lsoa_code", "lsoa_name", "lad_name", "population", "imd_decile")
    # The name police.uk publishes, for LSOAs the areas table does not (yet) hold.
    named = events.filter(events.lsoa_code.notnull() & events.lsoa_name.notnull())
    names = named.group_by("lsoa_code").aggregate(published_name=named.lsoa_name.max())
    joined = (
        agg.left_join(a, agg.lsoa_code == a.lsoa_code)
        .drop("lsoa_code_right")
        .left_join(names, "lsoa_code")
        .drop("lsoa_code_right")
    )
    joined = joined.mutate(lsoa_name=joined.lsoa_name.coalesce(joined.published_name))
    # Without the areas row, the local authority is the LSOA name's district part
    # ("City of London 001F" -> "City of London"; harmscope.places.names.local_authority).
    joined = joined.mutate(
        lad_name=joined.lad_name.coalesce(joined.lsoa_name.re_replace(r" \d{3}[A-Z]$", ""))
    )
    pop = joined.population.cast("float64")
    out = joined.mutate(
        harm_per_1000=ibis.ifelse(pop > 0, joined.harm / pop * 1000.0, ibis.null("float64"))
    )
    cols = [
        "lsoa_code",
        *(["month"] if by_month else []),
        "lsoa_name",
        "lad_name",
        "population",
        "imd_decile",
        "harm",
        "activity",
        "harm_events",
        "activity_events",
        "harm_per_1000",
    ]
    order = [ibis.desc("harm"), "lsoa_code"] if not by_month else ["month", ibis.desc("harm")]
    return out.select(*cols).order_by(order)


def harm_by_imd_decile(table: ir.Table) -> ir.Table:
    """Collapse an :func:`area_harm` result to IMD deciles (1 = most deprived).

    Returns ``imd_decile, lsoas, population, harm, harm_per_1000`` — the deprivation
    gradient of harm. LSOAs without a decile (Wales, synthetic areas without one) form a
    NULL row.
    """
    g = table.group_by("imd_decile").aggregate(
        lsoas=table.lsoa_code.nunique(),
        population=table.population.sum(),
        harm=table.harm.sum(),
    )
    pop = g.population.cast("float64")
    return g.mutate(
        harm_per_1000=ibis.ifelse(pop > 0, g.harm / pop * 1000.0, ibis.null("float64"))
    ).order_by("imd_decile")


def top_areas(table: ir.Table, n: int) -> ir.Table:
    """The ``n`` most harmful rows of an :func:`area_harm` result.

    Parameters
    ----------
    table : ibis.Table
        An :func:`area_harm` result, per LSOA or per LSOA and month.
    n : int
        Rows to keep (per month when ``table`` has a ``month`` column).

    Returns
    -------
    ibis.Table
        Per LSOA: the ``n`` LSOAs with most harm. Per LSOA and month: the ``n`` most harmful
        LSOAs *of each month* (ties broken by LSOA code), months in order; a plain limit
        would return the first month's rows only.
    """
    if n < 0:
        raise ValueError(f"top: expected a count >= 0, got {n}")
    order = [ibis.desc("harm"), "lsoa_code"]
    if "month" not in table.columns:
        return table.order_by(order).limit(n)
    # row_number is 0-based in Ibis.
    ranked = table.mutate(rank_in_month=ibis.row_number().over(group_by="month", order_by=order))
    return ranked.filter(ranked.rank_in_month < n).drop("rank_in_month").order_by(["month", *order])
