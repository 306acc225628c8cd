"""Who or what each contribution counts for: a nominal, a group, a behaviour.

The same contributions (:mod:`harmscope.people.contributions`) are summed three ways:

* **nominals**: each row counts for its nominal;
* **groups**: a group's harm is the sum over its members — membership from ``member_of``
  intelligence links (weighted by the link's 3x5x2 confidence; a link graded "suspected to
  be false" makes no member) or the group recorded on the nominal (weight 1), the larger of
  the two — plus the linked offences of its **buyers** (nominals a ``buys_from`` link ties
  to a member, weighted by that link's confidence times the member's: users' acquisitive
  crime is part of a market's harm, as in :mod:`harmscope.markets.linked`), plus group-level
  intelligence: ``cuckoos`` links from the group (the cuckooing behaviour's days x the
  link's confidence, in the month first recorded) and reports about the group's markets
  whose subject is not a member;
* **behaviours**: a report counts for the behaviour it alleges, a linked offence for the
  behaviour its crime type falls under (the severity table's ``offences``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope.people.contributions import Contributions, grade_confidence
from harmscope.people.records import Records, month_index

__all__ = [
    "behaviour_rows",
    "buyers",
    "group_markets",
    "group_rows",
    "memberships",
    "nominal_rows",
]

_SCALED = ("all_value", "value", "low", "high")


def nominal_rows(contrib: Contributions) -> pd.DataFrame:
    """The contributions with ``unit`` = the nominal."""
    return contrib.rows.assign(unit=contrib.rows["nominal_id"], weight=1.0)


def behaviour_rows(contrib: Contributions) -> pd.DataFrame:
    """The contributions with ``unit`` = the behaviour id."""
    return contrib.rows.assign(unit=contrib.rows["behaviour"], weight=1.0)


def memberships(records: Records, contrib: Contributions) -> pd.DataFrame:
    """``nominal_id, group_id, weight`` (0-1): who belongs to which group, how surely."""
    links = records.links
    member = links[links["link_type"] == "member_of"]
    by_link = pd.DataFrame(
        {
            "nominal_id": member["source_id"].to_numpy(),
            "group_id": member["target_id"].to_numpy(),
            "weight": grade_confidence(
                contrib.table, member["source_evaluation"], member["intelligence_assessment"]
            ),
        }
    )
    nom = records.nominals
    recorded = nom.loc[nom["group_id"].fillna("").astype(str).str.len() > 0]
    by_record = pd.DataFrame(
        {"nominal_id": recorded["nominal_id"], "group_id": recorded["group_id"], "weight": 1.0}
    )
    both = pd.concat([by_link, by_record], ignore_index=True)
    both = both[both["weight"] > 0]
    return both.groupby(["nominal_id", "group_id"], as_index=False)["weight"].max()


def group_markets(records: Records) -> pd.DataFrame:
    """``group_id, market_id``: the markets each group runs (groups' and markets' records)."""
    g = records.groups
    listed = (
        g.assign(market_id=g["market_ids"].fillna("").astype(str).str.split(";"))
        .explode("market_id")[["group_id", "market_id"]]
        .assign(market_id=lambda d: d["market_id"].str.strip())
    )
    mk = records.markets
    own = mk.loc[mk["group_id"].fillna("").astype(str).str.len() > 0, ["group_id", "market_id"]]
    out = pd.concat([listed, own], ignore_index=True)
    out = out[out["market_id"].astype(str).str.len() > 0]
    return out.drop_duplicates().reset_index(drop=True)


def group_rows(records: Records, contrib: Contributions) -> pd.DataFrame:
    """The contributions counted for groups (``unit`` = group id, ``weight`` = membership)."""
    rows = contrib.rows
    member = memberships(records, contrib)
    of_members = rows.merge(member, on="nominal_id", how="inner")
    for c in _SCALED:
        of_members[c] = of_members[c] * of_members["weight"]
    of_members = of_members.rename(columns={"group_id": "unit"})
    parts = [of_members, _buyer_rows(records, contrib, member)]
    # Group-level intelligence: cuckooing by the group itself.
    links = records.links
    cuckoo = links[(links["link_type"] == "cuckoos") & (links["source_kind"] == "group")]
    bid = contrib.table.behaviour_of_report("cuckooing")
    if len(cuckoo) and bid is not None:
        conf = grade_confidence(
            contrib.table, cuckoo["source_evaluation"], cuckoo["intelligence_assessment"]
        )
        days = contrib.table.behaviours[bid].days
        m = month_index(cuckoo["first_recorded"]).fillna(records.end).clip(lower=records.start)
        parts.append(
            pd.DataFrame(
                {
                    "nominal_id": cuckoo["target_id"].to_numpy(),
                    "m": m.to_numpy(dtype=np.int64),
                    "origin": "link",
                    "role": "cuckoos",
                    "behaviour": bid,
                    "event_key": "",
                    "crime_id": "",
                    "all_value": 0.0,
                    "value": days * conf,
                    "low": days * conf,
                    "high": days,
                    "conf": conf,
                    "unit": cuckoo["source_id"].to_numpy(),
                    "weight": 1.0,
                }
            )
        )
    # Reports about a group's market by people not known as its members.
    rep_market = records.reports[["report_id", "market_id"]].rename(
        columns={"report_id": "crime_id"}
    )
    reports = rows[rows["origin"] == "report"].merge(rep_market, on="crime_id")
    reports = reports.merge(group_markets(records), on="market_id").rename(
        columns={"group_id": "unit"}
    )
    known = member.rename(columns={"group_id": "unit"})[["nominal_id", "unit"]].assign(_m=True)
    reports = reports.merge(known, on=["nominal_id", "unit"], how="left")
    parts.append(reports[reports["_m"].isna()].drop(columns=["_m", "market_id"]).assign(weight=1.0))
    out = pd.concat([p for p in parts if len(p)], ignore_index=True)
    return out


def buyers(records: Records, contrib: Contributions, member: pd.DataFrame) -> pd.DataFrame:
    """``nominal_id, group_id, weight`` (0-1): who buys from a group's members, how surely.

    A ``buys_from`` link from a nominal to a member makes the nominal a buyer of the
    member's group, weighted by the link's 3x5x2 confidence times the seller's membership
    weight (the larger over the group's sellers). A group's own members are not its buyers.
    """
    links = records.links
    buys = links[links["link_type"] == "buys_from"]
    by_link = pd.DataFrame(
        {
            "nominal_id": buys["source_id"].to_numpy(),
            "seller": buys["target_id"].to_numpy(),
            "conf": grade_confidence(
                contrib.table, buys["source_evaluation"], buys["intelligence_assessment"]
            ),
        }
    )
    sellers = member.rename(columns={"nominal_id": "seller"})
    out = by_link.merge(sellers, on="seller")
    out = out.assign(weight=out["conf"] * out["weight"])
    out = out[out["weight"] > 0].groupby(["nominal_id", "group_id"], as_index=False)["weight"].max()
    own = out.merge(member[["nominal_id", "group_id"]].assign(_m=True), how="left")
    return own[own["_m"].isna()].drop(columns="_m").reset_index(drop=True)


def _buyer_rows(records: Records, contrib: Contributions, member: pd.DataFrame) -> pd.DataFrame:
    """The linked offences of a group's buyers (:func:`buyers`), scaled by the buyer weight.

    A group's harm is its markets' harm, and users' acquisitive crime is part of a market's
    harm (UKDPC 2009); the members' own links never show it. Only offences count: a report
    about a buyer alleges the buyer's behaviour, not the group's.
    """
    rows = contrib.rows
    offences = rows[rows["origin"] == "offence"]
    of_buyers = offences.merge(buyers(records, contrib, member), on="nominal_id", how="inner")
    for c in _SCALED:
        of_buyers[c] = of_buyers[c] * of_buyers["weight"]
    return of_buyers.rename(columns={"group_id": "unit"})
