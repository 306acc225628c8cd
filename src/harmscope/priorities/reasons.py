"""Reasons for a rank: the harm-matrix cells that contribute most to a unit's harm."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from harmscope.harm.taxonomy import Taxonomy

__all__ = ["matrix_reasons", "short_unit", "spread_by_unit"]


def short_unit(unit: str) -> str:
    """Unit as written in a reason: ``'days of imprisonment'`` → ``'days'``; others unchanged.

    Examples
    --------
    >>> short_unit("days of imprisonment"), short_unit("events")
    ('days', 'events')
    """
    return "days" if unit.strip().lower().startswith("days") else unit.strip()


def matrix_reasons(cells: Iterable[Mapping[str, object]], unit: str, *, k: int = 3) -> list[str]:
    """The ``k`` largest non-zero harm cells as ``'type/bearer/source: value unit (share)'``.

    Parameters
    ----------
    cells : iterable of mapping
        Harm-matrix cells ``{harm_type, bearer, source, value}`` (e.g. ``HarmMatrix.cells``).
    unit : str
        Scheme unit.
    k : int, default 3
        How many reasons.

    Returns
    -------
    list of str
        Largest first; shares are of the unit's total harm (sum of all cells).

    Examples
    --------
    >>> cells = [{"harm_type": "health", "bearer": "individuals", "source": "distribution",
    ...           "value": 1234.0},
    ...          {"harm_type": "economic", "bearer": "individuals", "source": "use",
    ...           "value": 1508.0},
    ...          {"harm_type": "social", "bearer": "society", "source": "control", "value": 0.0}]
    >>> matrix_reasons(cells, "days of imprisonment")
    ['economic/individuals/use: 1,508 days (55%)', 'health/individuals/distribution: 1,234 days (45%)']
    """
    rows = [c for c in cells if float(str(c["value"])) > 0]
    total = sum(float(str(c["value"])) for c in rows)
    rows.sort(key=lambda c: -float(str(c["value"])))
    short = short_unit(unit)
    out = []
    for c in rows[:k]:
        value = float(str(c["value"]))
        out.append(
            f"{c['harm_type']}/{c['bearer']}/{c['source']}: {value:,.0f} {short} "
            f"({value / total:.0%})"
        )
    return out


def spread_by_unit(
    totals: pd.DataFrame, taxonomy: Taxonomy, *, unit_columns: list[str]
) -> pd.DataFrame:
    """Spread per-unit, per-event-type harm over matrix cells by the taxonomy shares.

    Parameters
    ----------
    totals : DataFrame
        ``unit_columns`` + ``event_key`` + ``value`` (harm of that type in that unit).
    taxonomy : Taxonomy
        Where each event type lands (every type in ``totals`` must be mapped).
    unit_columns : list of str
        Columns naming a unit (e.g. ``['cell_x', 'cell_y']``).

    Returns
    -------
    DataFrame
        ``unit_columns`` + ``harm_type``, ``bearer``, ``source``, ``value``: the matrix of each
        unit, as :func:`harmscope.harm.harm_matrix` computes it for the unit's events.
    """
    shares = pd.DataFrame(
        [
            (t, s.harm_type, s.bearer, s.source, s.share)
            for t in sorted(set(totals["event_key"]))
            for s in taxonomy.cells_for(str(t))
        ],
        columns=["event_key", "harm_type", "bearer", "source", "share"],
    )
    spread = totals.merge(shares, on="event_key")
    spread["value"] = spread["value"] * spread["share"]
    return spread.groupby([*unit_columns, "harm_type", "bearer", "source"], as_index=False)[
        "value"
    ].sum()
