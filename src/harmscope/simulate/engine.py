"""The month-by-month simulation: events, police activity, partners, survey and truth.

Each month is generated in a handful of vectorised numpy draws (no per-event Python
loops). Expected counts are built from four components, all multiplicative, so that the
expected harm with and without any scheduled operation is exact:

* **background** -- each cell's enduring risk x residents/commerce x season x operations;
* **markets** -- each market's Gaussian footprint x its drifting intensity x operations,
  with violent types lifted by turf violence; events are attributed to active sellers;
* **users** -- prolific drug-using offenders (Pareto rates) offending around home and
  their market, less while in treatment;
* **police activity** -- stop-and-search, drug and weapon detections, proportional to
  patrol deployment, which follows recorded "busyness" and operations, not harm.

Random streams are keyed by ``(seed, purpose, month)`` so runs are reproducible and an
operation only changes draws where it changes expected counts.

This module runs the months; the parts live beside it, each imported one way (nothing
imports the engine back): the fixed expected-count model and the true effects of
operations in :mod:`.model`, sellers' arrests and replacements in :mod:`.sellers`,
partners, survey and intelligence draws in :mod:`.community`, the run's state in
:mod:`.state`, and the result in :mod:`.result` (which derives police.uk files,
intelligence and truth from the record, and writes them through :mod:`.output`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from harmscope.errors import SimulationError
from harmscope.periods import Progress, progress_stage
from harmscope.simulate import community
from harmscope.simulate.city import City, build_city, rng_for
from harmscope.simulate.codes import (
    B_ACQ,
    B_FIRE,
    B_NUISANCE,
    B_OTHER,
    B_POLICE,
    B_TURF,
    B_VIOL,
    DRUGS,
    HARM_W,
    NT,
    VIOLENT,
    WEAPONS,
)
from harmscope.simulate.model import Model
from harmscope.simulate.months import month_index, month_label
from harmscope.simulate.operations import Operation, OperationPlan, resolve
from harmscope.simulate.params import DEFAULT, Parameters, Size
from harmscope.simulate.result import SimResult
from harmscope.simulate.sellers import Sellers
from harmscope.simulate.state import MonthlyLog, frame


class Simulation:
    """A seeded simulation that operations can be scheduled into before or while it runs.

    Parameters
    ----------
    params : Parameters
        Mechanism parameters (default :data:`~harmscope.simulate.params.DEFAULT`).
    seed : int
        Seed: the same seed, size, months, start and operations give byte-identical output.
    months : int
        Months to simulate (>= 1).
    size : {"small", "city", "region"}
        City size preset.
    start : str
        First month, ``"YYYY-MM"``. The last month must not be in the future (police.uk
        files never are, and the ingest rejects them).
    city : City, optional
        A city already built with :func:`~harmscope.simulate.city.build_city` for the same
        seed, size and parameters (saves rebuilding it).

    Attributes
    ----------
    city : City
        The synthetic city.
    plans : list of OperationPlan
        Scheduled operations, in scheduling order.
    month : int
        Months simulated so far.
    model : Model
        What stays fixed through the run (expected-count surfaces, kernels, rates).
    sellers : Sellers
        Every seller's status, month by month.
    log : MonthlyLog
        What each simulated month drew.
    user_tx : ndarray, (months, users)
        Users in treatment.
    recent : ndarray, (months, cells)
        Recorded events per cell and month (next months' deployment follows them).
    intel_truth : ndarray, (people, intelligence behaviours)
        What each person truly does.

    Examples
    --------
    >>> sim = Simulation(seed=1, months=12, size="small")
    >>> m = sim.city.markets["market_id"].iat[0]
    >>> plan = sim.schedule(Operation("crackdown", (m,), start=4, duration=3))
    >>> res = sim.run()
    """

    def __init__(
        self,
        params: Parameters = DEFAULT,
        *,
        seed: int = 0,
        months: int = 36,
        size: Size = "city",
        start: str = "2021-01",
        city: City | None = None,
    ) -> None:
        if months < 1:
            raise SimulationError(f"months must be at least 1, got {months}")
        try:
            y0, m0 = (int(v) for v in start.split("-"))
            if not 1 <= m0 <= 12 or y0 < 2000:
                raise ValueError
        except ValueError as exc:
            raise SimulationError(f"start {start!r} is not a month like 2021-01") from exc
        last = month_label(start, months - 1)
        today = _dt.date.today()
        if last > f"{today.year:04d}-{today.month:02d}":
            raise SimulationError(f"the last simulated month {last} is in the future")
        self.params = params
        self.seed = int(seed)
        self.months = months
        self.start = f"{y0:04d}-{m0:02d}"
        self.city = city if city is not None else build_city(params, seed, size)
        self.plans: list[OperationPlan] = []
        self.month = 0
        self.model = Model(params, self.city, self.seed, months, self.start)
        self.sellers = Sellers.from_city(self.city, months)
        self.log = MonthlyLog()
        nu = len(self.model.user_idx)
        self.user_tx = np.zeros((months, nu), dtype=bool)
        self.recent = np.zeros((months, self.city.n_cells))
        self.intel_truth = community.true_behaviours(self.city)

    # ------------------------------------------------------------------ operations ---------
    def schedule(self, op: Operation) -> OperationPlan:
        """Add an operation; it must start in a month not yet simulated.

        Returns
        -------
        OperationPlan
            The resolved plan (areas, draws such as whether a DMI closes the market).
        """
        start = month_index(op.start, self.start)
        if start < self.month:
            raise SimulationError(
                f"operation starts in month {start} but the simulation has already run "
                f"{self.month} months: schedule it before running past its start"
            )
        plan = resolve(op, len(self.plans), self.city, self.months, self.start, self.params)
        if any(q.operation_id == plan.operation_id for q in self.plans):
            raise SimulationError(f"duplicate operation id {plan.operation_id!r}")
        self.plans.append(plan)
        return plan

    # ------------------------------------------------------------------ running ------------
    def run(self, until: int | str | None = None, *, progress: Progress | None = None) -> SimResult:
        """Simulate up to (not including) month ``until`` (default: all months).

        ``progress`` (``progress(stage, done, total)``) hears the stage ``'months'``, one unit
        per month simulated by this call.

        Returns
        -------
        SimResult
            The result so far (complete once every month has run).
        """
        stop = self.months if until is None else month_index(until, self.start)
        stop = max(self.month, min(stop, self.months))
        first = self.month
        with progress_stage(progress, "months", stop - first) as advance:
            while self.month < stop:
                self._step(self.month)
                self.month += 1
                advance(self.month - first)
        return self._result()

    def _result(self) -> SimResult:
        """The record of the months simulated so far, as a :class:`SimResult`."""
        ran, log = self.month, self.log
        ev = frame(log.events)
        if ev.empty:
            ev = pd.DataFrame(
                {
                    k: np.zeros(0, np.int64)
                    for k in ("month", "cell", "type", "recorded", "market", "person", "behaviour")
                }
            )
        ev["harm"] = HARM_W[ev["type"].to_numpy()]
        return SimResult(
            params=self.params,
            seed=self.seed,
            size=self.city.size,
            months=ran,
            start=self.start,
            month_labels=[month_label(self.start, m) for m in range(ran)],
            city=self.city,
            plans=list(self.plans),
            events=ev,
            searches=frame(log.searches),
            hidden=frame(log.hidden),
            partner_counts=frame(log.partners),
            survey_codes=frame(log.survey),
            intel_codes=frame(log.intel),
            effects=list(log.effects),
            market_state=frame(log.market_month),
            seller_status=self.sellers.history[:ran].copy(),
            user_in_treatment=self.user_tx[:ran].copy(),
            seller_idx=self.sellers.idx,
            user_idx=self.model.user_idx,
            behaviour_truth=self.intel_truth,
        )

    def _step(self, m: int) -> None:
        p, c, md, sl, log = self.params, self.city, self.model, self.sellers, self.log
        nc = c.n_cells
        rng = rng_for(self.seed, 1, m)
        mu_ops = md.multipliers(self.plans, m, sl.turf[m]).a_op
        sl.step(p, self.seed, self.plans, m, self.months, mu_ops)
        mu = md.multipliers(self.plans, m, sl.turf[m])
        # Deployment: recorded volume of the last three months.
        if m == 0:
            dep_base = md.dep_init
        else:
            dep_base = (
                self.recent[max(0, m - 3) : m].sum(0) * (3 / min(m, 3)) + 1
            ) ** p.deployment_busyness_power
        dep_base = dep_base / dep_base.sum()
        # ---- background events ----------------------------------------------------------
        lam_bg = md.bg * md.season[m][None, :] * mu.bg[:, None]
        k_bg = rng.poisson(lam_bg)
        cell_bg, type_bg = np.nonzero(k_bg)
        rep = k_bg[cell_bg, type_bg]
        ev_cell = [np.repeat(cell_bg, rep)]
        ev_type = [np.repeat(type_bg, rep)]
        ev_market = [np.full(rep.sum(), -1)]
        ev_person = [np.full(rep.sum(), -1)]
        ev_beh = [np.full(rep.sum(), B_OTHER)]
        # ---- market events --------------------------------------------------------------
        fpv = mu.a[c.fp_market] * c.fp_w * mu.mk[c.fp_cell]
        mtypes = np.flatnonzero(md.mk_coef)
        lam_mk = fpv[:, None] * (md.mk_coef[mtypes] * md.season[m, mtypes])[None, :]
        viol_cols = np.isin(mtypes, VIOLENT)
        lam_mk[:, viol_cols] *= mu.v[c.fp_market][:, None]
        k_mk = rng.poisson(lam_mk)
        j, tcol = np.nonzero(k_mk)
        rep = k_mk[j, tcol]
        mk_j = np.repeat(j, rep)
        mk_t = mtypes[np.repeat(tcol, rep)]
        mk_m = c.fp_market[mk_j]
        is_v = np.isin(mk_t, VIOLENT)
        person = sl.attribute(rng, mk_m, is_v)
        beh = np.where(is_v, B_VIOL, B_NUISANCE)
        has = person >= 0
        fire = np.zeros(len(person), dtype=bool)
        fire[has] = sl.fire[person[has] - sl.idx[0]] if sl.n else False
        beh[is_v & fire & (rng.random(len(person)) < 0.5)] = B_FIRE
        vm = mu.v[mk_m]
        turf = is_v & (rng.random(len(person)) < np.where(vm > 1, 1 - 1 / np.maximum(vm, 1), 0))
        beh[turf] = B_TURF
        ev_cell.append(c.fp_cell[mk_j])
        ev_type.append(mk_t)
        ev_market.append(mk_m)
        ev_person.append(person)
        ev_beh.append(beh)
        # ---- users' acquisitive crime ---------------------------------------------------
        self.user_tx[m] = mu.u < 1
        qm = md.user_q * md.season[m]
        ur = md.user_rate * mu.u * qm.sum()
        n_i = rng.poisson(ur)
        ui = np.repeat(np.arange(len(ur)), n_i)
        pos = np.searchsorted(md.u_cw, ui + rng.random(len(ui)), side="right")
        pos = np.minimum(pos, (ui + 1) * md.u_cells.shape[1] - 1)
        ev_cell.append(md.u_cells.ravel()[pos])
        ev_type.append(rng.choice(NT, size=len(ui), p=qm / qm.sum()) if len(ui) else ui)
        ev_market.append(c.people["market"].to_numpy()[md.user_idx][ui])
        ev_person.append(md.user_idx[ui])
        ev_beh.append(np.full(len(ui), B_ACQ))
        cell = np.concatenate(ev_cell)
        ctype = np.concatenate(ev_type)
        recorded = rng.random(len(cell)) < md.rec[ctype]
        # ---- police activity: searches, drug and weapon detections -----------------------
        d = dep_base * mu.dep
        mpn = md.market_presence(mu)
        share, find = md.search_probs(mpn)
        n_ss = rng.poisson(md.ss_total * d)
        ss_cell = np.repeat(np.arange(nc), n_ss)
        drug = rng.random(len(ss_cell)) < share[ss_cell]
        found = np.where(
            drug, rng.random(len(ss_cell)) < find[ss_cell], rng.random(len(ss_cell)) < 0.15
        )
        op_of = np.full(len(ss_cell), -1)
        for q in self.plans:
            if q.deploy_mult[m] > 1:
                inside = q.target_mask[ss_cell] & (op_of < 0)
                op_of[inside & (rng.random(len(ss_cell)) < 1 - 1 / q.deploy_mult[m])] = q.index
        log.searches.append(
            {
                "month": np.full(len(ss_cell), m),
                "cell": ss_cell,
                "drug": drug,
                "found": found,
                "op": op_of,
            }
        )
        n_det = rng.poisson(md.x_drugs * d * (0.2 + mpn))
        n_w = rng.poisson(md.x_weapons * d * (0.3 + mpn))
        wfind = ~drug & found & (rng.random(len(ss_cell)) < 0.27)
        act_cell = np.concatenate(
            [
                ss_cell[drug & found],
                np.repeat(np.arange(nc), n_det),
                ss_cell[wfind],
                np.repeat(np.arange(nc), n_w),
            ]
        )
        act_type = np.concatenate(
            [
                np.full((drug & found).sum() + n_det.sum(), DRUGS),
                np.full(wfind.sum() + n_w.sum(), WEAPONS),
            ]
        )
        cell = np.concatenate([cell, act_cell])
        ctype = np.concatenate([ctype, act_type])
        recorded = np.concatenate([recorded, np.ones(len(act_cell), dtype=bool)])
        market = np.concatenate([*ev_market, np.full(len(act_cell), -1)])
        person = np.concatenate([*ev_person, np.full(len(act_cell), -1)])
        beh = np.concatenate([*ev_beh, np.full(len(act_cell), B_POLICE)])
        log.events.append(
            {
                "month": np.full(len(cell), m, dtype=np.int64),
                "cell": cell,
                "type": ctype,
                "recorded": recorded,
                "market": market,
                "person": person,
                "behaviour": beh,
            }
        )
        self.recent[m] = np.bincount(cell[recorded], minlength=nc)
        # ---- hidden harms: exploited children and cuckooed homes -------------------------
        log.hidden.append(sl.hidden_harms(p, c, m, mu.a_op))
        # ---- markets (truth) ------------------------------------------------------------
        log.market_month.append(
            {
                "month": np.full(len(md.base_int), m),
                "a": mu.a.copy(),
                "a_op": mu.a_op.copy(),
                "v": mu.v.copy(),
            }
        )
        # ---- partners, survey, intelligence ---------------------------------------------
        log.partners.append(
            community.partner_month(
                p, c, md.user_idx, self.user_tx, m, mu, rng_for(self.seed, 4, m)
            )
        )
        log.survey.append(community.survey_month(p, c, log, m, rng_for(self.seed, 5, m)))
        log.intel.append(
            community.intel_month(
                p,
                c,
                sl.idx,
                sl.status,
                md.user_idx,
                self.intel_truth,
                m,
                rng_for(self.seed, 6, m),
            )
        )
        # ---- true effects of operations active this month ---------------------------------
        active = [q for q in self.plans if m in q.months_on]
        log.effects.extend(md.operation_effects(m, mu, dep_base, active))


def simulate(
    params: Parameters = DEFAULT,
    seed: int = 0,
    months: int = 36,
    *,
    size: Size = "city",
    operations: Sequence[Operation] = (),
    start: str = "2021-01",
    progress: Progress | None = None,
) -> SimResult:
    """Simulate a synthetic city and return its data and ground truth.

    Parameters
    ----------
    params : Parameters
        Mechanism parameters.
    seed : int
        Seed; output is byte-identical for the same arguments.
    months : int
        Number of months.
    size : {"small", "city", "region"}
        About 40,000, 300,000 or 1,000,000 residents.
    operations : sequence of Operation
        Operations to schedule before running (targets must exist in the seeded city:
        build it first with :func:`~harmscope.simulate.city.build_city` to choose them).
    start : str
        First month ``YYYY-MM``.
    progress : callable, optional
        ``progress(stage, done, total)``: one unit per simulated month (stage ``'months'``).

    Returns
    -------
    SimResult
        In-memory tables (police.uk files, intelligence, survey, partners, truth) and
        :meth:`SimResult.write`.
    """
    sim = Simulation(params, seed=seed, months=months, size=size, start=start)
    for op in operations:
        sim.schedule(op)
    return sim.run(progress=progress)
