"""Police intelligence derived from a simulation: what police *believe*, imperfect by design.

Intelligence is drawn from the truth with known error rates, after the 3x5x2 grading system
(College of Policing 2016: source evaluation A/B/C, intelligence assessment 1-5, handling
code P/C): the nominal index holds the people who were ever active and are known to police,
and everyone the force's records link to a crime or arrested (:mod:`.crimelinks`); markers find true behaviours with probability 0.4-0.8 and add a few false
positives; 20 % of sellers' roles are misrecorded; open markets are always known, semi-open
ones 85 % and closed ones half of the time; reports carry the grading the engine drew, and
their truth is kept apart (``truth/intel_reports.csv``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from harmscope.simulate.city import rng_for
from harmscope.simulate.codes import INTEL_BEHAVIOURS
from harmscope.simulate.record import SimRecord

REPORT_TRUTH_COLUMNS = ["report_id", "subject_id", "behaviour", "is_true"]
"""Columns of ``truth/intel_reports.csv``."""


SOURCE_EVALUATION = np.array(list("ABC"), dtype=object)
"""3x5x2 source evaluation of the engine's source codes 0-2 (reliable, untested, not
reliable)."""
INTELLIGENCE_ASSESSMENT = np.array(list("12345"), dtype=object)
"""3x5x2 intelligence assessment of the engine's grade codes 0-4 (known directly ...
suspected to be false)."""
LINK_KINDS = {
    "member_of": ("nominal", "group"),
    "cuckoos": ("group", "nominal"),
}
"""(source_kind, target_kind) of link types that do not join two nominals."""


def intel_tables(
    rec: SimRecord,
    named: NDArray[np.bool_] | None = None,
    first_named: NDArray[np.int64] | None = None,
    public: pd.DataFrame | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Police intelligence (nominals, groups, markets, links, reports) and the reports' truth.

    Parameters
    ----------
    rec : SimRecord
        The run.
    named, first_named : ndarray, optional
        Per person of ``city.people``: named in the force's crime links or arrests, and the
        month index of the first such record (:class:`.crimelinks.CaseRecords`). Named people
        join the nominal index (first recorded then, unless known before).
    public : DataFrame, optional
        Members of the public the records name (:attr:`.crimelinks.CaseRecords.public`):
        they join the nominal index after the city's people, with no role, group, market or
        marker (a records system knows them only from their crimes).

    Returns
    -------
    tables : dict of DataFrame
        ``nominals``, ``groups``, ``markets``, ``links``, ``reports`` (the ``intel/`` files).
    reports_truth : DataFrame
        Whether each report is true (:data:`REPORT_TRUTH_COLUMNS`).
    """
    c = rec.city
    rng = rng_for(rec.seed, 12)
    pp = c.people
    n = len(pp)
    ever = np.zeros(n, dtype=bool)
    ever[rec.user_idx] = True
    if len(rec.seller_status):
        ever[rec.seller_idx] = (rec.seller_status != 0).any(0)
    known = pp["known"].to_numpy() & ever
    tb = rec.behaviour_truth
    pid = pp["person_id"].to_numpy()
    gids = np.append(c.groups["group_id"].to_numpy(), "")
    mids = c.markets["market_id"].to_numpy()

    def noisy(truth: np.ndarray, detect: float = 0.7, false_pos: float = 0.03) -> np.ndarray:
        u = rng.random(len(truth))
        return np.where(truth, u < detect, u < false_pos)

    first = np.zeros(n, dtype=np.int64)
    if len(rec.seller_status):
        act = rec.seller_status != 0
        first[rec.seller_idx] = np.where(act.any(0), act.argmax(0), 0)
    roles = pp["role"].to_numpy().astype(object)
    swap = (rng.random(n) < 0.2) & (pp["kind"].to_numpy() == "seller")
    roles = np.where(
        swap,
        np.array(["street dealer", "runner", "user-dealer", "manager"])[rng.integers(0, 4, n)],
        roles,
    )
    group_known = (rng.random(n) < 0.85) & (pp["group"].to_numpy() >= 0)
    cm = pp["cuckooed_market"].to_numpy()
    nominals = pd.DataFrame(
        {
            "nominal_id": pid,
            "gender": pp["gender"].to_numpy(),
            "birth_year": int(rec.start[:4]) - pp["age"].to_numpy(),
            "home_lsoa_code": c.areas["lsoa_code"].to_numpy()[
                c.cell_lsoa[pp["home_cell"].to_numpy()]
            ],
            "recorded_role": roles,
            "group_id": np.where(group_known, gids[pp["group"].to_numpy()], ""),
            "market_id": np.where(
                pp["kind"].to_numpy() == "seller", mids[pp["market"].to_numpy()], ""
            ),
            "marker_violence": noisy(tb[:, 1]),
            "marker_firearms": noisy(tb[:, 2], 0.6, 0.01),
            "marker_weapons": noisy(tb[:, 3]),
            "marker_drug_user": noisy(tb[:, 7], 0.8, 0.05),
            "marker_vulnerable_child": noisy(pp["is_child"].to_numpy().astype(bool), 0.5, 0.0),
            "marker_cuckooing_victim": noisy(cm >= 0, 0.4, 0.0),
            "first_recorded": rec.labels(
                first
                if named is None or first_named is None
                else np.where(known, first, np.minimum(first_named, max(rec.months - 1, 0)))
            ),
        }
    )[known if named is None else known | named].reset_index(drop=True)
    if public is not None and len(public):
        extra = pd.DataFrame(
            {
                "nominal_id": public["nominal_id"].to_numpy(),
                "gender": public["gender"].to_numpy(),
                "birth_year": public["birth_year"].to_numpy(),
                "home_lsoa_code": public["home_lsoa_code"].to_numpy(),
                "recorded_role": "",
                "group_id": "",
                "market_id": "",
                **{c: False for c in nominals.columns if c.startswith("marker_")},
                "first_recorded": rec.labels(
                    np.minimum(public["first_month"].to_numpy(), max(rec.months - 1, 0))
                ),
            }
        )
        nominals = pd.concat([nominals, extra[list(nominals.columns)]], ignore_index=True)
    g = c.groups
    gm = c.markets.groupby("group")["market_id"].apply(lambda s: ";".join(s))
    groups = pd.DataFrame(
        {
            "group_id": g["group_id"],
            "codename": g["codename"],
            "recorded_type": g["group_type"],
            "market_ids": [gm.get(i, "") for i in range(len(g))],
            "assessed_threat": np.clip(
                np.round(1 + g["violence"].to_numpy() + 1.5 * g["firearms"].to_numpy()), 1, 4
            ).astype(int),
        }
    )
    mk = c.markets
    kp = mk["market_type"].map({"open": 1.0, "semi_open": 0.85, "closed": 0.5}).to_numpy()
    mknown = rng.random(len(mk)) < kp
    markets = mk.loc[
        mknown,
        [
            "market_id",
            "lsoa_code",
            "cell_x",
            "cell_y",
            "market_type",
            "mode",
            "drugs",
            "group_id",
        ],
    ].reset_index(drop=True)
    links = _links(rec, rng, known)
    r = rec.intel_codes
    reports_truth = pd.DataFrame(columns=REPORT_TRUTH_COLUMNS)
    if r.empty:
        reports = pd.DataFrame(
            columns=[
                "report_id",
                "month",
                "subject_id",
                "behaviour",
                "lsoa_code",
                "market_id",
                "source_evaluation",
                "intelligence_assessment",
                "handling_code",
            ]
        )
    else:
        keep = known[r["subject"].to_numpy()]
        r = r[keep].reset_index(drop=True)
        subj = r["subject"].to_numpy()
        seller = pp["kind"].to_numpy()[subj] == "seller"
        mcell = mk["cell"].to_numpy()[pp["market"].to_numpy()[subj]]
        loc = np.where(seller, mcell, pp["home_cell"].to_numpy()[subj])
        reports = pd.DataFrame(
            {
                "report_id": [f"R{i + 1:07d}" for i in range(len(r))],
                "month": rec.labels(r["month"].to_numpy()),
                "subject_id": pid[subj],
                "behaviour": np.array(INTEL_BEHAVIOURS)[r["behaviour"].to_numpy()],
                "lsoa_code": c.areas["lsoa_code"].to_numpy()[c.cell_lsoa[loc]],
                "market_id": np.where(seller, mids[pp["market"].to_numpy()[subj]], ""),
                "source_evaluation": SOURCE_EVALUATION[r["source"].to_numpy()],
                "intelligence_assessment": INTELLIGENCE_ASSESSMENT[r["grade"].to_numpy()],
                "handling_code": np.where(r["handling"].to_numpy(), "C", "P"),
            }
        )
        reports_truth = pd.DataFrame(
            {
                "report_id": reports["report_id"],
                "subject_id": reports["subject_id"],
                "behaviour": reports["behaviour"],
                "is_true": r["is_true"].to_numpy(),
            }
        )
    tables = {
        "nominals": nominals,
        "groups": groups,
        "markets": markets,
        "links": links,
        "reports": reports,
    }
    return tables, reports_truth


