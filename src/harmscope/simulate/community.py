"""Partner indicators, community survey responses and intelligence reports, month by month.

* Partner indicators (per LSOA and month): non-fatal overdoses, drug-misuse deaths, needle
  finds and treatment entries, driven by where heroin/crack users live, by open markets'
  footprints and by treatment (overdose risk falls in treatment; Gossop et al. 2003).
* Survey (after the Crime Survey for England and Wales questions): the perceived drug
  problem follows *visible* market nuisance; confidence in police falls with local harm
  and with searches that find nothing (procedural justice, Tyler 2004); feeling safe falls
  with harm; residents rank harms, weighted towards those they are exposed to.
* Intelligence: reports on active sellers and prolific users, graded on the 3x5x2 system
  (College of Policing 2016); reliable sources are right more often, and the truth of each
  report is kept in ``truth/intel_reports.csv``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from harmscope.simulate.city import City
from harmscope.simulate.codes import (
    B_NUISANCE,
    GRADES_FALSE,
    GRADES_TRUE,
    HARM_W,
    INTEL_BEHAVIOURS,
    ST_ACTIVE,
)
from harmscope.simulate.params import Parameters, T
from harmscope.simulate.state import Columns, MonthlyLog, Multipliers


def _lsoa_of_people(city: City, idx: NDArray[np.int64]) -> NDArray[np.int64]:
    c = city
    return np.asarray(c.cell_lsoa[c.people["home_cell"].to_numpy()[idx]], dtype=np.int64)


def partner_month(
    params: Parameters,
    city: City,
    user_idx: NDArray[np.int64],
    user_tx: NDArray[np.bool_],
    m: int,
    mu: Multipliers,
    rng: np.random.Generator,
) -> Columns:
    """Overdoses, drug deaths, needle finds and treatment entries by LSOA for month ``m``.

    ``user_idx`` are the users' rows of ``city.people``; ``user_tx`` (months x users) says
    who is in treatment, filled up to month ``m``.
    """
    p, c = params, city
    nl = len(c.areas)
    ul = _lsoa_of_people(c, user_idx)
    hc = (c.people["drug"].to_numpy()[user_idx] == "heroin;crack cocaine").astype(float)
    tx = user_tx[m]
    risk = hc * (1 - 0.4 * tx)
    od = rng.poisson(np.bincount(ul, weights=risk * p.overdose_per_user_month, minlength=nl))
    dd = rng.poisson(np.bincount(ul, weights=risk * p.death_per_user_month, minlength=nl))
    open_k = (c.markets["market_type"].to_numpy() == "open").astype(float)
    rel = mu.a / c.markets["base_intensity"].to_numpy().mean()
    w = c.fp_w * (open_k * rel)[c.fp_market] * p.needles_per_open_market_month
    cellw = np.bincount(c.fp_cell, weights=w, minlength=c.n_cells)
    needles = rng.poisson(
        np.bincount(c.cell_lsoa, weights=cellw, minlength=nl)
        + np.bincount(ul, weights=0.03 * hc, minlength=nl)
    )
    new_tx = tx & ~(user_tx[m - 1] if m > 0 else np.zeros_like(tx))
    entries = rng.poisson(np.bincount(ul, weights=0.01 * hc, minlength=nl)) + np.bincount(
        ul[new_tx], minlength=nl
    )
    return {
        "month": np.full(nl, m),
        "lsoa": np.arange(nl),
        "overdoses": od,
        "drug_deaths": dd,
        "needle_finds": needles,
        "treatment_entries": entries,
    }


def survey_month(
    params: Parameters, city: City, log: MonthlyLog, m: int, rng: np.random.Generator
) -> Columns:
    """Survey responses collected in month ``m`` (exposure: the last three months).

    ``log`` must already hold month ``m``'s events, searches, partner indicators and
    hidden harms.
    """
    p, c = params, city
    nl = len(c.areas)
    pop = c.areas["population"].to_numpy().astype(float)
    per_k = 1000.0 / np.maximum(pop, 1)
    vis = np.zeros(nl)
    harm = np.zeros(nl)
    viol = np.zeros(nl)
    burg = np.zeros(nl)
    empty = np.zeros(nl)
    for ev in log.events[max(0, m - 2) : m + 1]:
        lso = c.cell_lsoa[ev["cell"]]
        vis += np.bincount(lso, weights=(ev["behaviour"] == B_NUISANCE).astype(float), minlength=nl)
        harm += np.bincount(lso, weights=HARM_W[ev["type"]], minlength=nl)
        viol += np.bincount(
            lso,
            weights=(ev["type"] == T["Violence and sexual offences"]).astype(float),
            minlength=nl,
        )
        burg += np.bincount(lso, weights=(ev["type"] == T["Burglary"]).astype(float), minlength=nl)
    for ss in log.searches[max(0, m - 2) : m + 1]:
        empty += np.bincount(
            c.cell_lsoa[ss["cell"]], weights=np.logical_not(ss["found"]).astype(float), minlength=nl
        )
    needles = sum(pr["needle_finds"] for pr in log.partners[max(0, m - 2) : m + 1])
    child = np.zeros(nl)
    for hd in log.hidden[max(0, m - 2) : m + 1]:
        child += np.bincount(c.cell_lsoa[hd["cell"]], minlength=nl)
    span = min(m + 1, 3)
    vis, harm, viol, burg, empty = (a * per_k / span for a in (vis, harm, viol, burg, empty))
    needles = needles * per_k / span
    ldep = (5.5 - c.areas["imd_decile"].to_numpy()) / 3.0
    n = rng.poisson(np.full(nl, p.survey_per_lsoa_quarter / 3))
    li = np.repeat(np.arange(nl), n)
    k = len(li)
    noise = rng.logistic(size=(k, 3))
    z_prob = -0.8 + 1.3 * np.log1p(vis[li] + needles[li]) + 0.25 * ldep[li] + noise[:, 0]
    z_conf = (
        0.9
        - 0.35 * np.log1p(harm[li] / 50)
        - p.legitimacy_cost_per_search * empty[li]
        - 0.15 * ldep[li]
        + noise[:, 1]
    )
    z_safe = 1.4 - 0.45 * np.log1p(harm[li] / 50) - 0.5 * np.log1p(vis[li]) + noise[:, 2]
    prob = 1 + np.searchsorted(np.array([-0.3, 1.0, 2.2]), z_prob)
    conf = 1 + np.searchsorted(np.array([-1.8, -0.7, 0.2, 1.6]), z_conf)
    safe = 1 + np.searchsorted(np.array([-1.2, 0.0, 1.5]), z_safe)
    base = np.log(np.array([0.12, 0.2, 0.16, 0.1, 0.2, 0.05, 0.07, 0.1]))
    expo = np.column_stack(
        [
            1.2 * np.log1p(vis[li]),
            0.6 * np.log1p(viol[li]),
            0.8 * np.log1p(burg[li]),
            np.zeros(k),
            0.3 * np.log1p(vis[li]),
            1.0 * np.log1p(needles[li]),
            0.8 * (child[li] > 0),
            np.zeros(k),
        ]
    )
    score = base[None, :] + expo + rng.gumbel(size=(k, 8))
    rank = np.argsort(-score, axis=1)[:, :3]
    return {
        "month": np.full(k, m),
        "lsoa": li,
        "age_band": rng.choice(5, size=k, p=[0.12, 0.2, 0.25, 0.23, 0.2]),
        "gender": rng.choice(2, size=k, p=[0.48, 0.52]),
        "drug_problem": prob,
        "confidence": conf,
        "safe": safe,
        "rank1": rank[:, 0],
        "rank2": rank[:, 1],
        "rank3": rank[:, 2],
    }


def true_behaviours(city: City) -> NDArray[np.bool_]:
    """Which behaviours of :data:`~harmscope.simulate.codes.INTEL_BEHAVIOURS` each person
    of ``city.people`` truly shows (people x behaviours): what intelligence is right about.
    """
    c = city
    pp = c.people
    n = len(pp)
    seller = (pp["kind"] == "seller").to_numpy()
    viol = pp["violence"].to_numpy()
    g = pp["group"].to_numpy()
    gexp = np.append(c.groups["exploits_children"].to_numpy().astype(bool), False)
    cuck_mk = pp["cuckooed_market"].to_numpy()
    cuck_markets = np.zeros(len(c.markets), dtype=bool)
    cuck_markets[cuck_mk[cuck_mk >= 0]] = True
    role = pp["role"].to_numpy()
    out = np.zeros((n, len(INTEL_BEHAVIOURS)), dtype=bool)
    out[:, 0] = seller
    out[:, 1] = seller & (viol > 1.5)
    out[:, 2] = pp["firearms"].to_numpy().astype(bool)
    out[:, 3] = seller & (viol > 1.0)
    out[:, 4] = seller & gexp[g] & np.isin(role, ["leader", "manager", "enforcer"])
    out[:, 5] = (
        seller
        & cuck_markets[pp["market"].to_numpy()]
        & np.isin(role, ["leader", "manager", "runner"])
    )
    out[:, 6] = ~seller & (pp["offending_rate"].to_numpy() > 1.5)
    out[:, 7] = ~seller | (role == "user-dealer")
    return out


def intel_month(
    params: Parameters,
    city: City,
    seller_idx: NDArray[np.int64],
    seller_status: NDArray[np.int64],
    user_idx: NDArray[np.int64],
    truth: NDArray[np.bool_],
    m: int,
    rng: np.random.Generator,
) -> Columns:
    """Intelligence reports logged in month ``m``, graded 3x5x2.

    ``seller_status`` holds this month's status code of each seller (``seller_idx``);
    ``truth`` is :func:`true_behaviours` of the city.
    """
    p = params
    pp = city.people
    active_s = seller_idx[seller_status == ST_ACTIVE]
    viol = pp["violence"].to_numpy()
    lam_s = p.intel_reports_per_seller_month * (0.5 + 0.5 * np.minimum(viol[active_s], 3))
    lam_u = 0.02 * np.minimum(pp["offending_rate"].to_numpy()[user_idx], 20)
    subj = np.concatenate(
        [np.repeat(active_s, rng.poisson(lam_s)), np.repeat(user_idx, rng.poisson(lam_u))]
    )
    k = len(subj)
    ev_p = np.array([p.source_eval_probs[s] for s in ("1", "2", "3")])
    src = rng.choice(3, size=k, p=ev_p / ev_p.sum())
    tp = np.array([p.source_truth_prob[s] for s in ("1", "2", "3")])
    want_true = rng.random(k) < tp[src]
    mask = truth[subj]
    g = rng.gumbel(size=(k, len(INTEL_BEHAVIOURS)))
    true_pick = np.argmax(np.where(mask, g, -np.inf), axis=1)
    any_pick = np.argmax(g, axis=1)
    beh = np.where(want_true & mask.any(1), true_pick, any_pick)
    is_true = mask[np.arange(k), beh]
    gt = np.array([q for _, q in GRADES_TRUE])
    gf = np.array([q for _, q in GRADES_FALSE])
    u = rng.random(k)
    grade = np.where(
        is_true,
        np.searchsorted(np.cumsum(gt), u * gt.sum()),
        np.searchsorted(np.cumsum(gf), u * gf.sum()),
    )
    handling = rng.random(k) < 0.15
    return {
        "month": np.full(k, m),
        "subject": subj,
        "source": src,
        "grade": grade,
        "handling": handling,
        "behaviour": beh,
        "is_true": is_true,
    }
