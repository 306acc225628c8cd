"""The groups lens: OCGs, gangs, county lines and family networks ranked by forecast harm.

A group's harm is the sum over its members (``member_of`` links weighted by their grading,
or the group on the nominal's record), the linked offences of its buyers (``buys_from``
links to a member) and group-level intelligence (its ``cuckoos`` links, reports about its
markets by people not known as members): :mod:`harmscope.people.units`.
Score: the decayed monthly rate (reports weighted by ``ForecastModel.intel``) times the
period's length (``forecast_harm``).
Personal data, audited, as the people lens (:mod:`harmscope.priorities.people`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from harmscope.priorities.people import rank_units

__all__ = ["rank_groups"]


def rank_groups(source: Any, **options: Any) -> pd.DataFrame:
    """Groups ranked by forecast harm (:func:`~harmscope.priorities.people.rank_units`)."""
    return rank_units("groups", source, **options)
