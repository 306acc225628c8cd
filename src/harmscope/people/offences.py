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
        Crime-person links: ``crime_id, nominal_id, role`` and any other columns (kept).
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
        types), ``kind`` (``harm``/``activity``) and ``split`` (1 / the number of the crime's
        links of the same side: offenders and suspects together, or victims).
        ``attrs["unmatched"]``: links whose Crime ID no street row holds.
    """
    base = links[["crime_id", "nominal_id", "role"]].copy()
    ids = pd.DataFrame({"crime_id": base["crime_id"].astype(str).unique()})
    street = select_events(events, types=types)
    street = street.filter((street.source == "street") & street.crime_id.notnull())
    weighed = weigh_keyed(street, scheme)
    wanted = ibis.memtable(ids, schema={"crime_id": "string"})
    joined = weighed.inner_join(wanted, weighed.crime_id == wanted.crime_id)
    crimes = (
        joined.group_by(joined.crime_id)
        .aggregate(
            event_key=joined.event_key.arbitrary(),
            weight=joined.weight.max(),
            kind=joined.kind.arbitrary(),
        )
        .to_pandas()
    )
    crimes["weight"] = np.where(crimes["kind"] == "harm", crimes["weight"], 0.0)
    out = links.merge(crimes, on="crime_id", how="inner")
    side = np.where(out["role"].isin(OFFENDING_ROLES), "offending", "victim")
    n = out.groupby([out["crime_id"], side])["nominal_id"].transform("size")
    out["split"] = 1.0 / n.to_numpy()
    out.attrs["unmatched"] = int(len(links) - len(out))
    return out
