"""Operations that can be scheduled in a simulation, and their true effects.

An :class:`Operation` names a tactic, its targets (market ``M…``, group ``G…`` or person
``N…`` ids from the city), an optional :class:`Area`, a start month and a duration. When it
is scheduled the simulator *resolves* it into a :class:`OperationPlan`: time profiles of
multipliers on background harm, market harm, market violence, users' offending and police
deployment, all drawn from the operation's own random stream. Because every effect is a
multiplier, the simulator can compute the expected harm with and without each operation
exactly, which is the ground truth an evaluation method is scored against.

Tactics
-------
``crackdown``
    Saturation patrol / hot-spot crackdown in an area (Braga et al. 2019; Sherman 1990):
    harm falls in the area, market harm more, deployment (hence searches and drug
    detections) rises; residual deterrence decays afterwards; the buffer sees diffusion of
    benefits, displacement or neither (Bowers et al. 2011).
``arrests``
    Arrest sweep of a market's sellers: a share of active sellers is removed, the market is
    disrupted for the duration, and with some probability the vacancy is contested and
    market violence rises for a few months (Werb et al. 2011).
``dmi``
    Drug Market Intervention (High Point focused deterrence; Corsaro et al. 2012): violent
    sellers prosecuted, the others called in with banked cases and deterred, users offered
    treatment; the market closes with some probability and stays closed.
``treatment``
    Referral of a market's users (or named users) to drug treatment: those who take it up
    offend less while in treatment (Holloway et al. 2005; Gossop et al. 2003).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from harmscope.errors import SimulationError
from harmscope.simulate.city import City, rng_for
from harmscope.simulate.codes import EFFECT_MEASURES
from harmscope.simulate.months import month_index
from harmscope.simulate.params import Parameters

Tactic = Literal["crackdown", "arrests", "dmi", "treatment"]
TACTICS: tuple[str, ...] = ("crackdown", "arrests", "dmi", "treatment")


@dataclass(frozen=True)
class Area:
    """A circular target area.

    Parameters
    ----------
    x, y : float
        Centre, British National Grid (EPSG:27700) easting and northing in metres.
    radius_m : float
        Radius in metres; cells whose centre lies within it are the target area.
    """

    x: float
    y: float
    radius_m: float


@dataclass(frozen=True)
class Operation:
    """A planned intervention to simulate.

    Parameters
    ----------
    tactic : {"crackdown", "arrests", "dmi", "treatment"}
        What is done (see the module docstring).
    targets : tuple of str
        Market (``M001``), group (``G001``) or person (``N…``) ids from the city.
        ``crackdown`` may have none (then ``area`` is required).
    area : Area, optional
        Target area; by default a circle around the targets (markets: 2 footprint standard
        deviations, at least 300 m; people: 750 m around their homes' centroid).
    start : int or str
        First month: an index from the simulation's first month (0-based) or ``"YYYY-MM"``.
    duration : int
        Months the operation runs (>= 1).
    operation_id : str, optional
        Id used in the truth files (default ``OP001``, ``OP002``, … in scheduling order).
    intensity : float
        Scales a crackdown's effect and deployment (1 = the literature's mean effect).
    """

    tactic: Tactic
    targets: tuple[str, ...] = ()
    area: Area | None = None
    start: int | str = 0
    duration: int = 3
    operation_id: str | None = None
    intensity: float = 1.0


F = NDArray[np.float64]
I = NDArray[np.int64]  # noqa: E741


@dataclass
class OperationPlan:
    """An operation resolved against a city: masks, multiplier profiles and random draws.

    Every ``*_mult`` array has one value per simulated month; 1 means no effect.
    """

    op: Operation
    operation_id: str
    index: int
    start: int
    end: int  # exclusive
    target_mask: NDArray[np.bool_]
    buffer_mask: NDArray[np.bool_]
    area: Area
    bg_mult: F  # background harm in the target area
    market_area_mult: F  # market harm in the target area
    buffer_mult: F  # all harm in the buffer ring
    deploy_mult: F  # police deployment in the target area
    market_mult: dict[int, F] = field(default_factory=dict)
    violence_mult: dict[int, F] = field(default_factory=dict)
    user_idx: I = field(default_factory=lambda: np.zeros(0, np.int64))
    user_mult: F = field(default_factory=lambda: np.zeros((0, 0)))
    sweep_markets: tuple[int, ...] = ()
    sweep_share: float = 0.0
    named_sellers: tuple[int, ...] = ()
    dmi_markets: tuple[int, ...] = ()
    closed_markets: tuple[int, ...] = ()
    buffer_kind: str = "none"
    buffer_size: float = 0.0
    turf_violence: bool = False
    markets: tuple[int, ...] = ()
    users_treated: int = 0
    months_on: frozenset[int] = frozenset()

    @property
    def active_months(self) -> I:
        """Months in which any multiplier of this operation differs from 1."""
        on = (
            (self.bg_mult != 1)
            | (self.market_area_mult != 1)
            | (self.buffer_mult != 1)
            | (self.deploy_mult != 1)
        )
        for arr in (*self.market_mult.values(), *self.violence_mult.values()):
            on |= arr != 1
        if self.user_mult.size:
            on |= (self.user_mult != 1).any(axis=0)
        return np.flatnonzero(on)


def _profile(start: int, end: int, months: int, halflife: float, residual: bool = True) -> F:
    """1 during [start, end), geometric decay with ``halflife`` months after, 0 before."""
    m = np.arange(months, dtype=np.float64)
    f = ((m >= start) & (m < end)).astype(np.float64)
    if residual:
        after = m >= end
        f[after] = 0.5 ** ((m[after] - end + 1) / halflife)
        f[f < 0.02] = 0.0
    return f


def resolve(
    op: Operation, index: int, city: City, months: int, first_month: str, params: Parameters
) -> OperationPlan:
    """Check ``op`` against the city and draw its effects.

    Raises
    ------
    SimulationError
        Unknown tactic or ids, a start outside the simulated months, or missing targets.
    """
    p = params
    if op.tactic not in TACTICS:
        raise SimulationError(f"unknown tactic {op.tactic!r}: expected one of {', '.join(TACTICS)}")
    start = month_index(op.start, first_month)
    if not 0 <= start < months:
        raise SimulationError(
            f"operation start {op.start!r} is outside the {months} simulated months"
        )
    if op.duration < 1:
        raise SimulationError("operation duration must be at least 1 month")
    if op.intensity <= 0:
        raise SimulationError("operation intensity must be positive")
    end = min(months, start + op.duration)
    op_id = op.operation_id or f"OP{index + 1:03d}"
    rng = rng_for(city.seed, 7, zlib.crc32(op_id.encode()))

    mk_ids = {m: i for i, m in enumerate(city.markets["market_id"])}
    gr_ids = {g: i for i, g in enumerate(city.groups["group_id"])}
    pe_ids = {q: i for i, q in enumerate(city.people["person_id"])}
    markets: list[int] = []
    persons: list[int] = []
    for t in op.targets:
        if t in mk_ids:
            markets.append(mk_ids[t])
        elif t in gr_ids:
            markets.extend(np.flatnonzero(city.markets["group"].to_numpy() == gr_ids[t]).tolist())
        elif t in pe_ids:
            persons.append(pe_ids[t])
        else:
            raise SimulationError(f"operation {op_id}: unknown target id {t!r}")
    kind = city.people["kind"].to_numpy()
    sellers = [q for q in persons if kind[q] == "seller"]
    users = [q for q in persons if kind[q] == "user"]
    if op.tactic != "crackdown" and not (markets or persons):
        raise SimulationError(
            f"operation {op_id}: tactic {op.tactic!r} needs market, group or person targets"
        )
    if op.tactic == "dmi" and not markets:
        raise SimulationError(f"operation {op_id}: a DMI targets one or more markets")
    if op.tactic == "crackdown" and op.area is None and not (markets or persons):
        raise SimulationError(f"operation {op_id}: a crackdown needs an area or targets")
    markets = sorted(set(markets) | {int(city.people["market"].iat[q]) for q in sellers})

    area = op.area
    if area is None:
        if markets:
            xy = np.array(
                [city.cell_centre(int(c)) for c in city.markets["cell"].to_numpy()[markets]]
            )
            sd = float(city.markets["footprint_sd_m"].to_numpy()[markets].max())
            spread = float(np.hypot(*(xy - xy.mean(0)).T).max()) if len(xy) > 1 else 0.0
            area = Area(float(xy[:, 0].mean()), float(xy[:, 1].mean()), max(300.0, 2 * sd) + spread)
        else:
            xy = np.array(
                [city.cell_centre(int(c)) for c in city.people["home_cell"].to_numpy()[persons]]
            )
            spread = float(np.hypot(*(xy - xy.mean(0)).T).max()) if len(xy) > 1 else 0.0
            area = Area(float(xy[:, 0].mean()), float(xy[:, 1].mean()), 750.0 + spread)
    target = city.cells_within(area.x, area.y, area.radius_m)
    if not target.any():
        raise SimulationError(f"operation {op_id}: the area contains no cell centre of the city")
    buffer = city.cells_within(area.x, area.y, area.radius_m + p.buffer_m) & ~target

    ones = np.ones(months)
    f_res = _profile(start, end, months, p.residual_halflife_months)
    f_on = _profile(start, end, months, p.residual_halflife_months, residual=False)
    plan = OperationPlan(
        op=op,
        operation_id=op_id,
        index=index,
        start=start,
        end=end,
        target_mask=target,
        buffer_mask=buffer,
        area=area,
        bg_mult=ones.copy(),
        market_area_mult=ones.copy(),
        buffer_mult=ones.copy(),
        deploy_mult=ones.copy(),
        markets=tuple(markets),
    )

    def buffer_draw(scale: float = 1.0) -> None:
        u = rng.random()
        if u < p.diffusion_prob:
            plan.buffer_kind = "diffusion"
            plan.buffer_size = -float(rng.uniform(*p.diffusion_range)) * scale
        elif u < p.diffusion_prob + p.displacement_prob:
            plan.buffer_kind = "displacement"
            plan.buffer_size = float(rng.uniform(*p.displacement_range)) * scale
        else:
            plan.buffer_kind, plan.buffer_size = "none", 0.0
        plan.buffer_mult = 1.0 + plan.buffer_size * f_res

    if op.tactic == "crackdown":
        e = min(0.9, p.crackdown_effect * op.intensity)
        em = min(0.95, p.crackdown_market_effect * op.intensity)
        plan.bg_mult = 1.0 - e * f_res
        plan.market_area_mult = 1.0 - em * f_res
        plan.deploy_mult = 1.0 + (p.crackdown_deployment_boost - 1.0) * op.intensity * f_on
        buffer_draw(min(2.0, op.intensity))
    elif op.tactic == "arrests":
        plan.sweep_markets = tuple(markets) if not sellers else ()
        plan.sweep_share = p.arrest_sweep_share
        plan.named_sellers = tuple(sellers)
        plan.deploy_mult = 1.0 + 1.0 * f_on
        for k in markets:
            plan.market_mult[k] = 1.0 - 0.3 * f_on
        if rng.random() < p.turf_violence_prob:
            plan.turf_violence = True
            m = np.arange(months)
            g = ((m > start) & (m <= start + p.turf_violence_months)).astype(np.float64)
            for k in markets:
                plan.violence_mult[k] = 1.0 + p.turf_violence_lift * g
        buffer_draw(0.5)
    elif op.tactic == "dmi":
        plan.dmi_markets = tuple(markets)
        plan.deploy_mult = 1.0 + 0.5 * f_on
        closed = []
        m = np.arange(months)
        after_call_in = (m >= min(start + 1, months)).astype(np.float64)
        for k in markets:
            if city.markets["market_type"].iat[k] != "closed" and rng.random() < p.dmi_close_prob:
                closed.append(k)
                plan.market_mult[k] = 1.0 - (1.0 - p.dmi_closed_residual) * after_call_in
            else:
                plan.market_mult[k] = 1.0 - p.dmi_open_effect * f_res
        plan.closed_markets = tuple(closed)
        buffer_draw(0.5)
        users = (
            users
            + np.flatnonzero(
                np.isin(city.people["market"].to_numpy(), markets) & (kind == "user")
            ).tolist()
        )
    if op.tactic in ("treatment", "dmi"):
        if op.tactic == "treatment":
            users = (
                users
                + np.flatnonzero(
                    np.isin(city.people["market"].to_numpy(), markets) & (kind == "user")
                ).tolist()
            )
        uidx = np.unique(np.asarray(users, dtype=np.int64))
        uptake = p.treatment_uptake * (0.6 if op.tactic == "dmi" else 1.0)
        took = uidx[rng.random(len(uidx)) < uptake]
        t0 = min(start + (2 if op.tactic == "dmi" else 0), months - 1)
        stay = rng.geometric(1.0 / p.treatment_months, len(took))
        m = np.arange(months)[:, None]
        in_tx = (m >= t0) & (m < t0 + stay[None, :])
        plan.user_idx = took
        plan.user_mult = (1.0 - p.treatment_effect * in_tx).T.astype(np.float64)
        plan.users_treated = len(took)
        if op.tactic == "treatment":
            plan.buffer_kind = "not applicable"
    plan.months_on = frozenset(plan.active_months.tolist()) | frozenset(range(start, end))
    return plan


class HasEffects(Protocol):
    """What :func:`effect_totals` reads: a simulation result's true-effect rows."""

    @property
    def effects(self) -> Sequence[Mapping[str, object]]:
        """Rows ``operation_id, month, zone, <measure>_with, <measure>_without``."""
        ...


