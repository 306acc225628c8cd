"""Harm linked to a market through force records: crimes its recorded people are linked to.

police.uk never says who committed a crime; a force's records system does (crime-person
links, docs/force-records.md). A market's **linked harm** is the scheme-weighted harm of the
recorded street crimes (police.uk Crime ID) linked, as suspect or offender, to a nominal the
force records in that market (the nominal index's ``market_id``), each crime counted once per
market wherever it happened. The link attributes the crime to the market, so every crime is
weighed in full (the ``all`` view): the drug-attributable fractions estimate a share when no
such link is known.

Both tables hold personal data, so they are read through
:func:`harmscope.warehouse.personal.read_personal` (audited: who and why); without force
records (or without a user and reason) there is no linked harm.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from harmscope.harm import select_events
from harmscope.harm.weigh import SchemeLike, event_key, weigh
from harmscope.periods import Months
from harmscope.sources.records.formats import FORMATS
from harmscope.warehouse.handle import Warehouse
from harmscope.warehouse.personal import read_personal

__all__ = ["LINK_ROLES", "linked_crimes", "linked_harm"]

#: Crime-person roles that tie a crime to the person's market (victims do not).
LINK_ROLES: tuple[str, ...] = ("suspect", "offender")

#: The tables read (named by their formats: only the loader and the audited read name them).
_LINKS = FORMATS["crime_people"].table
_NOMINALS = FORMATS["nominals"].table


def linked_crimes(source: Any, *, user: str, reason: str) -> pd.DataFrame | None:
    """``crime_id`` and ``market_id`` pairs: crimes linked to a market's nominals (audited).

    Returns None when the warehouse holds no crime-person links or no nominal index. Call it
    before opening the warehouse read-only (the audit row needs a writable connection).
    """
    with Warehouse.of(source, read_only=False) as wh:
        if not (wh.has(_LINKS) and wh.has(_NOMINALS)):
            return None
        links = read_personal(
            wh,
            _LINKS,
            user=user,
            reason=reason,
            columns=["crime_id", "nominal_id"],
            where={"role": LINK_ROLES},
        )
        people = read_personal(
            wh, _NOMINALS, user=user, reason=reason, columns=["nominal_id", "market_id"]
        )
    people = people[people["market_id"].notna() & (people["market_id"].astype(str) != "")]
    pairs = links.merge(people, on="nominal_id")[["crime_id", "market_id"]]
    return pairs.drop_duplicates().reset_index(drop=True)


def linked_harm(
    events: Any,
    pairs: pd.DataFrame,
    *,
    scheme: SchemeLike = "cchi",
    months: Months | None = None,
) -> pd.Series:
    """Harm (scheme unit) of the street crimes linked to each market, over ``months``.

    Parameters
    ----------
    events : ibis.Table
        Warehouse ``events``.
    pairs : DataFrame
        :func:`linked_crimes`.
    scheme : Scheme or name, default 'cchi'
    months : (from, to), optional

    Returns
    -------
    Series
        Linked harm by force market id (markets with no linked crime are absent).
    """
    if pairs.empty:
        return pd.Series(dtype="float64")
    chosen = select_events(events, months=months)
    chosen = chosen.filter(
        (chosen.source == "street") & chosen.crime_id.isin(pairs["crime_id"].unique().tolist())
    )
    chosen = chosen.mutate(event_key=event_key(chosen))
    w = weigh(chosen, scheme, harm="all")
    crimes = (
        w.filter(w.kind == "harm")
        .select("crime_id", "weight")
        .to_pandas()
        .drop_duplicates("crime_id")
    )
    joined = pairs.merge(crimes, on="crime_id")
    return joined.groupby("market_id")["weight"].sum().astype("float64")
