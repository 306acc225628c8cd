"""Ground truth derived from a simulation: true harm by place, market, group, person,
behaviour and operation, with the same ids the intelligence files use.

Harm columns are CCHI days: ``true_harm`` counts every crime that happened plus hidden harm,
``recorded_harm`` only what police recorded (so it matches the police.uk files exactly),
``hidden_harm`` the part police.uk never shows; ``true_events`` and ``recorded_events`` count
harm-type crimes. Every table is described in ``docs/simulator.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope.simulate.codes import BEHAVIOURS, EFFECT_MEASURES, SELLER_STATUS, ST_ACTIVE
from harmscope.simulate.record import SimRecord

VALUES = ["true_harm", "recorded_harm", "hidden_harm", "true_events", "recorded_events"]
"""Harm columns of the ``*_month`` and ``places`` tables (CCHI days and event counts)."""


def truth_tables(
    rec: SimRecord, intel_reports: pd.DataFrame, public: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """Every ground-truth table of ``truth/``, by file name.

    Parameters
    ----------
    rec : SimRecord
        A simulation's record.
    intel_reports : DataFrame
        The intelligence reports' truth (:func:`~harmscope.simulate.intel.intel_tables`),
        kept as the ``intel_reports`` table.
    public : DataFrame, optional
        Members of the public the force's records name
        (:attr:`.crimelinks.CaseRecords.public`): rows of ``people`` with kind ``public``.
    """
    e = harm_rows(rec)
    out: dict[str, pd.DataFrame] = {
        "places": _places(rec, e),
        "markets": _markets(rec),
    }
    market_month = _market_month(rec, e)
    if market_month is not None:
        out["market_month"] = market_month
    out["groups"] = _groups(rec)
    out["group_month"] = _group_month(rec, e)
    out["people"] = _people(rec, public)
    out["person_month"] = _person_month(rec, e)
    out["behaviour_month"] = _behaviour_month(rec, e)
    out["operations"] = _operations(rec)
    out["operation_effects"] = _operation_effects(rec)
    out["intel_reports"] = intel_reports
    for name in ("places", "market_month", "group_month", "person_month", "behaviour_month"):
        if name in out:
            for v in ("true_harm", "recorded_harm", "hidden_harm"):
                out[name][v] = out[name][v].astype(float).round(4)
            for v in ("true_events", "recorded_events"):
                out[name][v] = out[name][v].astype(np.int64)
    return out


def harm_rows(rec: SimRecord) -> pd.DataFrame:
    """One row per crime that happened and per hidden harm, with its harm columns.

    Columns ``month, cell, market, person, behaviour`` (indices, -1 for none), the
    :data:`VALUES` and ``activity`` (1 for a recorded activity-type event).
    """
    ev = rec.events
    hd = rec.hidden
    was_recorded = ev["recorded"].to_numpy()
    harm = ev["harm"].to_numpy()
    is_harm = harm > 0
    e = pd.DataFrame(
        {
            "month": ev["month"].to_numpy(),
            "cell": ev["cell"].to_numpy(),
            "market": ev["market"].to_numpy(),
            "person": ev["person"].to_numpy(),
            "behaviour": ev["behaviour"].to_numpy(),
            "true_harm": harm,
            "recorded_harm": harm * was_recorded,
            "true_events": is_harm.astype(np.int64),
            "recorded_events": (is_harm & was_recorded).astype(np.int64),
            "activity": (~is_harm & was_recorded).astype(np.int64),
            "hidden_harm": 0.0,
        }
    )
    if not hd.empty:
        h = pd.DataFrame(
            {
                "month": hd["month"].to_numpy(),
                "cell": hd["cell"].to_numpy(),
                "market": hd["market"].to_numpy(),
                "person": -1,
                "behaviour": hd["behaviour"].to_numpy(),
                "true_harm": hd["harm"].to_numpy(),
                "recorded_harm": 0.0,
                "true_events": 0,
                "recorded_events": 0,
                "activity": 0,
                "hidden_harm": hd["harm"].to_numpy(),
            }
        )
        e = pd.concat([e, h], ignore_index=True)
    return e


def _places(rec: SimRecord, e: pd.DataFrame) -> pd.DataFrame:
    vals = VALUES
    ss = rec.searches
    pl = e.groupby(["month", "cell"], sort=True)[[*vals, "activity"]].sum().reset_index()
    if not ss.empty:
        sc = ss.groupby(["month", "cell"]).size().rename("searches").reset_index()
        pl = pl.merge(sc, on=["month", "cell"], how="outer").fillna(0)
        pl["activity"] += pl.pop("searches")
    pl = pl.sort_values(["month", "cell"]).reset_index(drop=True)
    cell = pl["cell"].to_numpy().astype(np.int64)
    return pd.DataFrame(
        {
            "month": rec.labels(pl["month"].to_numpy().astype(np.int64)),
            **rec.cell_cols(cell),
            **{v: pl[v].to_numpy() for v in vals},
            "activity": pl["activity"].to_numpy().astype(np.int64),
        }
    )


def _markets(rec: SimRecord) -> pd.DataFrame:
    c = rec.city
    mids = c.markets["market_id"].to_numpy()
    mk = c.markets
    return pd.DataFrame(
        {
            "market_id": mids,
            "market_type": mk["market_type"],
            "mode": mk["mode"],
            "drugs": mk["drugs"],
            "cell_x": mk["cell_x"],
            "cell_y": mk["cell_y"],
            "lsoa_code": mk["lsoa_code"],
            "group_id": mk["group_id"],
            "footprint_sd_m": mk["footprint_sd_m"],
            "base_intensity": mk["base_intensity"],
            "sellers_at_start": np.bincount(
                c.people.loc[
                    (c.people["kind"] == "seller") & ~c.people["reserve"].astype(bool), "market"
                ],
                minlength=len(mk),
            ),
            "users": np.bincount(
                c.people.loc[c.people["kind"] == "user", "market"], minlength=len(mk)
            ),
        }
    )


def _market_month(rec: SimRecord, e: pd.DataFrame) -> pd.DataFrame | None:
    c, vals = rec.city, VALUES
    mk = c.markets
    mids = mk["market_id"].to_numpy()
    em = e[e["market"] >= 0].groupby(["month", "market"])[vals].sum()
    mm = rec.market_state
    if mm.empty:
        return None
    nm = len(mk)
    base = pd.DataFrame(
        {
            "month": mm["month"].to_numpy(),
            "market": np.tile(np.arange(nm), rec.months),
            "intensity": mm["a"].to_numpy(),
            "a_op": mm["a_op"].to_numpy(),
            "v": mm["v"].to_numpy(),
        }
    )
    base = base.join(em, on=["month", "market"]).fillna({v: 0 for v in vals})
    st = rec.seller_status
    sm = c.people["market"].to_numpy()[rec.seller_idx]
    active = np.stack(
        [np.bincount(sm[st[m] == ST_ACTIVE], minlength=nm) for m in range(rec.months)]
    ).ravel()
    return pd.DataFrame(
        {
            "month": rec.labels(base["month"].to_numpy()),
            "market_id": mids[base["market"].to_numpy()],
            "status": np.select(
                [base["a_op"] <= 0.5, base["a_op"] < 0.95],
                ["closed", "disrupted"],
                "operating",
            ),
            "intensity": base["intensity"].round(4),
            "turf_violence": base["v"].to_numpy() > 1,
            "active_sellers": active,
            **{v: base[v].to_numpy() for v in vals},
        }
    )


def _groups(rec: SimRecord) -> pd.DataFrame:
    c = rec.city
    mids = c.markets["market_id"].to_numpy()
    mg = c.markets["group"].to_numpy()
    return c.groups.drop(columns=[]).assign(
        market_ids=[";".join(mids[mg == g]) for g in range(len(c.groups))]
    )


def _group_month(rec: SimRecord, e: pd.DataFrame) -> pd.DataFrame:
    c, vals = rec.city, VALUES
    gids = c.groups["group_id"].to_numpy()
    mg = c.markets["group"].to_numpy()
    eg = e[e["market"] >= 0].assign(group=lambda d: mg[d["market"].to_numpy()])
    gm = eg.groupby(["month", "group"])[vals].sum().reset_index()
    return pd.DataFrame(
        {
            "month": rec.labels(gm["month"].to_numpy()),
            "group_id": gids[gm["group"].to_numpy()],
            **{v: gm[v].to_numpy() for v in vals},
        }
    )


def _people(rec: SimRecord, public: pd.DataFrame | None = None) -> pd.DataFrame:
    city_people = _city_people(rec)
    if public is None or public.empty:
        return city_people
    # The public the records name: who they are is all the truth holds of them (their
    # harm is that of their crimes, which are not drug-market crimes).
    extra = pd.DataFrame(
        {
            "person_id": public["nominal_id"].to_numpy(),
            "kind": "public",
            "role": public["role"].to_numpy(),
            "group_id": "",
            "market_id": "",
            "is_child": (int(rec.start[:4]) - public["birth_year"].to_numpy()) < 18,
            "age_at_start": int(rec.start[:4]) - public["birth_year"].to_numpy(),
            "gender": public["gender"].to_numpy(),
            "home_lsoa_code": public["home_lsoa_code"].to_numpy(),
            "violence": 0.0,
            "firearms": False,
            "drug": "",
            "offending_rate": 0.0,
            "vulnerable": False,
            "cuckooed_by_group_id": "",
            "known_to_police": True,
            "reserve": False,
        }
    )
    return pd.concat([city_people, extra[list(city_people.columns)]], ignore_index=True)


def _city_people(rec: SimRecord) -> pd.DataFrame:
    c = rec.city
    pid = c.people["person_id"].to_numpy()
    mids = c.markets["market_id"].to_numpy()
    gids = c.groups["group_id"].to_numpy()
    mg = c.markets["group"].to_numpy()
    pp = c.people
    cm = pp["cuckooed_market"].to_numpy()
    return pd.DataFrame(
        {
            "person_id": pid,
            "kind": pp["kind"],
            "role": pp["role"],
            "group_id": np.where(
                pp["group"].to_numpy() >= 0, np.append(gids, "")[pp["group"].to_numpy()], ""
            ),
            "market_id": mids[pp["market"].to_numpy()],
            "is_child": pp["is_child"].astype(bool),
            "age_at_start": pp["age"],
            "gender": pp["gender"],
            "home_lsoa_code": c.areas["lsoa_code"].to_numpy()[
                c.cell_lsoa[pp["home_cell"].to_numpy()]
            ],
            "violence": pp["violence"],
            "firearms": pp["firearms"].astype(bool),
            "drug": pp["drug"],
            "offending_rate": np.round(pp["offending_rate"].to_numpy(), 4),
            "vulnerable": pp["vulnerable"].astype(bool),
            "cuckooed_by_group_id": np.where(
                cm >= 0, np.append(gids, "")[np.where(cm >= 0, mg[np.maximum(cm, 0)], -1)], ""
            ),
            "known_to_police": pp["known"].astype(bool),
            "reserve": pp["reserve"].astype(bool),
        }
    )


def _person_month(rec: SimRecord, e: pd.DataFrame) -> pd.DataFrame:
    vals = VALUES
    pid = rec.city.people["person_id"].to_numpy()
    ep = e[e["person"] >= 0].groupby(["month", "person"])[vals].sum()
    # Person-month status: sellers from the status history, users active / in treatment.
    months = np.arange(rec.months)
    s_st = rec.seller_status
    s_rows = pd.DataFrame(
        {
            "month": np.repeat(months, len(rec.seller_idx)),
            "person": np.tile(rec.seller_idx, rec.months),
            "status": np.array(SELLER_STATUS, dtype=object)[s_st.ravel()],
        }
    )
    s_rows = s_rows[s_rows["status"] != "reserve"]
    u_rows = pd.DataFrame(
        {
            "month": np.repeat(months, len(rec.user_idx)),
            "person": np.tile(rec.user_idx, rec.months),
            "status": np.where(rec.user_in_treatment.ravel(), "in treatment", "active"),
        }
    )
    pm = pd.concat([s_rows, u_rows], ignore_index=True).join(ep, on=["month", "person"])
    pm = pm.fillna({v: 0 for v in vals}).sort_values(["month", "person"], kind="stable")
    return pd.DataFrame(
        {
            "month": rec.labels(pm["month"].to_numpy()),
            "person_id": pid[pm["person"].to_numpy()],
            "status": pm["status"].to_numpy(),
            **{v: pm[v].to_numpy() for v in vals},
        }
    )


def _behaviour_month(rec: SimRecord, e: pd.DataFrame) -> pd.DataFrame:
    vals = VALUES
    bm = e.groupby(["month", "behaviour"])[vals].sum().reset_index()
    return pd.DataFrame(
        {
            "month": rec.labels(bm["month"].to_numpy()),
            "behaviour": np.array(BEHAVIOURS)[bm["behaviour"].to_numpy()],
            **{v: bm[v].to_numpy() for v in vals},
        }
    )


def _operations(rec: SimRecord) -> pd.DataFrame:
    p = rec.params
    mids = rec.city.markets["market_id"].to_numpy()
    ops = []
    for q in rec.plans:
        ops.append(
            {
                "operation_id": q.operation_id,
                "tactic": q.op.tactic,
                "targets": ";".join(q.op.targets),
                "start_month": rec.month_labels[q.start] if q.start < rec.months else "",
                "duration_months": q.op.duration,
                "intensity": q.op.intensity,
                "area_x": round(q.area.x, 1),
                "area_y": round(q.area.y, 1),
                "area_radius_m": round(q.area.radius_m, 1),
                "buffer_m": p.buffer_m,
                "target_cells": int(q.target_mask.sum()),
                "buffer_cells": int(q.buffer_mask.sum()),
                "market_ids": ";".join(mids[list(q.markets)]),
                "buffer_effect": q.buffer_kind,
                "buffer_effect_size": round(q.buffer_size, 4),
                "turf_violence": q.turf_violence,
                "markets_closed": ";".join(mids[list(q.closed_markets)]),
                "users_treated": q.users_treated,
            }
        )
    return pd.DataFrame(
        ops,
        columns=[
            "operation_id",
            "tactic",
            "targets",
            "start_month",
            "duration_months",
            "intensity",
            "area_x",
            "area_y",
            "area_radius_m",
            "buffer_m",
            "target_cells",
            "buffer_cells",
            "market_ids",
            "buffer_effect",
            "buffer_effect_size",
            "turf_violence",
            "markets_closed",
            "users_treated",
        ],
    )


def _operation_effects(rec: SimRecord) -> pd.DataFrame:
    eff = pd.DataFrame(rec.effects)
    cols = ["operation_id", "month", "zone"] + [
        f"{a}_{b}" for a in EFFECT_MEASURES for b in ("with", "without")
    ]
    if eff.empty:
        eff = pd.DataFrame(columns=cols)
    else:
        eff["month"] = rec.labels(eff["month"].to_numpy().astype(np.int64))
        eff = eff[cols]
        for col in cols[3:]:
            eff[col] = eff[col].astype(float).round(4)
    return eff