def effect_totals(result: HasEffects, operation_id: str, months: Iterable[int]) -> dict[str, float]:
    """True effects of one operation summed over some months, without building all the truth.

    Used by ``harmscope validate-evaluation``, which needs only these numbers for each of
    hundreds of simulated operations (``SimResult.truth`` also builds every other truth table).

    Parameters
    ----------
    result : SimResult
        A finished simulation (anything with its ``effects`` rows).
    operation_id : str
        The operation.
    months : iterable of int
        Month indices (0-based) to sum over.

    Returns
    -------
    dict
        ``{"<zone>_<measure>": with - without}`` for zones ``target``, ``buffer``, ``city``
        and measures ``true_harm``, ``recorded_harm``, ``recorded_events``, ``activity`` --
        the same numbers as ``truth["operation_effects"]`` summed over ``months``.
    """
    rows = result.effects  # the engine's per-month effect rows
    wanted = set(months)
    out: dict[str, float] = {}
    for row in rows:
        if row["operation_id"] != operation_id or int(str(row["month"])) not in wanted:
            continue
        for measure in EFFECT_MEASURES:
            key = f"{row['zone']}_{measure}"
            diff = float(str(row[f"{measure}_with"])) - float(str(row[f"{measure}_without"]))
            out[key] = out.get(key, 0.0) + diff
    return out
