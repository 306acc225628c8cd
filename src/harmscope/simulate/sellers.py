"""Sellers through a run: arrests, custody, deterrence, replacement, and who is blamed.

A :class:`Sellers` holds every seller's status month by month (codes in
:mod:`~harmscope.simulate.codes`) and the turf-violence lift that business-as-usual arrests
leave behind. Each month :meth:`Sellers.step` releases those whose custody ends, arrests some
(business as usual, proportional to violence), applies operations that start (arrest sweeps)
or call in (DMI), and fills last month's vacancies from the market's reserve (Werb et al.
2011: removing sellers opens vacancies that are contested). :meth:`Sellers.attribute` blames
each market event on an active seller of its market.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from harmscope.simulate.city import City, rng_for
from harmscope.simulate.codes import (
    B_CHILD,
    B_CUCKOO,
    ST_ACTIVE,
    ST_CUSTODY,
    ST_DETERRED,
    ST_IDLE,
    ST_RESERVE,
)
from harmscope.simulate.operations import OperationPlan
from harmscope.simulate.params import Parameters
from harmscope.simulate.state import Columns

F = NDArray[np.float64]
I = NDArray[np.int64]  # noqa: E741


@dataclass
class Sellers:
    """Every seller's state (rows of ``city.people`` with kind ``seller``, by market).

    Attributes
    ----------
    idx : ndarray
        Rows of ``city.people``; sellers of one market are contiguous.
    market, viol, fire, child : ndarray
        Market index, violence propensity, firearms access, child (per seller).
    status : ndarray
        Current status code.
    back : ndarray
        Month a custody ends.
    target : ndarray, (markets,)
        Active sellers each market had at the start (vacancies are filled towards it).
    start, end : ndarray, (markets,)
        Each market's slice of the sellers.
    history : ndarray, (months, sellers)
        Status at the end of each month.
    turf : ndarray, (months, markets)
        Business-as-usual turf-violence lift on market violence.
    """

    idx: I
    market: I
    viol: F
    fire: NDArray[np.bool_]
    child: NDArray[np.bool_]
    status: I
    back: I
    target: I
    start: I
    end: I
    history: NDArray[np.int8]
    turf: F

    @classmethod
    def from_city(cls, city: City, months: int) -> Sellers:
        """Sellers at the start: reserves waiting, the others active."""
        people = city.people
        idx = np.flatnonzero(people["kind"].to_numpy() == "seller")
        nm = len(city.markets)
        smarket = people["market"].to_numpy()[idx]
        reserve = people["reserve"].to_numpy()[idx].astype(bool)
        return cls(
            idx=idx,
            market=smarket,
            viol=people["violence"].to_numpy()[idx],
            fire=people["firearms"].to_numpy()[idx].astype(bool),
            child=people["is_child"].to_numpy()[idx].astype(bool),
            status=np.where(reserve, ST_RESERVE, ST_ACTIVE).astype(np.int64),
            back=np.zeros(len(idx), dtype=np.int64),
            target=np.bincount(smarket[~reserve], minlength=nm),
            start=np.searchsorted(smarket, np.arange(nm)),
            end=np.searchsorted(smarket, np.arange(nm), side="right"),
            history=np.zeros((months, len(idx)), dtype=np.int8),
            turf=np.ones((months, nm)),
        )

    @property
    def n(self) -> int:
        """Number of sellers (reserves included)."""
        return len(self.idx)

    def attribute(self, rng: np.random.Generator, mk: I, violent: NDArray[np.bool_]) -> I:
        """Pick an active seller of each event's market (by violence for violent events)."""
        out = np.full(len(mk), -1, dtype=np.int64)
        if self.n == 0 or len(mk) == 0:
            return out
        active = self.status == ST_ACTIVE
        for is_v in (False, True):
            sel = violent == is_v
            if not sel.any():
                continue
            w = active * (self.viol if is_v else 1.0)
            cw = np.cumsum(w)
            lo = np.where(self.start > 0, cw[np.maximum(self.start - 1, 0)], 0.0)
            lo = np.where(self.start > 0, lo, 0.0)
            hi = cw[np.maximum(self.end - 1, 0)]
            k = mk[sel]
            tot = hi[k] - lo[k]
            u = lo[k] + rng.random(len(k)) * tot
            idx = np.searchsorted(cw, u, side="right")
            idx = np.clip(idx, self.start[k], np.maximum(self.end[k] - 1, self.start[k]))
            out[np.flatnonzero(sel)] = np.where(tot > 0, self.idx[idx], -1)
        return out

    def step(
        self,
        params: Parameters,
        seed: int,
        plans: list[OperationPlan],
        m: int,
        months: int,
        mu_ops: F,
    ) -> None:
        """Business-as-usual arrests, operation removals, releases and replacements.

        ``mu_ops`` is the operations' multiplier on each market's intensity this month
        (<= 0.5: the market is closed and its sellers idle).
        """
        p = params
        rng = rng_for(seed, 3, m)
        st = self.status
        nm = len(self.target)
        # Vacancies open at the start of the month are filled during it (replacement lag).
        active_start = np.bincount(self.market[st == ST_ACTIVE], minlength=nm)
        # Releases.
        back = (st == ST_CUSTODY) & (self.back <= m)
        st[back] = np.where(mu_ops[self.market[back]] > 0.5, ST_ACTIVE, ST_IDLE)
        # Business-as-usual arrests.
        arrested = (st == ST_ACTIVE) & (
            rng.random(self.n) < p.bau_arrest_rate * (0.7 + 0.3 * np.minimum(self.viol, 3))
        )
        active_before = np.bincount(self.market[st == ST_ACTIVE], minlength=nm)
        self.remove(p, arrested, m, rng, ST_CUSTODY)
        lost = np.bincount(self.market[arrested], minlength=nm) / np.maximum(active_before, 1)
        for k in np.flatnonzero(lost >= p.bau_turf_threshold):
            self.turf[m + 1 : m + 1 + p.turf_violence_months, k] *= 1 + p.turf_violence_lift
        # Operations starting now (arrest sweeps) or calling in (DMI, a month after start).
        for q in plans:
            if m not in (q.start, q.start + 1):
                continue
            orng = rng_for(seed, 8, q.index, m)
            if q.op.tactic == "arrests" and q.start == m:
                pick = (
                    (st == ST_ACTIVE)
                    & np.isin(self.market, q.sweep_markets)
                    & (orng.random(self.n) < q.sweep_share)
                )
                named = np.isin(self.idx, q.named_sellers) & (st == ST_ACTIVE)
                self.remove(p, pick | named, m, orng, ST_CUSTODY)
            if q.op.tactic == "dmi" and m == min(q.start + 1, months - 1):
                inm = np.isin(self.market, q.dmi_markets) & (st == ST_ACTIVE)
                med = np.median(self.viol[inm]) if inm.any() else 0.0
                violent = (
                    inm & ((self.viol > med) | self.fire)
                    if p.dmi_prosecute_violent
                    else inm & False
                )
                self.remove(p, violent, m, orng, ST_CUSTODY, scale=1.5)
                st[inm & ~violent] = ST_DETERRED
        # Replacement: last month's vacancies in operating markets are filled by reserves.
        active = np.maximum(np.bincount(self.market[st == ST_ACTIVE], minlength=nm), active_start)
        for k in np.flatnonzero((active < self.target) & (mu_ops > 0.5)):
            vac = int(self.target[k] - active[k])
            fill = int(rng.binomial(vac, 1 / 3))
            res = (
                np.flatnonzero(st[self.start[k] : self.end[k]] == ST_RESERVE)[:fill] + self.start[k]
            )
            st[res] = ST_ACTIVE
        idle = (st == ST_ACTIVE) & (mu_ops[self.market] <= 0.5)
        st[idle] = ST_IDLE
        self.history[m] = st

    def remove(
        self,
        params: Parameters,
        mask: NDArray[np.bool_],
        m: int,
        rng: np.random.Generator,
        status: int,
        scale: float = 1.0,
    ) -> None:
        """Put the sellers in ``mask`` in ``status`` until a geometric sentence ends."""
        n = int(mask.sum())
        if n == 0:
            return
        self.status[mask] = status
        self.back[mask] = m + 1 + rng.geometric(1 / (params.sentence_months_mean * scale), n)

    def hidden_harms(self, params: Parameters, city: City, m: int, a_op: F) -> Columns:
        """Month ``m``'s hidden harms: exploited children among active sellers of exploiting
        groups, and homes cuckooed by markets that still operate (``a_op`` > 0.5)."""
        p, c = params, city
        people = c.people
        st = self.status
        gexp = c.groups["exploits_children"].to_numpy().astype(bool)
        sgroup = people["group"].to_numpy()[self.idx]
        child = self.child & (st == ST_ACTIVE) & gexp[sgroup]
        ccells = c.markets["cell"].to_numpy()[self.market[child]]
        cm = people["cuckooed_market"].to_numpy()
        victims = np.flatnonzero(cm >= 0)
        on = a_op[cm[victims]] > 0.5 if len(victims) else np.zeros(0, dtype=bool)
        victims = victims[on]
        return {
            "month": np.full(child.sum() + len(victims), m),
            "cell": np.concatenate([ccells, people["home_cell"].to_numpy()[victims]]),
            "market": np.concatenate([self.market[child], cm[victims]]),
            "person": np.concatenate([self.idx[child], victims]),
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
