"""The harm matrix as every face shows it: cited fractions, the local excess around drug
markets in place of the national distribution share inside their cells, and the measured and
assessed cells beside it (issue 11 items 2, 3, 4, 6).

One function so the ``matrix`` command, the overview report and the coming web app show the
same numbers with the same provenance.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

from harmscope.errors import HarmScopeError
from harmscope.harm import harm_matrix
from harmscope.harm.attribution import load_attribution
from harmscope.harm.evidence import MatrixReport, join_matrix
from harmscope.harm.local import apply_local
from harmscope.harm.selection import DEFAULT_HARM
from harmscope.harm.weigh import SchemeLike
from harmscope.markets.attribution import local_attribution
from harmscope.periods import Months
from harmscope.places.study_area import one_area_per_command
from harmscope.warehouse.handle import Warehouse

__all__ = ["matrix_report"]


def matrix_report(
    source: str | Path,
    *,
    scheme: SchemeLike = "cchi",
    harm: str = DEFAULT_HARM,
    months: Months | None = None,
    lsoas: Collection[str] | None = None,
    types: Collection[str] | None = None,
    attribution: str | os.PathLike[str] | None = None,
    local: bool = True,
) -> tuple[MatrixReport, str]:
    """The matrix of a warehouse with everything that explains it.

    Parameters
    ----------
    source : str or Path
        Warehouse file.
    scheme, harm, months, lsoas, types, attribution
        As :func:`harmscope.harm.harm_matrix`.
    local : bool, default True
        Measure the local excess of harm around drug markets
        (:func:`harmscope.markets.attribution.local_attribution`) and put it in place of the
        national distribution share inside their cells (:func:`harmscope.harm.local.apply_local`).
        Skipped, with the reason in the note, for a selection of LSOAs or crime types (the
        excess is measured on the whole study area and the market-linked types) and when the
        data hold no located records.

    Returns
    -------
    (MatrixReport, str)
        The matrix with its measured and assessed cells, and one sentence on the local
        attribution (what was applied, or why not; '' when ``local`` is False).
    """
    att = load_attribution(attribution)
    with Warehouse.of(source) as wh:
        matrix = harm_matrix(
            wh.events(),
            scheme=scheme,
            attribution=att,
            harm=harm,
            months=months,
            lsoas=lsoas,
            types=types,
        )
    note = ""
    if local and (lsoas or types):
        note = (
            "local attribution not applied: it is measured on the whole study area and the "
            "market-linked crime types (leave out --lsoa and --type)"
        )
    elif local:
        try:
            # On a warehouse path markets() also replays the analysts' curation log. The
            # attribution and its markets share one computation of the study area.
            with one_area_per_command():
                found = local_attribution(source, scheme=scheme, months=months, attribution=att)
        except (HarmScopeError, ValueError) as exc:
            note = f"local attribution not applied: {exc}"
        else:
            excess = found.local_excess()
            matrix = apply_local(matrix, excess)
            low, central, high = excess.total
            n = len(excess.markets)
            note = (
                f"local attribution: {n} drug market{'s' if n != 1 else ''}, excess harm "
                f"{central:,.0f} {matrix.unit} (95% interval {low:,.0f} to {high:,.0f}) in place "
                "of the national distribution share inside their cells"
                if n
                else "local attribution: no drug market found, national fractions stand"
            )
    with Warehouse.of(source) as wh:
        report = join_matrix(
            matrix,
            wh.events(),
            scheme=scheme,
            partners=wh.table("partner_indicators") if wh.has("partner_indicators") else None,
            assessments=wh.table("assessed_cells") if wh.has("assessed_cells") else None,
            months=months,
            lsoas=lsoas,
        )
    return report, note
