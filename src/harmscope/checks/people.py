"""The people, groups and behaviours lenses on simulated cities: rankings beside the truth.

Each check loads the folder's force records (``intel/`` and ``records/``) into the warehouse
the scorer made (police.uk files already ingested), ranks through the lens on the **first two
thirds** of the city's months (24 of 36) and hands the scorer (:mod:`harmscope.checks.rankings`)

* ``predicted`` — the lens (:mod:`harmscope.priorities.people`, ``groups``, ``behaviours``);
* ``counting`` — recorded events linked to the unit in the same months: the crimes its
  nominals are linked to as offender or suspect (for a behaviour also the reports alleging
  it), each counting one;
* ``busyness`` — police activity linked to the unit in the same months: arrests, plus linked
  drug and weapons-possession offences (found by police). Stop and search names nobody in
  police.uk, so it cannot be linked to a person;
* ``truth`` — the true harm (``true_harm``, CCHI days: every crime that happened, plus hidden
  harm) of the **months after** the ranked period (the last third, 12 of 36): the lens is a
  forecast and is scored as one. Nominals: ``truth/person_month.csv`` (ids pseudonymised
  with the warehouse's key, as the records were) for the city's people, and for the members
  of the public the records name, the harm of the crimes they are linked to as offenders
  (:func:`public_truth`). The people lens is scored on two truths: **primary**, the nominals
  the force knows — those with at least one record in the ranked months (a crime–person link
  in any role, an intelligence report about them, or an arrest: :func:`known_nominals`) —
  because choosing among the nominals it has records on is what a force uses the lens for;
  and under ``all_population`` everybody, the members of the public whose careers start
  after the ranked months included (no ranking of past records can name those); groups:
  ``truth/group_month.csv``;
  behaviours: ``truth/behaviour_month.csv`` without ``not drug-related`` (no drug lens ranks
  it) and the harmless police-found offences.

The truth is all-crime harm, so the lenses are run with ``harm='all'`` unless the options say
otherwise (the drug-attributed view weighs the same crimes by their drug shares: another
quantity).

The simulator's truth behaviours are not the intelligence's words; :data:`SIM_BEHAVIOURS`
maps the severity table's behaviours onto them (several may map to one: their forecasts add).
Rankings hold ids of the units the lens ranks; baselines rank every unit with at least one
event, ties by id.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from harmscope.checks.rankings import Rankings, register_lens_check
from harmscope.errors import HarmScopeError
from harmscope.harm import load_scheme
from harmscope.people.attribute import Kind, attribute_harm, one_read
from harmscope.people.records import Records
from harmscope.people.units import memberships
from harmscope.priorities.lenses import rank
from harmscope.sources.records.pseudonym import Pseudonymiser, load_key
from harmscope.warehouse.records import load_records

__all__ = [
    "REASON",
    "SIM_BEHAVIOURS",
    "USER",
    "known_nominals",
    "period_split",
    "public_truth",
    "records_rankings",
]

USER = "validate-priorities"
REASON = "validation of the people, groups and behaviours lenses on a simulated city (SYNTHETIC)"

SIM_BEHAVIOURS: dict[str, str] = {
    "violence": "market violence",
    "weapon_carrying": "market violence",
    "violent_debt_collection": "market violence",
    "firearms": "firearms violence",
    "child_criminal_exploitation": "child criminal exploitation",
    "cuckooing": "cuckooing",
    "acquisitive_crime": "acquisitive crime by users",
    "drug_use": "acquisitive crime by users",
    "drug_dealing": "open dealing nuisance",
    "open_dealing_near_schools": "open dealing nuisance",
}
"""Severity-table behaviour → the simulator's truth behaviour it stands for."""

_NOT_RANKED = ("not drug-related", "police-found drug and weapon offences")
_POLICE_FOUND = ("Drugs", "Possession of weapons")


def period_split(months: Sequence[str]) -> tuple[tuple[str, str], list[str]]:
    """(first, last) month ranked — the first two thirds — and the months scored after it."""
    ordered = sorted(set(months))
    if len(ordered) < 3:
        raise HarmScopeError(
            f"a forecast check needs at least 3 simulated months; the city has {len(ordered)}"
        )
    cut = (2 * len(ordered)) // 3
    return (ordered[0], ordered[cut - 1]), ordered[cut:]


def _order(counts: pd.Series) -> list[str]:
    c = counts[counts > 0]
    frame = pd.DataFrame({"id": c.index.astype(str), "n": c.to_numpy()})
    return frame.sort_values(["n", "id"], ascending=[False, True])["id"].tolist()


def known_nominals(records: Records) -> pd.Index:
    """Nominals with at least one record in the period of *records* (sorted pseudonyms).

    A record is a crime–person link in any role (victims and witnesses are known to the force
    too), an intelligence report whose subject is the nominal, or an arrest, dated in
    ``records.start .. records.end``. Being on the nominal index alone is not a record of the
    period: the index keeps everyone ever recorded.
    """
    arrests = records.arrests
    ids = pd.concat(
        [
            records.crime_people["nominal_id"],
            records.reports["subject_id"],
            arrests.loc[arrests["m"].between(records.start, records.end), "nominal_id"],
        ]
    )
    return pd.Index(sorted(ids.dropna().astype(str).unique()))


