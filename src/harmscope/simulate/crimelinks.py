"""Crime-person links and custody/arrest records: what a force's records system holds and
police.uk never shows.

Both are derived from the run's record without touching any draw the police.uk files use
(their own random streams, keys 13 and 17-19), so the police.uk files stay byte-identical:

* **crime-person links** (``records/crime_people.csv``): each recorded crime (not ASB) is
  linked to its offender unless its last outcome is "Investigation complete; no suspect
  identified"; the role is ``offender`` when the outcome disposes of an offender (court
  result or out-of-court disposal naming an "Offender", local resolution) and ``suspect``
  otherwise; a suspect is identified with probability :data:`SUSPECT_IDENTIFIED`. The
  offender is the city person who committed the crime or, for crimes no city person
  committed, a member of the public drawn from :data:`PUBLIC_OFFENDERS`. Market violence
  and robbery have a victim among the market's own people (users and sellers) with
  probability :data:`MARKET_VICTIM`; other crimes against a person
  (:data:`PERSON_VICTIM_TYPES`) name a public victim from :data:`PUBLIC_VICTIMS` with
  probability :data:`VICTIM_RECORDED`. The public pools are calibrated to the published
  "power few" (:class:`PublicPool`). Links carry the street file's Crime ID.
* **arrests** (``records/arrests.csv``): every time a seller goes into custody (the engine's
  status codes: business-as-usual arrests and operations' sweeps) is an arrest for a drug
  offence, ``remanded in custody`` until the month the status ends (``custody_until``;
  blank while still held at the end of the run); linked offenders are arrested with
  probability :data:`OFFENDER_ARRESTED` and suspects with :data:`SUSPECT_ARRESTED`, in the
  crime's month, with the custody outcome their crime's outcome implies.

Everyone linked or arrested is on the nominal index (``intel/nominals.csv``): a records
system creates a nominal for each person it links to a crime (the public too; they are in
``truth/people.csv`` with kind ``public``).

References
----------
Home Office (2023). *Police recorded crime and outcomes open data tables: user guide*
    (outcome types and which of them name an offender).
Liggins, A., Ratcliffe, J. H. & Bland, M. (2019). Targeting the most harmful offenders for
    an English police agency: continuity and change of membership in the "felonious few".
    *Cambridge Journal of Evidence-Based Policing* 3, 80-96.
Dudfield, G., Angel, C., Sherman, L. W. & Torrence, S. (2017). The "power curve" of victim
    harm. *Cambridge Journal of Evidence-Based Policing* 1, 38-58.
Sherman, L. W., Bland, M., House, P. & Strang, H. (2016). *Targeting family violence
    reported to Lincolnshire Police 2012-2014*: offender-victim links from force records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from harmscope.simulate.city import pseudonyms, rng_for
from harmscope.simulate.codes import ST_CUSTODY, VIOLENT
from harmscope.simulate.params import CRIME_TYPES, T
from harmscope.simulate.record import SimRecord

SUSPECT_IDENTIFIED = 0.6
"""Probability that a crime's true offender is recorded as its suspect (outcome not naming
an offender, not "no suspect identified"). Assumption."""
MARKET_VICTIM = 0.35
"""Probability that a recorded market violence or robbery victim is one of the market's own
users or sellers. Assumption (drug-market violence is mostly among market participants)."""
OFFENDER_ARRESTED = 0.7
SUSPECT_ARRESTED = 0.3
"""Probabilities that a linked offender / suspect is arrested for the crime. Assumptions."""

NO_SUSPECT = "Investigation complete; no suspect identified"
OFFENDER_OUTCOMES = frozenset({"Local resolution", "Suspect charged as part of another case"})
"""Outcomes naming an offender besides those starting "Offender ..." (Home Office 2023)."""

CRIME_PEOPLE_COLUMNS = ["crime_id", "nominal_id", "role", "month"]
ARREST_COLUMNS = [
    "arrest_id",
    "nominal_id",
    "month",
    "lsoa_code",
    "offence",
    "crime_id",
    "custody_outcome",
    "custody_until",
]


SEVERE_TYPES = ("Violence and sexual offences", "Robbery", "Burglary")
"""Types whose public offenders and victims come from the pools' "severe" members."""
PERSON_VICTIM_TYPES = (
    "Violence and sexual offences",
    "Robbery",
    "Theft from the person",
    "Burglary",
    "Criminal damage and arson",
    "Vehicle crime",
    "Bicycle theft",
    "Other theft",
)
"""Types with a person (not a business or the public at large) as victim."""


