"""Harm linked to a market through force records: crimes its sellers and its buyers commit.

police.uk never says who committed a crime; a force's records system does (crime-person
links, docs/force-records.md). A market's people are

``sellers``
    the nominals the force records in that market (the nominal index's ``market_id``);
``buyers``
    the nominals an intelligence link records as buying from one of its sellers
    (``buys_from`` among the intelligence links (``links`` format), graded 1-3 in the 3x5x2 system as
    :data:`~harmscope.markets.sites.REPORT_GRADES`: 4, not known, and 5, suspected false,
    are left out).

A market's **linked harm** is the scheme-weighted harm of the recorded street crimes (police.uk
Crime ID) linked, as suspect or offender, to one of its people, each crime counted once per
market wherever it happened. The sellers' crimes are the market's violence and disorder; the
buyers' are the acquisitive crime that funds use, a harm of the market the UKDPC review counts
(UKDPC 2009, ch. 2) and one the sellers' links alone never show. The link attributes the
crime to the market, so every crime is weighed in full (the ``all`` view): the
drug-attributable fractions estimate a share when no such link is known.

The tables hold personal data, so they are read through
:func:`harmscope.warehouse.personal.read_personal` (audited: who and why); without force
records (or without a user and reason) there is no linked harm.

References
----------
UK Drug Policy Commission (2009). *Refocusing drug-related law enforcement to address harms*.
    London: UKDPC.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from harmscope.harm import select_events
from harmscope.harm.weigh import SchemeLike, event_key, weigh
from harmscope.markets.sites import REPORT_GRADES
from harmscope.periods import Months
from harmscope.sources.records.formats import FORMATS
from harmscope.warehouse.handle import Warehouse
from harmscope.warehouse.personal import read_personal

__all__ = [
    "BUYER_LINK",
    "LINK_ROLES",
    "PEOPLE_COLUMNS",
    "linked_crimes",
    "linked_harm",
    "linked_totals",
]

#: Crime-person roles that tie a crime to the person's market (victims do not).
LINK_ROLES: tuple[str, ...] = ("suspect", "offender")

#: Intelligence link type (``records_links``) making its source a buyer of the target's market.
BUYER_LINK = "buys_from"

#: Columns of :func:`linked_crimes`.
PEOPLE_COLUMNS: tuple[str, ...] = ("crime_id", "market_id", "via")

#: The tables read (named by their formats: only the loader and the audited read name them).
_LINKS = FORMATS["crime_people"].table
_NOMINALS = FORMATS["nominals"].table
_INTEL_LINKS = FORMATS["links"].table


def linked_crimes(source: Any, *, user: str, reason: str) -> pd.DataFrame | None:
    """Crimes linked to a market's sellers or buyers (audited read; module docstring).

    Returns
    -------
    DataFrame or None
        :data:`PEOPLE_COLUMNS`: ``crime_id``, ``market_id`` and ``via`` (``seller`` or
        ``buyer``: whose link ties the crime to the market), one row per crime and market (a
        crime linked to both a seller and a buyer of one market is the seller's). None when
        the warehouse holds no crime-person link (no table, or an empty one) or no nominal
        index; without intelligence
        links a market has sellers only. Call it before opening the warehouse read-only (the
        audit row needs a writable connection).
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
        if links.empty:  # tables without rows: no links known, so no linked harm either
            return None
        people = read_personal(
            wh, _NOMINALS, user=user, reason=reason, columns=["nominal_id", "market_id"]
        )
        intel = None
        if wh.has(_INTEL_LINKS):
            intel = read_personal(
                wh,
                _INTEL_LINKS,
                user=user,
                reason=reason,
                columns=["source_id", "target_id", "intelligence_assessment"],
                where={"link_type": [BUYER_LINK]},
            )
    sellers = people[people["market_id"].notna() & (people["market_id"].astype(str) != "")]
    sellers = sellers.assign(via="seller")
    members = [sellers[["nominal_id", "market_id", "via"]]]
    if intel is not None and not intel.empty:
        graded = intel[intel["intelligence_assessment"].astype(str).isin(REPORT_GRADES)]
        buyers = graded.merge(
            sellers[["nominal_id", "market_id"]], left_on="target_id", right_on="nominal_id"
        )
        buyers = buyers[["source_id", "market_id"]].rename(columns={"source_id": "nominal_id"})
        members.append(buyers.assign(via="buyer"))
    who = pd.concat(members, ignore_index=True)
    pairs = links.merge(who, on="nominal_id")[list(PEOPLE_COLUMNS)]
    # a crime counts once per market; a seller's link names it before a buyer's
    pairs = pairs.sort_values(["crime_id", "market_id", "via"], ascending=[True, True, False])
    pairs = pairs.drop_duplicates(["crime_id", "market_id"], keep="first")
    return pairs.reset_index(drop=True)


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
        :func:`linked_crimes` (``crime_id``, ``market_id``; a pair listed twice counts once).
    scheme : Scheme or name, default 'cchi'
    months : (from, to), optional

    Returns
    -------
    Series
        Linked harm by force market id (markets with no linked crime are absent).
    """
    return linked_totals(events, pairs, scheme=scheme, months=months)["harm"]


def linked_totals(
    events: Any,
    pairs: pd.DataFrame,
    *,
    scheme: SchemeLike = "cchi",
    months: Months | None = None,
) -> pd.DataFrame:
    """:func:`linked_harm` (``harm``) and the number of linked harmful crimes (``crimes``) by
    force market id: the count gives the linked harm its Poisson range on the board."""
    if pairs.empty:
        return pd.DataFrame(
            {"harm": pd.Series(dtype="float64"), "crimes": pd.Series(dtype="int64")}
        )
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
    once = pairs[["crime_id", "market_id"]].drop_duplicates()
    joined = once.merge(crimes, on="crime_id")
    by = joined.groupby("market_id")
    return pd.DataFrame(
        {"harm": by["weight"].sum().astype("float64"), "crimes": by.size().astype("int64")}
    )
