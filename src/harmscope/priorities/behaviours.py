"""The behaviours lens: behaviours (violence, exploitation, cuckooing, firearms ...) ranked.

A behaviour's harm is the sum of the graded reports alleging it (severity table days x
3x5x2 confidence) and of the linked offences whose crime type falls under it
(``people/data/behaviours.toml``). Score: the decayed monthly rate (reports weighted by
``ForecastModel.intel``) times the period's length (``forecast_harm``). Reads personal data (the reports and links), audited, as the people lens.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from harmscope.priorities.people import rank_units

__all__ = ["rank_behaviours"]


def rank_behaviours(source: Any, **options: Any) -> pd.DataFrame:
    """Behaviours ranked by forecast harm (:func:`~harmscope.priorities.people.rank_units`)."""
    return rank_units("behaviours", source, **options)