@dataclass(frozen=True)
class PublicPool:
    """How members of the public are linked to recorded crimes as offenders or victims.

    Most recorded crime is not committed by (or against) the city's drug-market people; a
    force's records still name its offenders and victims. Each role draws its people from a
    pool sized ``per_link`` times the links to make; a member has a Pareto rate (``shape``:
    lower is more prolific repeat offending or victimisation), is "severe" with probability
    ``severe_share`` (only severe members are linked to :data:`SEVERE_TYPES`, so severe
    harm concentrates on repeat people), and is active mainly in one year of the run, at
    ``off_year`` of their rate in the others (intermittent careers, so each year's
    highest-harm list turns over). Calibrated against Liggins et al. (2019) and Dudfield
    et al. (2017) with ``bench/calibration.py --part power-few`` (``docs/simulator.md``).
    """

    per_link: float
    shape: float
    severe_share: float
    off_year: float


PUBLIC_OFFENDERS = PublicPool(per_link=0.55, shape=1.3, severe_share=0.025, off_year=0.005)
"""Pool of the public's offenders (calibrated; see :class:`PublicPool`)."""
PUBLIC_VICTIMS = PublicPool(per_link=0.8, shape=1.0, severe_share=0.012, off_year=0.01)
"""Pool of the public's victims (calibrated; see :class:`PublicPool`)."""
VICTIM_RECORDED = 0.9
"""Probability that a recorded crime of :data:`PERSON_VICTIM_TYPES` names its victim on the
records system (assumption: nearly every crime reported has a known victim)."""
NOMINAL_COLUMNS = ["nominal_id", "gender", "birth_year", "home_lsoa_code", "first_month"]


@dataclass(frozen=True)
class CaseRecords:
    """The two tables, and who they name (rows of ``city.people``, and the public)."""

    crime_people: pd.DataFrame
    arrests: pd.DataFrame
    named: NDArray[np.bool_]
    """Per person: linked to a crime or arrested (so on the nominal index)."""
    first_month: NDArray[np.int64]
    """Per person: month index of their first link or arrest (months when none)."""
    public: pd.DataFrame
    """Members of the public the records name (:data:`NOMINAL_COLUMNS`, ``first_month`` the
    month index of their first link or arrest, and ``role``: offender, victim, or offender
    and victim; "offender" includes suspects); they join the nominal index and
    ``truth/people.csv``."""


def _draw_pool(
    rng: np.random.Generator,
    pool: PublicPool,
    year: NDArray[np.int64],
    severe: NDArray[np.bool_],
    years: int,
) -> NDArray[np.int64]:
    """Pool member of each link (link year and severity given): members ``0..N-1``."""
    n_links = len(year)
    size = max(1, int(np.ceil(pool.per_link * n_links)))
    rate = rng.pareto(pool.shape, size) + 1.0
    is_severe = rng.random(size) < pool.severe_share
    main = rng.integers(0, max(years, 1), size)
    out = np.empty(n_links, dtype=np.int64)
    for y in range(max(years, 1)):
        act = rate * np.where(main == y, 1.0, pool.off_year)
        for sev in (False, True):
            sel = np.flatnonzero((year == y) & (severe == sev))
            if not len(sel):
                continue
            w = act * is_severe if sev else act
            if w.sum() <= 0:
                w = act
            out[sel] = rng.choice(size, size=len(sel), p=w / w.sum())
    return out


def _names_offender(outcome: NDArray[np.object_]) -> NDArray[np.bool_]:
    text = pd.Series(outcome, dtype=object)
    out: NDArray[np.bool_] = (
        text.str.startswith("Offender") | text.isin(list(OFFENDER_OUTCOMES))
    ).to_numpy(dtype=bool)
    return out


COURT_OUTCOMES = (
    "Offender sent",
    "Offender given community",
    "Offender given suspended",
    "Offender fined",
    "Offender given conditional",
    "Offender given absolute",
    "Offender deprived",
    "Offender ordered",
    "Offender otherwise",
    "Suspect charged",
    "Defendant",
    "Awaiting court outcome",
    "Court ",
)
"""Outcomes (by their start) that follow a charge: the arrest's custody outcome is
``charged``."""


def _custody_outcome(
    outcome: NDArray[np.object_], offender: NDArray[np.bool_]
) -> NDArray[np.object_]:
    text = pd.Series(outcome, dtype=object)
    court = text.str.startswith(COURT_OUTCOMES).to_numpy(dtype=bool)
    warned = text.str.contains("caution|warning|penalty", case=False).to_numpy(dtype=bool)
    out: NDArray[np.object_] = np.select(
        [court, warned, offender],
        ["charged", "cautioned", "no further action"],
        "released under investigation",
    ).astype(object)
    return out


