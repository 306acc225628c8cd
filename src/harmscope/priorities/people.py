"""The people lens: nominals ranked by the harm they are forecast to cause next period.

Score: ``forecast_harm`` (:mod:`harmscope.people.forecast`): the nominal's recency-decayed
monthly rate of attributed harm — linked offences weighed by the scheme and split among a
crime's offenders and suspects, plus graded intelligence reports valued by the behaviour
severity table and their 3x5x2 confidence — shrunk towards their group's or market's rate,
reduced while remanded in custody, over a period as long as the one ranked. It is a
forecast, not last period's harm (``harm`` shows that beside it): who is most harmful
changes fast (in Northamptonshire over 95 % of each year's highest-harm list was new).

The lens reads personal data: it takes ``user`` and ``reason`` and reads the records only
through :func:`harmscope.warehouse.personal.read_personal` (one ``audit_log`` row per table).
Without records it raises :class:`harmscope.people.records.NoRecordsError`, which the lens
registry turns into ``LensUnavailableError``. :func:`rank_units` serves the groups and
behaviours lenses the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd

from harmscope.harm.selection import DEFAULT_HARM, check_types, selection_attrs
from harmscope.people.attribute import Kind, attribute_harm
from harmscope.people.board import PEOPLE_COLUMNS, board_rows
from harmscope.people.forecast import DEFAULT_MODEL, ForecastModel
from harmscope.people.severity import SeverityTable

__all__ = ["RECORDS_RANK_COLUMNS", "rank_people", "rank_units"]

#: Columns of the people, groups and behaviours lenses.
RECORDS_RANK_COLUMNS: tuple[str, ...] = ("rank", "unit_id", "score", "reasons", *PEOPLE_COLUMNS[2:])


def rank_units(
    kind: Kind,
    source: Any,
    *,
    user: str | None = None,
    reason: str | None = None,
    top: int | None = None,
    months: Sequence[Any] | None = None,
    scheme: str = "cchi",
    harm: str = DEFAULT_HARM,
    types: Collection[str] | None = None,
    severity: SeverityTable | None = None,
    model: ForecastModel = DEFAULT_MODEL,
    reasons: int = 3,
    **_ignored: Any,
) -> pd.DataFrame:
    """Rank nominals, groups or behaviours by forecast harm (see the module docstring).

    Parameters
    ----------
    kind : {'people', 'groups', 'behaviours'}
    source : warehouse path or Warehouse
        With police.uk events and force records loaded.
    user, reason : str
        Who reads the records and why (audited; required).
    top : int, optional
        Keep the first ``top`` rows.
    months : (from, to), optional
        The period ranked; the forecast covers the next period as long.
    scheme, harm, types
        As every lens (``harm='drug'`` by default, ``'all'`` for all crime harm).
    severity, model
        Behaviour severity table and forecast parameters (defaults: the packaged ones).
    reasons : int, default 3
        Matrix cells named per row (``reasons`` repeats ``top_cells``).
    **_ignored
        Options of other lenses (``cell_size``, ``mask`` ...), which do not apply.

    Returns
    -------
    DataFrame
        :data:`RECORDS_RANK_COLUMNS`; ``attrs`` name the lens, unit, period and selection.
    """
    if top is not None and top < 1:
        raise ValueError(f"top must be a positive number of rows, got {top}")
    checked = check_types(types)
    ph = attribute_harm(
        source,
        user=user,
        reason=reason,
        months=months,
        scheme=scheme,
        harm=harm,
        types=checked,
        severity=severity,
        model=model,
    )
    rows = board_rows(ph, kind, top=top, cells=reasons)
    rows.insert(0, "rank", np.arange(1, len(rows) + 1, dtype=np.int64))
    rows.insert(3, "reasons", rows["top_cells"])
    rec = ph.records
    rows.attrs.update(
        {
            "lens": kind,
            "unit": ph.contrib.unit,
            "months": (rec.label(rec.start), rec.label(rec.end)),
            "score": f"harm forecast for the next {rec.months} months",
            "model": {
                "half_life_months": model.half_life,
                "context": model.context,
                "custody": model.custody,
                "intel": model.intel,
                "persistence": model.persistence,
            },
            "unmatched_links": ph.contrib.unmatched_links,
            "unknown_reports": ph.contrib.unknown_reports,
            **selection_attrs(ph.harm, checked),
        }
    )
    return rows[list(RECORDS_RANK_COLUMNS)]


def rank_people(source: Any, **options: Any) -> pd.DataFrame:
    """Nominals ranked by forecast harm (:func:`rank_units` with ``kind='people'``)."""
    return rank_units("people", source, **options)
