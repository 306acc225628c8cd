"""The expected-count model of a simulation run: surfaces, multipliers and expectations.

Expected counts are built from four multiplicative components (see :mod:`.engine`):
background surfaces per cell and type, market footprints x intensity, users' offending
kernels, and police activity proportional to deployment. A :class:`Model` holds the parts
that are fixed for a run (derived once from the city, the parameters and the seed) and
computes, for any month:

* :meth:`Model.multipliers` -- the effect of every scheduled operation on those counts;
* :meth:`Model.expected` -- expected harm, recorded harm, recorded events and police
  activity per cell for given multipliers;
* :meth:`Model.operation_effects` -- each active operation's true effect: expected values
  with all operations and without that one, by zone.

Every effect is a multiplier, so "without" is exact (:meth:`Model.without`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from harmscope.simulate.city import City, rng_for
from harmscope.simulate.codes import EFFECT_MEASURES, HARM_W, NT, VIOLENT
from harmscope.simulate.operations import OperationPlan
from harmscope.simulate.params import ACTIVITY_TYPES, CRIME_TYPES, Parameters
from harmscope.simulate.state import Multipliers

F = NDArray[np.float64]
I = NDArray[np.int64]  # noqa: E741

# User offence location: home or primary market cell, then a discretised Gaussian offset
# (9 x 9 cells, sd 1.2 cells) around it.
_OFF = np.arange(-4, 5)
_DR, _DC = (a.ravel() for a in np.meshgrid(_OFF, _OFF))
_KW = np.exp(-(_DR**2 + _DC**2) / (2 * 1.2**2))
_KW = _KW / _KW.sum()


class Model:
    """What stays fixed through a run: expected-count surfaces, kernels and rates.

    Parameters
    ----------
    params : Parameters
        Mechanism parameters.
    city : City
        The built city.
    seed : int
        Simulation seed (market drift stream).
    months : int
        Months in the run.
    start : str
        First month, ``YYYY-MM`` (season).

    Attributes
    ----------
    seller_idx, user_idx : ndarray
        Rows of ``city.people`` that are sellers (contiguous by market) and users.
    rec : ndarray, (types,)
        Recording probability per type.
    bg : ndarray, (cells, types)
        Expected true background counts per month, before season and operations.
    mk_coef : ndarray, (types,)
        Expected market counts per unit of footprint x intensity.
    season : ndarray, (months, types)
        Seasonal multiplier.
    drift : ndarray, (months, markets)
        Market intensity drift (mean-one, AR(1) on the log scale).
    user_rate, user_q : ndarray
        Users' expected offences per month, and the type profile of them.
    u_cells, u_w, u_cw : ndarray
        Users' offence-location kernels: cells, weights and cumulative weights.
    dep_init : ndarray, (cells,)
        Deployment of the first month (from expected recorded counts).
    ss_total, mp_scale, x_drugs, x_weapons : float
        Searches per month, market-presence scale, and rates of drug and weapon detections
        per unit of deployment.
    """

    def __init__(self, params: Parameters, city: City, seed: int, months: int, start: str):
        p, c = params, city
        self.params = params
        self.city = city
        nc = c.n_cells
        people = c.people
        kind = people["kind"].to_numpy()
        self.seller_idx = np.flatnonzero(kind == "seller")
        self.user_idx = np.flatnonzero(kind == "user")
        self.n_sellers = len(self.seller_idx)
        total_rec = p.recorded_per_1000_month * c.residents / 1000
        rec = np.array([p.recording_rate[t] for t in CRIME_TYPES])
        self.rec = rec
        self._bgw: tuple[int, F] = (-1, np.zeros((0, 3)))
        self.w3 = np.column_stack([HARM_W, HARM_W * rec, rec * (HARM_W > 0)])
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
        # Each type's own place risk (mean one): severe crime does not fall exactly where
        # volume crime does, so counting and harm weighting rank cells differently, as they
        # do in police.uk data. One draw for every type from its own stream, so a sigma of
        # zero leaves that type (and every other stream) as it was.
        sig = np.array([p.type_risk_sigma.get(t, 0.0) for t in CRIME_TYPES])
        z = rng_for(seed, 16).standard_normal((nc, len(CRIME_TYPES)))
        surf = surf * np.exp(sig[None, :] * z - sig[None, :] ** 2 / 2)
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
        mo = (np.arange(months) + int(start[5:7]) - 1) % 12 + 1
        amp = np.array([p.seasonal_amplitude.get(t, 0.03) for t in CRIME_TYPES])
        peak = np.array(
            [p.seasonal_peak_month.get(t, p.seasonal_default_peak) for t in CRIME_TYPES]
        )
        self.season = 1 + amp[None, :] * np.cos(2 * np.pi * (mo[:, None] - peak[None, :]) / 12)
        # Market drift: stationary AR(1) on the log scale, mean-one multiplier.
        rng = rng_for(seed, 2)
        nm = len(inten)
        var = p.market_drift_sd**2 / (1 - p.market_drift_ar**2)
        x = np.empty((months, nm))
        x[0] = rng.normal(0, np.sqrt(var), nm)
        eps = rng.normal(0, p.market_drift_sd, (months, nm))
        for m in range(1, months):
            x[m] = p.market_drift_ar * x[m - 1] + eps[m]
        self.drift = np.exp(x - var / 2)
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
        # Police deployment follows recorded volume ("busyness"), not harm.
        exp_rec = self.bg.sum(1) * 0 + (self.bg * rec).sum(1)
        self.dep_init = (3 * exp_rec + 1) ** p.deployment_busyness_power
        self.ss_total = p.stop_search_per_1000_month * c.residents / 1000
        mp0 = np.bincount(c.fp_cell, weights=c.fp_w * inten[c.fp_market], minlength=nc)
        self.mp_scale = max(float(mp0.max()), 1e-9)
        d0 = self.dep_init / self.dep_init.sum()
        mpn = mp0 / self.mp_scale
        share, find = self.search_probs(mpn)
        e_finds = (self.ss_total * d0 * share * find).sum()
        target = p.type_mix["Drugs"] * total_rec
        self.x_drugs = max(target - e_finds, 0.1 * target) / (d0 * (0.2 + mpn)).sum()
        e_wfinds = (self.ss_total * d0 * (1 - share) * 0.27 * 0.15).sum()
        target_w = p.type_mix["Possession of weapons"] * total_rec
        self.x_weapons = max(target_w - e_wfinds, 0.1 * target_w) / (d0 * (0.3 + mpn)).sum()

    def search_probs(self, mpn: F) -> tuple[F, F]:
        """Share of searches for drugs and their find rate, given market presence ``mpn``."""
        p = self.params
        share = np.clip(p.drug_search_share * (0.7 + 0.6 * mpn), 0, 0.95)
        find = np.clip(p.drug_find_rate + p.market_find_lift * mpn, 0, 0.9)
        return share, find

    def market_presence(self, mu: Multipliers) -> F:
        """Market presence per cell (footprint x intensity), relative to the start's peak."""
        c = self.city
        return (
            np.bincount(c.fp_cell, weights=c.fp_w * mu.a[c.fp_market], minlength=c.n_cells)
            / self.mp_scale
        )

    # ------------------------------------------------------------------ operations ---------
    def multipliers(
        self,
        plans: list[OperationPlan],
        m: int,
        turf: F,
        exclude: OperationPlan | None = None,
    ) -> Multipliers:
        """Multipliers of month ``m`` with every plan but ``exclude``; ``turf`` is the
        business-as-usual turf-violence lift of each market this month."""
        nc = self.city.n_cells
        out = Multipliers(
            bg=np.ones(nc),
            mk=np.ones(nc),
            dep=np.ones(nc),
            a=self.base_int * self.drift[m],
            a_op=np.ones(len(self.base_int)),
            v=turf.copy(),
            u=np.ones(len(self.user_idx)),
        )
        for q in plans:
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

    def without(self, mu: Multipliers, q: OperationPlan, m: int) -> Multipliers:
        """``mu`` with operation ``q``'s multipliers for month ``m`` taken out.

        Every multiplier is strictly positive (effects are below 100 %, closures leave a
        residual), so dividing by ``q``'s factors is exact up to rounding.
        """
        out = mu.copy()
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
    def expected(
        self, m: int, mu: Multipliers, dep_base: F, ref: tuple[Multipliers, F] | None = None
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
        w = self.w3  # types x 3: harm days, recorded harm days, recorded harm events
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
        mpn = self.market_presence(mu)
        share, find = self.search_probs(mpn)
        ss = self.ss_total * dep
        out[:, 3] = (
            ss
            + ss * share * find
            + self.x_drugs * dep * (0.2 + mpn)
            + self.x_weapons * dep * (0.3 + mpn)
        )
        return out, ucell

    def operation_effects(
        self, m: int, mu: Multipliers, dep_base: F, active: list[OperationPlan]
    ) -> list[dict[str, object]]:
        """True effect rows of the ``active`` operations in month ``m``.

        One row per operation and zone (``target``, ``buffer``, ``city``) with each of
        :data:`EFFECT_MEASURES` expected with every operation (``mu``) and without that one.
        """
        rows: list[dict[str, object]] = []
        if not active:
            return rows
        full, ucell = self.expected(m, mu, dep_base)
        city_with = full.sum(0)
        for q in active:
            wo, _ = self.expected(m, self.without(mu, q, m), dep_base, (mu, ucell))
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
                for i, tag in enumerate(EFFECT_MEASURES):
                    row[f"{tag}_with"] = float(with_[i])
                    row[f"{tag}_without"] = float(without[i])
                rows.append(row)
        return rows
