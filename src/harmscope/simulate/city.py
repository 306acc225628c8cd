"""The static synthetic city: grid, LSOAs, street points, drug markets, groups and people.

Everything here is drawn once per seed (:func:`build_city`) and does not depend on the
number of months or on scheduled operations, so market, group and person ids are stable
for a seed and can be used to schedule operations before simulating.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import Transformer
from scipy.special import ndtri

from harmscope.errors import SimulationError
from harmscope.simulate import vocab
from harmscope.simulate.params import SIZES, Parameters, Size

F = NDArray[np.float64]
I = NDArray[np.int64]  # noqa: E741
B = NDArray[np.bool_]

MARKET_TYPES = ("open", "semi_open", "closed")
SELLER_ROLES = ("leader", "manager", "enforcer", "street dealer", "runner", "user-dealer")
ROLE_VIOLENCE = np.array([2.0, 1.5, 4.0, 1.0, 0.5, 0.5])
ROLE_P = np.array([0.0, 0.0, 0.1, 0.3, 0.45, 0.15])  # leader/manager placed explicitly
KERNEL_REACH = 3  # market footprints reach 3 cells (750 m) from the market's cell


def rng_for(seed: int, *stream: int) -> np.random.Generator:
    """A generator for one independent stream of a seeded run.

    Parameters
    ----------
    seed : int
        The run's seed.
    *stream : int
        Stream key (e.g. ``(1, month)``); each key gives an independent, reproducible stream.
    """
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, *stream]))


def pseudonyms(prefix: str, n: int, key: int) -> NDArray[np.str_]:
    """``n`` distinct pseudonymous ids like ``N3F09A2C11B`` (10 hex digits).

    A bijection of ``0..n-1`` on 40 bits (odd multiplier, then XOR with a seeded key), so
    ids never collide and reveal nothing about the order people were created in.
    """
    i = np.arange(n, dtype=np.uint64)
    mask = np.uint64((1 << 40) - 1)
    v = ((i * np.uint64(0x9E3779B97F)) & mask) ^ np.uint64(key & ((1 << 40) - 1))
    return np.char.add(prefix, np.char.zfill(np.char.upper(np.array([f"{x:x}" for x in v])), 10))


@dataclass
class City:
    """Geography and actors of one seeded synthetic city.

    Attributes (arrays are indexed by cell, LSOA, point, market, group or person)
    -----------------------------------------------------------------------------
    n : int
        Grid side in cells; cells are numbered ``row * n + col`` (row 0 is southernmost).
    cell_x, cell_y : ndarray
        BNG easting/northing of each cell's lower-left corner (metres, multiples of 250).
    pop, commerce, dep, risk : ndarray
        Residents, commercial attraction (relative), deprivation (z score) and enduring
        place risk multiplier per cell.
    cell_lsoa : ndarray
        LSOA index of each cell.
    areas : DataFrame
        One row per LSOA: ``lsoa_code, lsoa_name, lad_code, lad_name, population,
        imd_rank, imd_decile, x, y`` (the warehouse ``areas`` columns).
    pt_cell, pt_lon, pt_lat, pt_location : ndarray
        Anonymous map points ("On or near ...") that events snap to, grouped by cell;
        ``cell_pt_start``/``cell_pt_count`` index them.
    markets, groups, people : DataFrame
        Actors with their true attributes (the truth files are written from these).
    fp_market, fp_cell, fp_w : ndarray
        Sparse market footprints: weight of market ``fp_market[j]`` in ``fp_cell[j]``
        (each market's weights sum to 1).
    """

    params: Parameters
    size: Size
    seed: int
    n: int
    cell_x: F
    cell_y: F
    pop: F
    commerce: F
    dep: F
    risk: F
    cell_lsoa: I
    areas: pd.DataFrame
    pt_cell: I
    pt_lon: NDArray[np.str_]
    pt_lat: NDArray[np.str_]
    pt_location: NDArray[np.str_]
    cell_pt_start: I
    cell_pt_count: I
    markets: pd.DataFrame
    groups: pd.DataFrame
    people: pd.DataFrame
    fp_market: I
    fp_cell: I
    fp_w: F

    @property
    def n_cells(self) -> int:
        """Number of grid cells."""
        return self.n * self.n

    @property
    def residents(self) -> int:
        """Total residents."""
        return int(self.areas["population"].sum())

    def cells_within(self, x: float, y: float, radius_m: float) -> B:
        """Boolean mask of cells whose centre lies within ``radius_m`` metres of (x, y)."""
        half = self.params.cell_m / 2
        d2 = (self.cell_x + half - x) ** 2 + (self.cell_y + half - y) ** 2
        return np.asarray(d2 <= radius_m**2)

    def cell_centre(self, cell: int) -> tuple[float, float]:
        """BNG centre (metres) of a cell."""
        half = self.params.cell_m / 2
        return float(self.cell_x[cell] + half), float(self.cell_y[cell] + half)


def _sample(rng: np.random.Generator, weights: F, k: int, replace: bool = False) -> I:
    p = np.clip(weights, 0, None)
    p = p / p.sum()
    return np.asarray(rng.choice(len(p), size=k, replace=replace, p=p), dtype=np.int64)


def build_city(params: Parameters, seed: int, size: Size = "city") -> City:
    """Draw the static city for ``seed`` (deterministic).

    Parameters
    ----------
    params : Parameters
        Simulator parameters.
    seed : int
        Seed; the same seed always gives the same city.
    size : {"small", "city", "region"}
        Preset in :data:`~harmscope.simulate.params.SIZES`.

    Returns
    -------
    City
    """
    if size not in SIZES:
        raise SimulationError(f"unknown size {size!r}: expected one of {', '.join(SIZES)}")
    spec = SIZES[size]
    rng = rng_for(seed, 0)
    n = spec.cells
    cm = params.cell_m
    col, row = np.meshgrid(np.arange(n), np.arange(n))
    col, row = col.ravel(), row.ravel()
    cell_x = params.origin_easting + col * cm
    cell_y = params.origin_northing + row * cm
    # Centre-relative coordinates in km.
    ext_km = n * cm / 1000
    cx = (col + 0.5) * cm / 1000 - ext_km / 2
    cy = (row + 0.5) * cm / 1000 - ext_km / 2

    # --- population and commerce: a town centre plus district centres --------------------
    ang = rng.uniform(0, 2 * np.pi, spec.subcentres)
    rad = rng.uniform(0.2, 0.4, spec.subcentres) * ext_km
    sub = np.column_stack([rad * np.cos(ang), rad * np.sin(ang)])
    r0 = np.hypot(cx, cy)
    dens = np.exp(-r0 / (0.3 * ext_km))
    comm = np.exp(-(r0**2) / (2 * (0.07 * ext_km) ** 2))
    for sx, sy in sub:
        rs = np.hypot(cx - sx, cy - sy)
        dens += 0.45 * np.exp(-rs / (0.06 * ext_km))
        comm += 0.3 * np.exp(-(rs**2) / (2 * (0.035 * ext_km) ** 2))
    dens *= rng.lognormal(0.0, 0.45, n * n)
    dens[rng.random(n * n) < 0.08] = 0.0  # parks, water, industrial land
    dens[dens < 0.02 * dens.max()] *= 0.1  # countryside at the edge
    pop = dens / dens.sum() * spec.residents
    comm = comm + 0.3 * pop / pop.max()

    # --- deprivation: an inner ring plus estates ------------------------------------------
    n_est = max(2, spec.markets // 2)
    est = _sample(rng, pop, n_est)
    dep = 1.2 * np.exp(-(((r0 - 0.12 * ext_km) / (0.08 * ext_km)) ** 2))
    for e in est:
        de = np.hypot(cx - cx[e], cy - cy[e])
        dep += 1.5 * np.exp(-(de**2) / (2 * 0.5**2))
    dep += rng.normal(0, 0.35, n * n)
    # Normal scores: a standard-normal deprivation field whatever the estates' overlap.
    dep = ndtri((np.argsort(np.argsort(dep)) + 0.5) / dep.size)

    # --- enduring place risk (law of crime concentration) --------------------------------
    risk = rng.lognormal(0.0, params.place_risk_sigma, n * n) * np.exp(
        params.deprivation_risk * dep
    )

    # --- LSOAs: population-weighted Voronoi of seed cells, Lloyd-balanced ------------------
    n_lsoa = max(4, round(spec.residents / params.residents_per_lsoa))
    seeds = _sample(rng, pop, n_lsoa)
    sxy = np.column_stack([cx[seeds], cy[seeds]])
    xy = np.column_stack([cx, cy])
    assign = np.zeros(n * n, dtype=np.int64)
    for _ in range(4):
        assign = _nearest(xy, sxy)
        w = np.bincount(assign, weights=pop + 1e-6, minlength=n_lsoa)
        sxy = np.column_stack(
            [
                np.bincount(assign, weights=(pop + 1e-6) * cx, minlength=n_lsoa) / w,
                np.bincount(assign, weights=(pop + 1e-6) * cy, minlength=n_lsoa) / w,
            ]
        )
    assign = _nearest(xy, sxy)
    # Drop empty LSOAs and order them north to south, west to east (like ONS numbering).
    used = np.unique(assign)
    lx = (
        np.bincount(assign, weights=cx, minlength=n_lsoa)[used]
        / np.bincount(assign, minlength=n_lsoa)[used]
    )
    ly = (
        np.bincount(assign, weights=cy, minlength=n_lsoa)[used]
        / np.bincount(assign, minlength=n_lsoa)[used]
    )
    order = np.lexsort((lx, -np.round(ly, 0)))
    remap = np.empty(n_lsoa, dtype=np.int64)
    remap[used[order]] = np.arange(len(used))
    cell_lsoa = remap[assign]
    nl = len(used)
    lpop = np.bincount(cell_lsoa, weights=pop, minlength=nl)
    ldep = np.bincount(cell_lsoa, weights=pop * dep, minlength=nl) / np.maximum(lpop, 1e-9)
    ldep = ldep + rng.normal(0, 0.2, nl)
    # IMD-like rank on the 32,844-LSOA English scale (1 = most deprived).
    pct = (np.argsort(np.argsort(-ldep)) + rng.uniform(0.1, 0.9, nl)) / nl
    imd_rank = np.clip(np.ceil(pct * 32_844), 1, 32_844).astype(np.int64)
    imd_decile = np.clip(np.ceil(imd_rank / 3_284.4), 1, 10).astype(np.int64)
    codes = np.array([f"E01{params.lsoa_code_base + i + 1:06d}" for i in range(nl)])
    names = np.array([f"{params.place_name} {i // 4 + 1:03d}{'ABCD'[i % 4]}" for i in range(nl)])
    half = cm / 2
    lcx = np.bincount(cell_lsoa, weights=cell_x + half, minlength=nl) / np.bincount(
        cell_lsoa, minlength=nl
    )
    lcy = np.bincount(cell_lsoa, weights=cell_y + half, minlength=nl) / np.bincount(
        cell_lsoa, minlength=nl
    )
    areas = pd.DataFrame(
        {
            "lsoa_code": codes,
            "lsoa_name": names,
            "lad_code": f"E06{params.lsoa_code_base + 1:06d}",
            "lad_name": params.place_name,
            "population": np.round(lpop).astype(np.int64),
            "imd_rank": imd_rank,
            "imd_decile": imd_decile,
            "x": np.round(lcx, 1),
            "y": np.round(lcy, 1),
        }
    )

    # --- anonymous map points ("On or near ...") -------------------------------------------
    npts = (
        1
        + np.minimum(5, (pop / 120).astype(np.int64))
        + (comm > np.quantile(comm, 0.95)).astype(np.int64)
    )
    pt_cell = np.repeat(np.arange(n * n), npts)
    m = len(pt_cell)
    px = cell_x[pt_cell] + rng.uniform(25, cm - 25, m)
    py = cell_y[pt_cell] + rng.uniform(25, cm - 25, m)
    to_wgs = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(px, py)
    street = np.char.add(
        np.char.add(np.array(vocab.STREET_FIRST)[rng.integers(0, len(vocab.STREET_FIRST), m)], " "),
        np.array(vocab.STREET_SECOND)[rng.integers(0, len(vocab.STREET_SECOND), m)],
    )
    poi = (comm[pt_cell] > np.quantile(comm, 0.9)) & (rng.random(m) < 0.35)
    street = np.where(
        poi, np.array(vocab.POI_NAMES)[rng.integers(0, len(vocab.POI_NAMES), m)], street
    )
    cell_pt_count = npts.astype(np.int64)
    cell_pt_start = np.concatenate([[0], np.cumsum(cell_pt_count)[:-1]]).astype(np.int64)

    city = City(
        params=params,
        size=size,
        seed=seed,
        n=n,
        cell_x=cell_x.astype(np.float64),
        cell_y=cell_y.astype(np.float64),
        pop=pop,
        commerce=comm,
        dep=dep,
        risk=risk,
        cell_lsoa=cell_lsoa,
        areas=areas,
        pt_cell=pt_cell.astype(np.int64),
        pt_lon=np.char.mod("%.6f", np.round(lon, 6)),
        pt_lat=np.char.mod("%.6f", np.round(lat, 6)),
        pt_location=np.char.add("On or near ", street),
        cell_pt_start=cell_pt_start,
        cell_pt_count=cell_pt_count,
        markets=pd.DataFrame(),
        groups=pd.DataFrame(),
        people=pd.DataFrame(),
        fp_market=np.zeros(0, np.int64),
        fp_cell=np.zeros(0, np.int64),
        fp_w=np.zeros(0),
    )
    _actors(city, rng, spec.markets, spec.groups, cx, cy)
    return city


def _nearest(xy: F, sxy: F) -> I:
    out = np.empty(len(xy), dtype=np.int64)
    for s in range(0, len(xy), 4096):
        d = ((xy[s : s + 4096, None, :] - sxy[None, :, :]) ** 2).sum(-1)
        out[s : s + 4096] = d.argmin(1)
    return out


def _actors(
    city: City, rng: np.random.Generator, n_markets: int, n_groups: int, cx: F, cy: F
) -> None:
    """Markets, groups, sellers, users and cuckooed addresses."""
    p = city.params
    n = city.n
    # --- markets ---------------------------------------------------------------------------
    tprob = np.array([p.market_type_probs[t] for t in MARKET_TYPES])
    mtype = rng.choice(3, size=n_markets, p=tprob / tprob.sum())
    mtype[0] = 0  # every city has at least one open market
    w_open = city.pop * np.exp(0.9 * city.dep) * city.risk**0.5
    w_closed = city.pop * np.exp(0.4 * city.dep)
    cells = np.empty(n_markets, dtype=np.int64)
    taken: set[int] = set()
    for k in range(n_markets):
        w = (w_open if mtype[k] < 2 else w_closed).copy()
        if taken:
            w[list(taken)] = 0.0
        cells[k] = _sample(rng, w, 1)[0]
        taken.add(int(cells[k]))
    mode = np.empty(n_markets, dtype=object)
    u = rng.random(n_markets)
    mode[mtype == 0] = "street"
    mode[mtype == 1] = np.where(u[mtype == 1] < 0.5, "street", "premises")
    cl = mtype == 2
    mode[cl] = np.select([u[cl] < 0.35, u[cl] < 0.65], ["premises", "delivery"], "county line")
    drugs = np.empty(n_markets, dtype=object)
    for k in range(n_markets):
        opts = vocab.DRUGS_BY_MARKET[MARKET_TYPES[mtype[k]]]
        drugs[k] = opts[rng.choice(len(opts), p=[o[1] for o in opts])][0]
    tname = np.array(MARKET_TYPES)[mtype]
    scale = np.array([p.market_harm_scale[t] for t in tname])
    intensity = scale * rng.lognormal(0.0, 0.6, n_markets)
    sd_m = np.array([p.market_kernel_m[t] for t in tname])
    # Sparse footprints: Gaussian weights of cells within KERNEL_REACH cells.
    fm, fc, fw = [], [], []
    off = np.arange(-KERNEL_REACH, KERNEL_REACH + 1)
    dr, dc = np.meshgrid(off, off)
    dr, dc = dr.ravel(), dc.ravel()
    for k in range(n_markets):
        r0, c0 = divmod(int(cells[k]), n)
        rr, cc = r0 + dr, c0 + dc
        ok = (rr >= 0) & (rr < n) & (cc >= 0) & (cc < n)
        d2 = ((dr[ok] ** 2 + dc[ok] ** 2) * p.cell_m**2).astype(np.float64)
        w = np.exp(-d2 / (2 * sd_m[k] ** 2))
        fm.append(np.full(ok.sum(), k))
        fc.append(rr[ok] * n + cc[ok])
        fw.append(w / w.sum())
    city.fp_market = np.concatenate(fm).astype(np.int64)
    city.fp_cell = np.concatenate(fc).astype(np.int64)
    city.fp_w = np.concatenate(fw)

    # --- groups: each controls one or more markets ------------------------------------------
    n_groups = min(n_groups, n_markets)
    mgroup = np.concatenate([np.arange(n_groups), rng.integers(0, n_groups, n_markets - n_groups)])
    rng.shuffle(mgroup)
    gtype = np.empty(n_groups, dtype=object)
    for g in range(n_groups):
        modes = set(mode[mgroup == g])
        if "county line" in modes:
            gtype[g] = "county line"
        elif (mtype[mgroup == g] == 0).any():
            gtype[g] = "street gang"
        else:
            gtype[g] = "organised crime group"
    pexp = np.select([gtype == "county line", gtype == "street gang"], [0.8, 0.4], 0.15)
    pcuck = np.select([gtype == "county line", gtype == "street gang"], [0.8, 0.15], 0.05)
    gviol = rng.lognormal(0.0, 0.5, n_groups) * np.where(gtype == "organised crime group", 0.8, 1.2)
    gfire = rng.random(n_groups) < np.where(gtype == "organised crime group", 0.35, 0.2)
    gexp = rng.random(n_groups) < pexp
    gcuck = rng.random(n_groups) < pcuck
    # An organised group whose every market sells from premises is recorded as a family
    # network (supply run from a home by relatives; NCA 2021). Relabelled after the draws
    # above, so it behaves as the organised group it is and no random draw moves.
    for g in range(n_groups):
        if gtype[g] == "organised crime group" and (mode[mgroup == g] == "premises").all():
            gtype[g] = "family network"
    names = np.array(vocab.GROUP_CODENAMES)[rng.permutation(len(vocab.GROUP_CODENAMES))]
    city.groups = pd.DataFrame(
        {
            "group_id": [f"G{g + 1:03d}" for g in range(n_groups)],
            "codename": [
                str(names[g % len(names)]) + ("" if g < len(names) else f" {g // len(names) + 1}")
                for g in range(n_groups)
            ],
            "group_type": gtype.astype(str),
            "violence": np.round(gviol, 3),
            "firearms": gfire,
            "exploits_children": gexp,
            "cuckooing": gcuck,
        }
    )
    city.markets = pd.DataFrame(
        {
            "market_id": [f"M{k + 1:03d}" for k in range(n_markets)],
            "market_type": tname,
            "mode": mode.astype(str),
            "drugs": drugs.astype(str),
            "cell": cells,
            "cell_x": city.cell_x[cells].astype(np.int64),
            "cell_y": city.cell_y[cells].astype(np.int64),
            "lsoa_code": city.areas["lsoa_code"].to_numpy()[city.cell_lsoa[cells]],
            "group": mgroup,
            "group_id": [f"G{g + 1:03d}" for g in mgroup],
            "footprint_sd_m": sd_m,
            "base_intensity": np.round(intensity, 4),
        }
    )

    # --- sellers (active at start, plus a reserve that replaces removed sellers) -----------
    rows: list[dict[str, object]] = []
    lead_of_group: dict[int, bool] = {}
    for k in range(n_markets):
        g = int(mgroup[k])
        ns = max(3, int(rng.poisson(p.sellers_per_market * np.sqrt(intensity[k] / scale[k]))))
        for j in range(2 * ns):
            reserve = j >= ns
            if j == 0 and not lead_of_group.get(g):
                role = 0
                lead_of_group[g] = True
            elif j == 0 or (j == ns and rng.random() < 0.5):
                role = 1
            else:
                role = int(rng.choice(6, p=ROLE_P))
            child = bool(role == 4 and gexp[g] and rng.random() < p.child_runner_prob)
            viol = float(rng.lognormal(-0.5, 0.8) * ROLE_VIOLENCE[role] * gviol[g])
            fire = bool(gfire[g] and rng.random() < (0.6 if role in (0, 2) else 0.1))
            rows.append(
                {
                    "kind": "seller",
                    "role": SELLER_ROLES[role],
                    "group": g,
                    "market": k,
                    "is_child": child,
                    "age": int(rng.integers(14, 18) if child else rng.integers(18, 46)),
                    "gender": "Male" if rng.random() < 0.9 else "Female",
                    "home_cell": int(cells[k]),
                    "violence": round(viol, 4),
                    "firearms": fire,
                    "reserve": reserve,
                    "drug": "",
                    "offending_rate": 0.0,
                    "vulnerable": False,
                }
            )
    sellers = pd.DataFrame(rows)
    # Sellers live near their market: jitter the home cell by up to 4 cells.
    r0, c0 = np.divmod(sellers["home_cell"].to_numpy(), n)
    rr = np.clip(r0 + rng.integers(-4, 5, len(sellers)), 0, n - 1)
    cc = np.clip(c0 + rng.integers(-4, 5, len(sellers)), 0, n - 1)
    sellers["home_cell"] = rr * n + cc

    # --- problem drug users ------------------------------------------------------------------
    nu = max(20, round(p.users_per_1000 * city.residents / 1000 * 0.66))
    home = _sample(rng, city.pop * np.exp(0.8 * city.dep), nu, replace=True)
    hc = rng.random(nu) < 0.6
    drug_u = np.where(
        hc, "heroin;crack cocaine", np.where(rng.random(nu) < 0.5, "cocaine powder", "cannabis")
    )
    # Prolific offending: Pareto tail (power few) for heroin/crack users, little otherwise.
    rate = (rng.pareto(p.offender_pareto_shape, nu) + 1.0) * np.where(hc, 1.0, 0.08)
    rate = np.minimum(rate, np.quantile(rate, 0.999))
    # Primary market: size / distance trade-off with a random preference.
    mxy = np.column_stack([cx[cells], cy[cells]])
    d = np.hypot(cx[home][:, None] - mxy[None, :, 0], cy[home][:, None] - mxy[None, :, 1])
    util = np.log(intensity)[None, :] - d / 1.5 + rng.gumbel(size=d.shape)
    prim = util.argmax(1)
    users = pd.DataFrame(
        {
            "kind": "user",
            "role": "user",
            "group": -1,
            "market": prim,
            "is_child": False,
            "age": rng.integers(18, 60, nu),
            "gender": np.where(rng.random(nu) < 0.72, "Male", "Female"),
            "home_cell": home,
            "violence": np.round(rng.lognormal(-2.0, 0.7, nu), 4),
            "firearms": False,
            "reserve": False,
            "drug": drug_u,
            "offending_rate": rate,
            "vulnerable": hc & (rng.random(nu) < 0.15),
        }
    )
    people = pd.concat([sellers, users], ignore_index=True)
    people.insert(0, "person_id", pseudonyms("N", len(people), int(rng.integers(0, 1 << 40))))
    # Cuckooing: cuckooing groups take over vulnerable users' homes near their markets.
    cuck = np.full(len(people), -1, dtype=np.int64)
    vuln = np.flatnonzero(people["vulnerable"].to_numpy())
    for k in range(n_markets):
        g = int(mgroup[k])
        if not gcuck[g] or len(vuln) == 0:
            continue
        mean = p.cuckoo_per_county_line * (1.0 if mode[k] == "county line" else 0.4)
        want = int(rng.poisson(mean))
        free = vuln[cuck[vuln] < 0]
        if want == 0 or len(free) == 0:
            continue
        hd = np.hypot(
            cx[people["home_cell"].to_numpy()[free]] - cx[cells[k]],
            cy[people["home_cell"].to_numpy()[free]] - cy[cells[k]],
        )
        pick = free[np.argsort(hd)[: min(want, len(free))]]
        cuck[pick] = k
    people["cuckooed_market"] = cuck
    known_p = np.where(
        people["kind"] == "seller",
        np.clip(p.known_seller_prob * (0.6 + 0.2 * people["violence"].to_numpy()), 0.2, 0.98),
        np.clip(p.known_user_prob * (0.5 + 0.5 * people["offending_rate"].to_numpy()), 0.05, 0.95),
    )
    people["known"] = rng.random(len(people)) < known_p
    city.people = people