def records_rankings(kind: Kind, simdir: Path, warehouse: Path, **options: Any) -> Rankings:
    """One city's rankings for the people, groups or behaviours lens (module docstring)."""
    simdir, warehouse = Path(simdir), Path(warehouse)
    load_records([simdir / "intel", simdir / "records"], db=warehouse, user=USER, reason=REASON)
    other_truths: dict[str, pd.Series] = {}
    truths = {"truth": "true_harm of the months after the ranked period (a forecast check)"}
    truth_file = {
        "people": "person_month",
        "groups": "group_month",
        "behaviours": "behaviour_month",
    }
    t = pd.read_csv(simdir / "truth" / f"{truth_file[kind]}.csv", dtype=str)
    ranked, scored = period_split(t["month"].tolist())
    t = t[t["month"].isin(scored)].assign(true_harm=lambda d: d["true_harm"].astype(float))
    opts = {k: v for k, v in options.items() if k not in ("user", "reason", "months", "top")}
    # The truth is all-crime harm (true_harm), so the lens is scored in the same view.
    opts.setdefault("harm", "all")
    with one_read():  # the baselines count the same read the lens ranked
        lens = rank(kind, warehouse, user=USER, reason=REASON, months=ranked, **opts)
        ph = attribute_harm(warehouse, user=USER, reason=REASON, months=ranked, harm=opts["harm"])
    rows = ph.rows(kind)
    offences = rows[rows["origin"] == "offence"]
    arrests = ph.records.arrests[ph.records.arrests["m"] >= ph.records.start]
    police = offences[offences["event_key"].isin(_POLICE_FOUND)]
    if kind == "people":
        key = Pseudonymiser(load_key(warehouse))
        truth = t.assign(unit=t["person_id"].map(key)).groupby("unit")["true_harm"].sum()
        truth = truth.add(public_truth(simdir, scored).rename(key), fill_value=0.0)
        other_truths["all_population"] = truth[truth > 0]
        truth = truth[truth.index.isin(known_nominals(ph.records))]
        truths = {
            "truth": (
                "true_harm of the months after the ranked period, nominals with a record "
                "(crime link, report or arrest) in the ranked months (known nominals)"
            ),
            "all_population_truth": (
                "true_harm of the months after the ranked period, every person (city people "
                "and the members of the public the records name)"
            ),
        }
        predicted = lens["unit_id"].tolist()
        counting = offences.groupby("unit", observed=True)["crime_id"].nunique()
        busy = (
            arrests.groupby("nominal_id")
            .size()
            .add(police.groupby("unit", observed=True)["crime_id"].nunique(), fill_value=0)
        )
    elif kind == "groups":
        truth = t.groupby("group_id")["true_harm"].sum()
        predicted = lens["unit_id"].tolist()
        counting = offences.groupby("unit", observed=True)["crime_id"].nunique()
        member = memberships(ph.records, ph.contrib)
        held = arrests.merge(member, on="nominal_id").groupby("group_id").size()
        busy = held.add(police.groupby("unit", observed=True)["crime_id"].nunique(), fill_value=0)
    else:
        t = t[~t["behaviour"].isin(_NOT_RANKED)]
        truth = t.groupby("behaviour")["true_harm"].sum()
        mapped = lens.assign(sim=lens["unit_id"].map(SIM_BEHAVIOURS)).dropna(subset=["sim"])
        predicted = _order(mapped.groupby("sim", observed=True)["score"].sum())
        counting = (
            rows.assign(sim=rows["unit"].astype(str).map(SIM_BEHAVIOURS)).groupby("sim").size()
        )
        table = ph.contrib.table
        arrest_b = arrests["offence"].map(table.behaviour_of_offence).map(SIM_BEHAVIOURS)
        police_b = police["unit"].astype(str).map(SIM_BEHAVIOURS)
        busy = pd.concat([arrest_b, police_b]).dropna().value_counts()
    return Rankings(
        lens=kind,
        predicted=predicted,
        counting=_order(counting),
        busyness=_order(busy),
        truth=truth[truth > 0],
        unit="CCHI days",
        notes={
            "ranked_months": list(ranked),
            "scored_months": [scored[0], scored[-1]],
            **truths,
            "harm_view": ph.harm,
        },
        other_truths=other_truths,
    )


def public_truth(simdir: Path, months: Sequence[str]) -> pd.Series:
    """True harm (CCHI days) of the members of the public the records name, in *months*.

    ``truth/person_month.csv`` holds the city's own people only. A member of the public is
    linked as offender to crimes they did commit (the simulator draws them as the offenders
    of recorded crimes no city person committed: ``simulate.crimelinks``), so their true harm
    is those crimes' ``cchi`` weights, split equally among the crime's offenders.
    """
    people = pd.read_csv(simdir / "truth" / "people.csv", usecols=["person_id", "kind"])
    public = set(people.loc[people["kind"] == "public", "person_id"])
    links = pd.read_csv(simdir / "records" / "crime_people.csv", dtype=str)
    links = links[links["role"].isin(("offender", "suspect")) & links["month"].isin(months)]
    street = pd.concat(
        pd.read_csv(f, usecols=["Crime ID", "Crime type"], dtype=str)
        for m in months
        for f in sorted((simdir / m).glob("*-street.csv"))
    )
    weight = {w.event_type: w.weight for w in load_scheme("cchi").weights}
    harm = street.dropna().set_index("Crime ID")["Crime type"].map(weight)
    links = links.assign(harm=links["crime_id"].map(harm).fillna(0.0))
    links["harm"] /= links.groupby("crime_id")["nominal_id"].transform("size")
    mine = links[links["nominal_id"].isin(public)]
    return mine.groupby("nominal_id")["harm"].sum().astype(float)


def _check(kind: Kind) -> Any:
    def check(simdir: Path, warehouse: Path, **options: Any) -> Rankings:
        return records_rankings(kind, simdir, warehouse, **options)

    check.__doc__ = f"The {kind} lens's rankings on one simulated city (:func:`records_rankings`)."
    return check


for _kind in ("people", "groups", "behaviours"):
    register_lens_check(_kind, _check(_kind))
