"""Linked offences: the harm of the recorded crimes each nominal is linked to.

A crime-person link names a police.uk Crime ID; the crime's harm is its scheme weight
(:func:`harmscope.harm.weigh.weigh_keyed`: activity types such as drug possession found by
police carry no harm). The join runs in the engine on the street rows' Crime IDs; only the
crimes linked come back. A crime's harm is *split* equally among the people linked to it as
offender or suspect (two co-offenders share one robbery, so the harm of a crime is never
counted twice in a group or behaviour sum); victims of the crime share it the same way,
kept apart (role ``victim``) and never added to an offender's harm.
"""

from __future__ import annotations

from collections.abc import Collection

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from harmscope.harm.weigh import SchemeLike, select_events, weigh_keyed

__all__ = ["OFFENDING_ROLES", "linked_offences"]

#: Roles whose links attribute a crime's harm to the nominal (victims are kept apart).
OFFENDING_ROLES = ("offender", "suspect")


def linked_offences(
    links: pd.DataFrame,
    events: ir.Table,
    *,
    scheme: SchemeLike = "cchi",
    types: Collection[str] | None = None,
) -> pd.DataFrame:
    """The crimes behind crime-person links, with each link's share of the crime's harm.

    Parameters
    ----------
    links : DataFrame
        Crime-person links: ``crime_id, nominal_id, role`` and, when present, ``m`` (month
        index); other columns are not kept.
    events : ibis.Table
        Warehouse events (street rows carry ``crime_id``).
    scheme : scheme name, path or Scheme, default 'cchi'
    types : collection of str, optional
        Crime types to keep (``--type``); links to other crimes are left out.

    Returns
    -------
    DataFrame
        The links whose crime is among the street rows, plus ``event_key`` (crime type),
        ``weight`` (all-crime harm of the crime in the scheme's unit; 0 for activity
        types) and ``split`` (1 / the number of the crime's
        links of the same side: offenders and suspects together, or victims).
        ``attrs["unmatched"]``: links whose Crime ID no street row holds.
    """
    keep = [c for c in ("crime_id", "nominal_id", "role", "m") if c in links.columns]
    mine = links[keep].reset_index(drop=True).assign(link_row=lambda d: np.arange(len(d)))
    street = select_events(events, types=types)
    street = street.filter((street.source == "street") & street.crime_id.notnull())
    weighed = weigh_keyed(street, scheme)
    # one row per Crime ID (ingest folds a month's repeats; a crime in two months counts once)
    crimes = weighed.group_by(weighed.crime_id).aggregate(
        event_key=weighed.event_key.arbitrary(),
        weight=ibis.cases((weighed.kind.arbitrary() == "harm", weighed.weight.max()), else_=0.0),
    )
    wanted = ibis.memtable(
        mine[["link_row", "crime_id", "role"]].astype({"crime_id": str, "role": str}),
        schema={"link_row": "int64", "crime_id": "string", "role": "string"},
    )
    joined = wanted.inner_join(crimes, wanted.crime_id == crimes.crime_id)
    got = joined.select(joined.link_row, joined.event_key, joined.weight).to_pandas()
    out = mine.iloc[got["link_row"].to_numpy()].drop(columns="link_row").reset_index(drop=True)
    out["event_key"] = got["event_key"].to_numpy()
    out["weight"] = got["weight"].to_numpy(dtype=float)
    # split: 1 / links of the crime on the same side (set-based: codes and bincount)
    crime = pd.factorize(out["crime_id"])[0]
    side = out["role"].isin(list(OFFENDING_ROLES)).to_numpy()
    key = crime * 2 + side
    out["split"] = 1.0 / np.bincount(key)[key] if len(key) else np.zeros(0)
    out.attrs["unmatched"] = int(len(links) - len(out))
    return out
