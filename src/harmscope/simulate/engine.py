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
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from harmscope.errors import SimulationError
from harmscope.simulate.city import City, build_city, rng_for
from harmscope.simulate.operations import Operation, OperationPlan, month_index, resolve
from harmscope.simulate.params import (
    ACTIVITY_TYPES,
    CRIME_TYPES,
    DEFAULT,
    HARM_DAYS,
    Parameters,
    Size,
    T,
)
from harmscope.simulate.result import SimResult

F = NDArray[np.float64]
I = NDArray[np.int64]  # noqa: E741

NT = len(CRIME_TYPES)
HARM_W = np.array([0.0 if t in ACTIVITY_TYPES else HARM_DAYS[t] for t in CRIME_TYPES])
VIOLENT = np.array([T["Violence and sexual offences"], T["Robbery"]])
DRUGS, WEAPONS = T["Drugs"], T["Possession of weapons"]

BEHAVIOURS = (
    "not drug-related",
    "open dealing nuisance",
    "market violence",
    "firearms violence",
    "turf violence",
    "acquisitive crime by users",
    "child criminal exploitation",
    "cuckooing",
    "police-found drug and weapon offences",
)
B_OTHER, B_NUISANCE, B_VIOL, B_FIRE, B_TURF, B_ACQ, B_CHILD, B_CUCKOO, B_POLICE = range(9)

# Seller status codes (truth person_month).
ST_RESERVE, ST_ACTIVE, ST_CUSTODY, ST_DETERRED, ST_IDLE = range(5)
SELLER_STATUS = ("reserve", "active", "in custody", "deterred", "idle (market closed)")

# User offence location: home or primary market cell, then a discretised Gaussian offset.
_OFF = np.arange(-4, 5)
_DR, _DC = (a.ravel() for a in np.meshgrid(_OFF, _OFF))
_KW = np.exp(-(_DR**2 + _DC**2) / (2 * 1.2**2))
_KW = _KW / _KW.sum()


def _month_label(first: str, m: int) -> str:
    y, mo = (int(v) for v in first.split("-"))
    t = y * 12 + mo - 1 + m
    return f"{t // 12:04d}-{t % 12 + 1:02d}"