def case_records(rec: SimRecord, street: pd.DataFrame, *, public: bool = True) -> CaseRecords:
    """Crime-person links and arrests of a run.

    Parameters
    ----------
    rec : SimRecord
        The run.
    street : DataFrame
        Its police.uk street rows, in :attr:`SimRecord.recorded` order (as
        :func:`~harmscope.simulate.policeuk.street_and_outcomes` makes them).
    public : bool, default True
        Link members of the public (:class:`PublicPool`) too. False gives the records as
        they were before the power-few calibration (only the city's people), for comparison.
    """
    c = rec.city
    pp = c.people
    n_people = len(pp)
    pid = pp["person_id"].to_numpy()
    labels = np.array(rec.month_labels, dtype=object)
    ev = rec.recorded
    if len(ev) != len(street):
        raise ValueError("street rows do not match the recorded events")
    rng = rng_for(rec.seed, 13)
    month = ev["month"].to_numpy()
    ctype = ev["type"].to_numpy()
    market = ev["market"].to_numpy()
    person = ev["person"].to_numpy()
    crime_id = street["Crime ID"].to_numpy().astype(object)
    outcome = street["Last outcome category"].to_numpy().astype(object)
    lsoa = street["LSOA code"].to_numpy().astype(object)
    crime = ctype != T["Anti-social behaviour"]
    offender = _names_offender(outcome)
    u_id, u_vic, u_pick, u_arr, u_nfa = (rng.random(len(ev)) for _ in range(5))
    linked = (
        crime & (person >= 0) & (outcome != NO_SUSPECT) & (offender | (u_id < SUSPECT_IDENTIFIED))
    )
    role = np.where(offender, "offender", "suspect").astype(object)
    # Victims among the market's own people.
    victim = np.full(len(ev), -1, dtype=np.int64)
    vic_ev = crime & np.isin(ctype, VIOLENT) & (market >= 0) & (u_vic < MARKET_VICTIM)
    members = pp["market"].to_numpy()
    for k in np.unique(market[vic_ev]):
        pool = np.flatnonzero(members == k)
        sel = np.flatnonzero(vic_ev & (market == k))
        if len(pool) == 0:
            continue
        victim[sel] = pool[np.minimum((u_pick[sel] * len(pool)).astype(np.int64), len(pool) - 1)]
    victim[victim == person] = -1  # nobody is their own victim
    has_vic = victim >= 0
    # Members of the public: offenders of the crimes the city's people did not commit, and
    # the victims of person crimes (own streams, so every draw above is unchanged).
    pub_off = (
        crime & (person < 0) & (outcome != NO_SUSPECT) & (offender | (u_id < SUSPECT_IDENTIFIED))
    )
    rng_v = rng_for(rec.seed, 18)
    person_crime = np.isin(ctype, [T[t] for t in PERSON_VICTIM_TYPES])
    pub_vic = crime & person_crime & ~has_vic & (rng_v.random(len(ev)) < VICTIM_RECORDED)
    if not public:
        pub_off[:] = False
        pub_vic[:] = False
    severe = np.isin(ctype, [T[t] for t in SEVERE_TYPES])
    years = (max(rec.months, 1) + 11) // 12
    oi, pv = np.flatnonzero(pub_off), np.flatnonzero(pub_vic)
    o_member = _draw_pool(
        rng_for(rec.seed, 17), PUBLIC_OFFENDERS, month[oi] // 12, severe[oi], years
    )
    v_member = _draw_pool(rng_v, PUBLIC_VICTIMS, month[pv] // 12, severe[pv], years)
    # Public people are numbered after the city's: offenders' members, then victims'.
    used, pub_index = np.unique(
        np.concatenate([o_member, v_member + (int(o_member.max()) + 1 if len(oi) else 0)]),
        return_inverse=True,
    )
    n_pub = len(used)
    # Ids continue the city's keyed bijection (its key is the id of person 0), so they never
    # collide with a city person's id.
    key = int(str(pid[0])[1:], 16) if n_people else 0
    pid_all = np.concatenate([pid, pseudonyms("N", n_people + n_pub, key)[n_people:]]).astype(
        object
    )
    p_off = np.full(len(ev), -1, dtype=np.int64)
    p_off[oi] = n_people + pub_index[: len(oi)]
    p_vic = n_people + pub_index[len(oi) :]
    li, vi = np.flatnonzero(linked), np.flatnonzero(has_vic)
    crime_people = pd.DataFrame(
        {
            "_m": np.concatenate([month[li], month[vi], month[oi], month[pv]]),
            "_p": np.concatenate([person[li], victim[vi], p_off[oi], p_vic]),
            "crime_id": np.concatenate([crime_id[li], crime_id[vi], crime_id[oi], crime_id[pv]]),
            "role": np.concatenate(
                [
                    role[li],
                    np.full(len(vi), "victim", dtype=object),
                    role[oi],
                    np.full(len(pv), "victim", dtype=object),
                ]
            ),
        }
    )
    crime_people["nominal_id"] = pid_all[crime_people["_p"].to_numpy()]
    crime_people = crime_people.sort_values(["_m", "crime_id", "role"], kind="stable")
    crime_people["month"] = labels[crime_people["_m"].to_numpy()]
    # Arrests for crimes: offenders and suspects, in the crime's month.
    arrested = (linked | pub_off) & (
        u_arr < np.where(offender, OFFENDER_ARRESTED, SUSPECT_ARRESTED)
    )
    ai = np.flatnonzero(arrested)
    custody = _custody_outcome(outcome[ai], offender[ai])
    nfa = (custody == "released under investigation") & (u_nfa[ai] < 0.5)
    custody[nfa] = "no further action"
    crime_arrests = pd.DataFrame(
        {
            "_m": month[ai],
            "_p": np.where(linked[ai], person[ai], p_off[ai]),
            "lsoa_code": lsoa[ai],
            "offence": np.array(CRIME_TYPES, dtype=object)[ctype[ai]],
            "crime_id": crime_id[ai],
            "custody_outcome": custody,
            "custody_until": "",
        }
    )
    # Sellers taken into custody (the engine's statuses): remanded until released.
    st = rec.seller_status
    held = st == ST_CUSTODY
    starts = held & ~np.vstack([np.zeros((1, held.shape[1]), dtype=bool), held[:-1]])
    sm, sj = np.nonzero(starts)
    until = np.full(len(sm), "", dtype=object)
    for r, (m, j) in enumerate(zip(sm, sj, strict=True)):
        out = np.flatnonzero(~held[m + 1 :, j])
        if len(out):
            until[r] = labels[m + 1 + out[0]]
    sp = rec.seller_idx[sj]
    mk_lsoa = c.markets["lsoa_code"].to_numpy()
    seller_arrests = pd.DataFrame(
        {
            "_m": sm,
            "_p": sp,
            "lsoa_code": mk_lsoa[members[sp]],
            "offence": "Drugs",
            "crime_id": "",
            "custody_outcome": "remanded in custody",
            "custody_until": until,
        }
    )
    arrests = pd.concat([crime_arrests, seller_arrests], ignore_index=True).sort_values(
        ["_m", "_p"], kind="stable"
    )
    arrests.insert(0, "arrest_id", [f"A{i + 1:07d}" for i in range(len(arrests))])
    arrests["nominal_id"] = pid_all[arrests["_p"].to_numpy()]
    arrests["month"] = labels[arrests["_m"].to_numpy()]
    named = np.zeros(n_people + n_pub, dtype=bool)
    first = np.full(n_people + n_pub, max(rec.months, 1), dtype=np.int64)
    for frame in (crime_people, arrests):
        p = frame["_p"].to_numpy()
        named[p] = True
        np.minimum.at(first, p, frame["_m"].to_numpy())
    # The public's nominal records: home LSOA that of their first linked crime.
    first_row = crime_people.drop_duplicates("_p").set_index("_p")
    pub_p = np.arange(n_people, n_people + n_pub)
    rng_n = rng_for(rec.seed, 19)
    street_lsoa = pd.Series(lsoa, index=crime_id).groupby(level=0).first()
    pub_table = pd.DataFrame(
        {
            "nominal_id": pid_all[pub_p],
            "gender": np.where(rng_n.random(n_pub) < 0.7, "Male", "Female"),
            "birth_year": int(rec.start[:4]) - rng_n.integers(16, 66, n_pub),
            "home_lsoa_code": street_lsoa.reindex(
                first_row["crime_id"].reindex(pub_p).to_numpy()
            ).to_numpy(),
            "first_month": first[pub_p],
        }
    )
    roles = crime_people.loc[crime_people["_p"] >= n_people, ["_p", "role"]]
    as_victim = roles.loc[roles["role"] == "victim", "_p"].unique()
    as_offender = roles.loc[roles["role"] != "victim", "_p"].unique()
    pub_table["role"] = np.select(
        [np.isin(pub_p, as_victim) & np.isin(pub_p, as_offender), np.isin(pub_p, as_victim)],
        ["offender and victim", "victim"],
        "offender",
    )
    return CaseRecords(
        crime_people[CRIME_PEOPLE_COLUMNS].reset_index(drop=True),
        arrests[ARREST_COLUMNS].reset_index(drop=True),
        named[:n_people],
        first[:n_people],
        pub_table[[*NOMINAL_COLUMNS, "role"]],
    )