def _links(rec: SimRecord, rng: np.random.Generator, known: NDArray[np.bool_]) -> pd.DataFrame:
    """Links between known nominals and groups, graded 3x5x2, drawn from ``rng``."""
    c = rec.city
    pp = c.people
    pid = pp["person_id"].to_numpy()
    gids = c.groups["group_id"].to_numpy()
    rows: list[tuple[str, str, str]] = []
    kind = pp["kind"].to_numpy()
    role = pp["role"].to_numpy()
    mkt = pp["market"].to_numpy()
    grp = pp["group"].to_numpy()
    seller_known = np.flatnonzero(known & (kind == "seller"))
    for i in seller_known:
        if rng.random() < 0.85:
            rows.append((pid[i], gids[grp[i]], "member_of"))
    for k in range(len(c.markets)):
        s = seller_known[mkt[seller_known] == k]
        if len(s) < 2:
            continue
        for i in s:
            for j in rng.choice(s[s != i], size=min(2, len(s) - 1), replace=False):
                rows.append((pid[i], pid[j], "associate"))
        bosses = s[np.isin(role[s], ["leader", "manager"])]
        for b in bosses:
            for j in s[np.isin(role[s], ["runner", "street dealer", "user-dealer"])]:
                if rng.random() < 0.5:
                    rows.append((pid[b], pid[j], "supplies"))
            for j in s[pp["is_child"].to_numpy()[s].astype(bool)]:
                if rng.random() < 0.6:
                    rows.append((pid[b], pid[j], "exploits"))
        users = np.flatnonzero(known & (kind == "user") & (mkt == k))
        for u in users:
            if rng.random() < 0.3:
                rows.append((pid[u], pid[rng.choice(s)], "buys_from"))
    cm = pp["cuckooed_market"].to_numpy()
    for v in np.flatnonzero(known & (cm >= 0)):
        if rng.random() < 0.5:
            rows.append((gids[c.markets["group"].iat[cm[v]]], pid[v], "cuckoos"))
    n = len(rows)
    ev = SOURCE_EVALUATION[rng.choice(3, size=n, p=[0.3, 0.5, 0.2])]
    grade = INTELLIGENCE_ASSESSMENT[rng.choice(4, size=n, p=[0.2, 0.4, 0.3, 0.1])]
    kinds = [LINK_KINDS.get(r[2], ("nominal", "nominal")) for r in rows]
    return pd.DataFrame(
        {
            "source_id": [r[0] for r in rows],
            "source_kind": [k[0] for k in kinds],
            "target_id": [r[1] for r in rows],
            "target_kind": [k[1] for k in kinds],
            "link_type": [r[2] for r in rows],
            "first_recorded": rec.labels(rng.integers(0, max(rec.months, 1), n)),
            "source_evaluation": ev,
            "intelligence_assessment": grade,
            "handling_code": np.where(rng.random(n) < 0.15, "C", "P"),
        }
    )