@dataclass
class _Mult:
    bg: F  # cells
    mk: F  # cells (market harm by area)
    dep: F  # cells
    a: F  # markets: intensity incl. drift
    a_op: F  # markets: operations only
    v: F  # markets: violence lift
    u: F  # users


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
        last = _month_label(start, months - 1)
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
        self._init_model()

    # ------------------------------------------------------------------ set-up -------------
    def _init_model(self) -> None:
        p, c = self.params, self.city
        nc, months = c.n_cells, self.months
        people = c.people
        kind = people["kind"].to_numpy()
        self.seller_idx = np.flatnonzero(kind == "seller")
        self.user_idx = np.flatnonzero(kind == "user")
        self.n_sellers = len(self.seller_idx)
        total_rec = p.recorded_per_1000_month * c.residents / 1000
        rec = np.array([p.recording_rate[t] for t in CRIME_TYPES])
        self.rec = rec
        self._bgw: tuple[int, F] = (-1, np.zeros((0, 3)))
        self._w3 = np.column_stack([HARM_W, HARM_W * rec, rec * (HARM_W > 0)])
        true_total = np.array([p.type_mix[t] * total_rec for t in CRIME_TYPES]) / rec
        ms = np.array([p.market_share.get(t, 0.0) for t in CRIME_TYPES])
        us = np.array([p.user_share.get(t, 0.0) for t in CRIME_TYPES])
        act = np.array([t in ACTIVITY_TYPES for t in CRIME_TYPES])
        ms[act] = 0.0
        us[act] = 0.0
        bgs = np.where(act, 0.0, 1.0 - ms - us)
        # Background surfaces (expected true counts per cell per month, before season).
        alpha = np.array([p.residential_weight[t] for t in CRIME_TYPES])
        popn = c.pop / c.pop.sum()
        comn = c.commerce / c.commerce.sum()
        surf = (alpha[None, :] * popn[:, None] + (1 - alpha[None, :]) * comn[:, None]) * c.risk[
            :, None
        ]
        surf = surf / surf.sum(0, keepdims=True)
        self.bg = surf * (bgs * true_total)[None, :]
        # Markets.
        inten = c.markets["base_intensity"].to_numpy()
        self.mk_coef = ms * true_total / inten.sum()
        self.base_int = inten
        # Users.
        urate = people["offending_rate"].to_numpy()[self.user_idx]
        ut = us * true_total
        self.user_rate = urate / urate.sum() * ut.sum()
        self.user_q = ut / max(ut.sum(), 1e-12)
        # Seasonality (months x types).
        mo = (np.arange(months) + int(self.start[5:7]) - 1) % 12 + 1
        amp = np.array([p.seasonal_amplitude.get(t, 0.03) for t in CRIME_TYPES])
        peak = np.array(
            [p.seasonal_peak_month.get(t, p.seasonal_default_peak) for t in CRIME_TYPES]
        )
        self.season = 1 + amp[None, :] * np.cos(2 * np.pi * (mo[:, None] - peak[None, :]) / 12)
        # Market drift: stationary AR(1) on the log scale, mean-one multiplier.
        rng = rng_for(self.seed, 2)
        nm = len(inten)
        var = p.market_drift_sd**2 / (1 - p.market_drift_ar**2)
        x = np.empty((months, nm))
        x[0] = rng.normal(0, np.sqrt(var), nm)
        eps = rng.normal(0, p.market_drift_sd, (months, nm))
        for m in range(1, months):
            x[m] = p.market_drift_ar * x[m - 1] + eps[m]
        self.drift = np.exp(x - var / 2)
        self.bau_turf = np.ones((months, nm))
        # User offence-location kernels: (users x 162) cells and weights.
        n = c.n
        home = people["home_cell"].to_numpy()[self.user_idx]
        mcell = c.markets["cell"].to_numpy()[people["market"].to_numpy()[self.user_idx]]
        cells = []
        for anchor in (home, mcell):
            r0, c0 = np.divmod(anchor, n)
            rr = np.clip(r0[:, None] + _DR[None, :], 0, n - 1)
            cc = np.clip(c0[:, None] + _DC[None, :], 0, n - 1)
            cells.append(rr * n + cc)
        self.u_cells = np.concatenate(cells, axis=1)
        nu = len(self.user_idx)
        self.u_w = np.tile(np.concatenate([_KW, _KW]) / 2, (nu, 1))
        self.u_cw = (np.cumsum(self.u_w, axis=1) + np.arange(nu)[:, None]).ravel()
        self.u_cw[np.arange(1, nu + 1) * self.u_w.shape[1] - 1] = np.arange(1, nu + 1)
        # Sellers: contiguous by market.
        smarket = people["market"].to_numpy()[self.seller_idx]
        self.s_market = smarket
        self.s_viol = people["violence"].to_numpy()[self.seller_idx]
        self.s_fire = people["firearms"].to_numpy()[self.seller_idx].astype(bool)
        self.s_child = people["is_child"].to_numpy()[self.seller_idx].astype(bool)
        reserve = people["reserve"].to_numpy()[self.seller_idx].astype(bool)
        self.s_status = np.where(reserve, ST_RESERVE, ST_ACTIVE).astype(np.int64)
        self.s_back = np.zeros(self.n_sellers, dtype=np.int64)  # month a custody ends
        self.s_target = np.bincount(smarket[~reserve], minlength=nm)
        self.s_start = np.searchsorted(smarket, np.arange(nm))
        self.s_end = np.searchsorted(smarket, np.arange(nm), side="right")
        self.status_hist = np.zeros((months, self.n_sellers), dtype=np.int8)
        self.user_tx = np.zeros((months, nu), dtype=bool)
        # Police deployment follows recorded volume ("busyness"), not harm.
        self.recent = np.zeros((months, nc))
        exp_rec = self.bg.sum(1) * 0 + (self.bg * rec).sum(1)
        self._dep_init = (3 * exp_rec + 1) ** p.deployment_busyness_power
        self.ss_total = p.stop_search_per_1000_month * c.residents / 1000
        mp0 = np.bincount(c.fp_cell, weights=c.fp_w * inten[c.fp_market], minlength=nc)
        self.mp_scale = max(float(mp0.max()), 1e-9)
        d0 = self._dep_init / self._dep_init.sum()
        mpn = mp0 / self.mp_scale
        share, find = self._search_probs(mpn)
        e_finds = (self.ss_total * d0 * share * find).sum()
        target = p.type_mix["Drugs"] * total_rec
        self.x_drugs = max(target - e_finds, 0.1 * target) / (d0 * (0.2 + mpn)).sum()
        e_wfinds = (self.ss_total * d0 * (1 - share) * 0.27 * 0.15).sum()
        target_w = p.type_mix["Possession of weapons"] * total_rec
        self.x_weapons = max(target_w - e_wfinds, 0.1 * target_w) / (d0 * (0.3 + mpn)).sum()
        # Event buffers.
        self._ev: list[dict[str, NDArray[np.generic]]] = []
        self._ss: list[dict[str, NDArray[np.generic]]] = []
        self._hidden: list[dict[str, NDArray[np.generic]]] = []
        self._partner: list[dict[str, NDArray[np.generic]]] = []
        self._survey: list[dict[str, NDArray[np.generic]]] = []
        self._intel: list[dict[str, NDArray[np.generic]]] = []
        self._effects: list[dict[str, object]] = []
        self._market_month: list[dict[str, NDArray[np.generic]]] = []
        self._tx_entries: list[tuple[int, I]] = []

    def _search_probs(self, mpn: F) -> tuple[F, F]:
        p = self.params
        share = np.clip(p.drug_search_share * (0.7 + 0.6 * mpn), 0, 0.95)
        find = np.clip(p.drug_find_rate + p.market_find_lift * mpn, 0, 0.9)
        return share, find

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

    def _mult(self, m: int, exclude: OperationPlan | None = None) -> _Mult:
        c = self.city
        nc = c.n_cells
        out = _Mult(
            bg=np.ones(nc),
            mk=np.ones(nc),
            dep=np.ones(nc),
            a=self.base_int * self.drift[m],
            a_op=np.ones(len(self.base_int)),
            v=self.bau_turf[m].copy(),
            u=np.ones(len(self.user_idx)),
        )
        for q in self.plans:
            if q is exclude or m not in q.months_on:
                continue
            if q.bg_mult[m] != 1:
                out.bg[q.target_mask] *= q.bg_mult[m]
            if q.market_area_mult[m] != 1:
                out.mk[q.target_mask] *= q.market_area_mult[m]
            if q.buffer_mult[m] != 1:
                out.bg[q.buffer_mask] *= q.buffer_mult[m]
                out.mk[q.buffer_mask] *= q.buffer_mult[m]
            if q.deploy_mult[m] != 1:
                out.dep[q.target_mask] *= q.deploy_mult[m]
            for k, arr in q.market_mult.items():
                out.a_op[k] *= arr[m]
            for k, arr in q.violence_mult.items():
                out.v[k] *= arr[m]
            if q.user_idx.size:
                out.u[q.user_idx - self.n_sellers] *= q.user_mult[:, m]
        out.a = out.a * out.a_op
        return out

    def _without(self, mu: _Mult, q: OperationPlan, m: int) -> _Mult:
        """``mu`` with operation ``q``'s multipliers for month ``m`` taken out.

        Every multiplier is strictly positive (effects are below 100 %, closures leave a
        residual), so dividing by ``q``'s factors is exact up to rounding.
        """
        out = _Mult(
            bg=mu.bg.copy(),
            mk=mu.mk.copy(),
            dep=mu.dep.copy(),
            a=mu.a.copy(),
            a_op=mu.a_op.copy(),
            v=mu.v.copy(),
            u=mu.u.copy(),
        )
        if q.bg_mult[m] != 1:
            out.bg[q.target_mask] /= q.bg_mult[m]
        if q.market_area_mult[m] != 1:
            out.mk[q.target_mask] /= q.market_area_mult[m]
        if q.buffer_mult[m] != 1:
            out.bg[q.buffer_mask] /= q.buffer_mult[m]
            out.mk[q.buffer_mask] /= q.buffer_mult[m]
        if q.deploy_mult[m] != 1:
            out.dep[q.target_mask] /= q.deploy_mult[m]
        for k, arr in q.market_mult.items():
            out.a_op[k] /= arr[m]
            out.a[k] /= arr[m]
        for k, arr in q.violence_mult.items():
            out.v[k] /= arr[m]
        if q.user_idx.size:
            out.u[q.user_idx - self.n_sellers] /= q.user_mult[:, m]
        return out

    # ------------------------------------------------------------------ expectations -------
    def _expected(
        self, m: int, mu: _Mult, dep_base: F, ref: tuple[_Mult, F] | None = None
    ) -> tuple[F, F]:
        """Expected harm per cell and the users' part of it, for multipliers ``mu``.

        Returns an array of cells x 4 -- true harm (days), recorded harm (days), recorded
        harm-type events, police activity events -- and the users' expected offences per
        cell. Counts are never materialised by type: each component's type profile is
        contracted with the weights first. ``ref`` (multipliers and users' part of another
        call this month) updates the users' part only for users whose multiplier differs.
        """
        c = self.city
        nc = c.n_cells
        season = self.season[m]
        w = self._w3  # types x 3: harm days, recorded harm days, recorded harm events
        out = np.empty((nc, 4))
        if self._bgw[0] != m:
            self._bgw = (m, (self.bg * season[None, :]) @ w)
        out[:, :3] = mu.bg[:, None] * self._bgw[1]
        fpv = mu.a[c.fp_market] * c.fp_w * mu.mk[c.fp_cell]
        coef = self.mk_coef * season
        viol = np.zeros(NT, dtype=bool)
        viol[VIOLENT] = True
        nv = np.bincount(c.fp_cell, weights=fpv, minlength=nc)
        vv = np.bincount(c.fp_cell, weights=fpv * mu.v[c.fp_market], minlength=nc)
        out[:, :3] += nv[:, None] * (np.where(viol, 0, coef) @ w)[None, :]
        out[:, :3] += vv[:, None] * (np.where(viol, coef, 0) @ w)[None, :]
        if ref is None:
            ur = self.user_rate * mu.u
            ucell: F = np.bincount(
                self.u_cells.ravel(), weights=(ur[:, None] * self.u_w).ravel(), minlength=nc
            ).astype(np.float64)
        else:
            mu_ref, ucell_ref = ref
            d = np.flatnonzero(mu.u != mu_ref.u)
            dr = self.user_rate[d] * (mu.u[d] - mu_ref.u[d])
            ucell = ucell_ref + np.bincount(
                self.u_cells[d].ravel(), weights=(dr[:, None] * self.u_w[d]).ravel(), minlength=nc
            )
        out[:, :3] += ucell[:, None] * ((self.user_q * season) @ w)[None, :]
        dep = dep_base * mu.dep
        mpn = (
            np.bincount(c.fp_cell, weights=c.fp_w * mu.a[c.fp_market], minlength=nc) / self.mp_scale
        )
        share, find = self._search_probs(mpn)
        ss = self.ss_total * dep
        out[:, 3] = (
            ss
            + ss * share * find
            + self.x_drugs * dep * (0.2 + mpn)
            + self.x_weapons * dep * (0.3 + mpn)
        )
        return out, ucell

    # ------------------------------------------------------------------ running ------------
    def run(self, until: int | str | None = None) -> SimResult:
        """Simulate up to (not including) month ``until`` (default: all months).

        Returns
        -------
        SimResult
            The result so far (complete once every month has run).
        """
        stop = self.months if until is None else month_index(until, self.start)
        stop = max(self.month, min(stop, self.months))
        while self.month < stop:
            self._step(self.month)
            self.month += 1
        return SimResult.build(self)

    def _step(self, m: int) -> None:
        p, c = self.params, self.city
        nc = c.n_cells
        rng = rng_for(self.seed, 1, m)
        self._sellers(m)
        mu = self._mult(m)
        # Deployment: recorded volume of the last three months.
        if m == 0:
            dep_base = self._dep_init
        else:
            dep_base = (
                self.recent[max(0, m - 3) : m].sum(0) * (3 / min(m, 3)) + 1
            ) ** p.deployment_busyness_power
        dep_base = dep_base / dep_base.sum()
        # ---- background events ----------------------------------------------------------
        lam_bg = self.bg * self.season[m][None, :] * mu.bg[:, None]
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
        mtypes = np.flatnonzero(self.mk_coef)
        lam_mk = fpv[:, None] * (self.mk_coef[mtypes] * self.season[m, mtypes])[None, :]
        viol_cols = np.isin(mtypes, VIOLENT)
        lam_mk[:, viol_cols] *= mu.v[c.fp_market][:, None]
        k_mk = rng.poisson(lam_mk)
        j, tcol = np.nonzero(k_mk)
        rep = k_mk[j, tcol]
        mk_j = np.repeat(j, rep)
        mk_t = mtypes[np.repeat(tcol, rep)]
        mk_m = c.fp_market[mk_j]
        is_v = np.isin(mk_t, VIOLENT)
        person = self._attribute(rng, mk_m, is_v)
        beh = np.where(is_v, B_VIOL, B_NUISANCE)
        has = person >= 0
        fire = np.zeros(len(person), dtype=bool)
        fire[has] = self.s_fire[person[has] - self.seller_idx[0]] if self.n_sellers else False
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
        qm = self.user_q * self.season[m]
        ur = self.user_rate * mu.u * qm.sum()
        n_i = rng.poisson(ur)
        ui = np.repeat(np.arange(len(ur)), n_i)
        pos = np.searchsorted(self.u_cw, ui + rng.random(len(ui)), side="right")
        pos = np.minimum(pos, (ui + 1) * self.u_cells.shape[1] - 1)
        ev_cell.append(self.u_cells.ravel()[pos])
        ev_type.append(rng.choice(NT, size=len(ui), p=qm / qm.sum()) if len(ui) else ui)
        ev_market.append(c.people["market"].to_numpy()[self.user_idx][ui])
        ev_person.append(self.user_idx[ui])
        ev_beh.append(np.full(len(ui), B_ACQ))
        cell = np.concatenate(ev_cell)
        ctype = np.concatenate(ev_type)
        recorded = rng.random(len(cell)) < self.rec[ctype]
        # ---- police activity: searches, drug and weapon detections -----------------------
        d = dep_base * mu.dep
        mpn = (
            np.bincount(c.fp_cell, weights=c.fp_w * mu.a[c.fp_market], minlength=nc) / self.mp_scale
        )
        share, find = self._search_probs(mpn)
        n_ss = rng.poisson(self.ss_total * d)
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
        self._ss.append(
            {
                "month": np.full(len(ss_cell), m),
                "cell": ss_cell,
                "drug": drug,
                "found": found,
                "op": op_of,
            }
        )
        n_det = rng.poisson(self.x_drugs * d * (0.2 + mpn))
        n_w = rng.poisson(self.x_weapons * d * (0.3 + mpn))
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
        self._ev.append(
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
        self._hidden_harms(m, mu)
        # ---- markets (truth) ------------------------------------------------------------
        self._market_month.append(
            {
                "month": np.full(len(self.base_int), m),
                "a": mu.a.copy(),
                "a_op": mu.a_op.copy(),
                "v": mu.v.copy(),
            }
        )
        # ---- partners, survey, intelligence ---------------------------------------------
        from harmscope.simulate import community

        community.partner_month(self, m, mu, rng_for(self.seed, 4, m))
        community.survey_month(self, m, rng_for(self.seed, 5, m))
        community.intel_month(self, m, rng_for(self.seed, 6, m))
        # ---- true effects of operations active this month ---------------------------------
        active = [q for q in self.plans if m in q.months_on]
        if active:
            tags = ("true_harm", "recorded_harm", "recorded_events", "activity")
            full, ucell = self._expected(m, mu, dep_base)
            city_with = full.sum(0)
            for q in active:
                wo, _ = self._expected(m, self._without(mu, q, m), dep_base, (mu, ucell))
                for zone, with_, without in (
                    ("target", full[q.target_mask].sum(0), wo[q.target_mask].sum(0)),
                    ("buffer", full[q.buffer_mask].sum(0), wo[q.buffer_mask].sum(0)),
                    ("city", city_with, wo.sum(0)),
                ):
                    row: dict[str, object] = {
                        "operation_id": q.operation_id,
                        "month": m,
                        "zone": zone,
                    }
                    for i, tag in enumerate(tags):
                        row[f"{tag}_with"] = float(with_[i])
                        row[f"{tag}_without"] = float(without[i])
                    self._effects.append(row)

    def _attribute(self, rng: np.random.Generator, mk: I, violent: NDArray[np.bool_]) -> I:
        """Pick an active seller of each event's market (by violence for violent events)."""
        out = np.full(len(mk), -1, dtype=np.int64)
        if self.n_sellers == 0 or len(mk) == 0:
            return out
        active = self.s_status == ST_ACTIVE
        for is_v in (False, True):
            sel = violent == is_v
            if not sel.any():
                continue
            w = active * (self.s_viol if is_v else 1.0)
            cw = np.cumsum(w)
            lo = np.where(self.s_start > 0, cw[np.maximum(self.s_start - 1, 0)], 0.0)
            lo = np.where(self.s_start > 0, lo, 0.0)
            hi = cw[np.maximum(self.s_end - 1, 0)]
            k = mk[sel]
            tot = hi[k] - lo[k]
            u = lo[k] + rng.random(len(k)) * tot
            idx = np.searchsorted(cw, u, side="right")
            idx = np.clip(idx, self.s_start[k], np.maximum(self.s_end[k] - 1, self.s_start[k]))
            out[np.flatnonzero(sel)] = np.where(tot > 0, self.seller_idx[idx], -1)
        return out

    def _sellers(self, m: int) -> None:
        """Business-as-usual arrests, operation removals, releases and replacements."""
        p = self.params
        rng = rng_for(self.seed, 3, m)
        st = self.s_status
        nm = len(self.base_int)
        mu_ops = self._mult(m).a_op
        # Vacancies open at the start of the month are filled during it (replacement lag).
        active_start = np.bincount(self.s_market[st == ST_ACTIVE], minlength=nm)
        # Releases.
        back = (st == ST_CUSTODY) & (self.s_back <= m)
        st[back] = np.where(mu_ops[self.s_market[back]] > 0.5, ST_ACTIVE, ST_IDLE)
        # Business-as-usual arrests.
        arrested = (st == ST_ACTIVE) & (
            rng.random(self.n_sellers)
            < p.bau_arrest_rate * (0.7 + 0.3 * np.minimum(self.s_viol, 3))
        )
        active_before = np.bincount(self.s_market[st == ST_ACTIVE], minlength=nm)
        self._remove(arrested, m, rng, ST_CUSTODY)
        lost = np.bincount(self.s_market[arrested], minlength=nm) / np.maximum(active_before, 1)
        for k in np.flatnonzero(lost >= p.bau_turf_threshold):
            self.bau_turf[m + 1 : m + 1 + p.turf_violence_months, k] *= 1 + p.turf_violence_lift
        # Operations starting now (arrest sweeps) or calling in (DMI, a month after start).
        for q in self.plans:
            if m not in (q.start, q.start + 1):
                continue
            orng = rng_for(self.seed, 8, q.index, m)
            if q.op.tactic == "arrests" and q.start == m:
                pick = (
                    (st == ST_ACTIVE)
                    & np.isin(self.s_market, q.sweep_markets)
                    & (orng.random(self.n_sellers) < q.sweep_share)
                )
                named = np.isin(self.seller_idx, q.named_sellers) & (st == ST_ACTIVE)
                self._remove(pick | named, m, orng, ST_CUSTODY)
            if q.op.tactic == "dmi" and m == min(q.start + 1, self.months - 1):
                inm = np.isin(self.s_market, q.dmi_markets) & (st == ST_ACTIVE)
                med = np.median(self.s_viol[inm]) if inm.any() else 0.0
                violent = (
                    inm & ((self.s_viol > med) | self.s_fire)
                    if p.dmi_prosecute_violent
                    else inm & False
                )
                self._remove(violent, m, orng, ST_CUSTODY, scale=1.5)
                st[inm & ~violent] = ST_DETERRED
        # Replacement: last month's vacancies in operating markets are filled by reserves.
        active = np.maximum(np.bincount(self.s_market[st == ST_ACTIVE], minlength=nm), active_start)
        for k in np.flatnonzero((active < self.s_target) & (mu_ops > 0.5)):
            vac = int(self.s_target[k] - active[k])
            fill = int(rng.binomial(vac, 1 / 3))
            res = (
                np.flatnonzero(st[self.s_start[k] : self.s_end[k]] == ST_RESERVE)[:fill]
                + self.s_start[k]
            )
            st[res] = ST_ACTIVE
        idle = (st == ST_ACTIVE) & (mu_ops[self.s_market] <= 0.5)
        st[idle] = ST_IDLE
        self.status_hist[m] = st

    def _remove(
        self,
        mask: NDArray[np.bool_],
        m: int,
        rng: np.random.Generator,
        status: int,
        scale: float = 1.0,
    ) -> None:
        n = int(mask.sum())
        if n == 0:
            return
        self.s_status[mask] = status
        self.s_back[mask] = m + 1 + rng.geometric(1 / (self.params.sentence_months_mean * scale), n)

    def _hidden_harms(self, m: int, mu: _Mult) -> None:
        p, c = self.params, self.city
        people = c.people
        st = self.s_status
        gexp = c.groups["exploits_children"].to_numpy().astype(bool)
        sgroup = people["group"].to_numpy()[self.seller_idx]
        child = self.s_child & (st == ST_ACTIVE) & gexp[sgroup]
        ccells = c.markets["cell"].to_numpy()[self.s_market[child]]
        cm = people["cuckooed_market"].to_numpy()
        victims = np.flatnonzero(cm >= 0)
        on = mu.a_op[cm[victims]] > 0.5 if len(victims) else np.zeros(0, dtype=bool)
        victims = victims[on]
        self._hidden.append(
            {
                "month": np.full(child.sum() + len(victims), m),
                "cell": np.concatenate([ccells, people["home_cell"].to_numpy()[victims]]),
                "market": np.concatenate([self.s_market[child], cm[victims]]),
                "person": np.concatenate([self.seller_idx[child], victims]),
                "behaviour": np.concatenate(
                    [np.full(child.sum(), B_CHILD), np.full(len(victims), B_CUCKOO)]
                ),
                "harm": np.concatenate(
                    [
                        np.full(child.sum(), p.hidden_harm_days["child_exploitation"]),
                        np.full(len(victims), p.hidden_harm_days["cuckooing"]),
                    ]
                ),
            }
        )


def simulate(
    params: Parameters = DEFAULT,
    seed: int = 0,
    months: int = 36,
    *,
    size: Size = "city",
    operations: Sequence[Operation] = (),
    start: str = "2021-01",
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

    Returns
    -------
    SimResult
        In-memory tables (police.uk files, intelligence, survey, partners, truth) and
        :meth:`SimResult.write`.
    """
    sim = Simulation(params, seed=seed, months=months, size=size, start=start)
    for op in operations:
        sim.schedule(op)
    return sim.run()
