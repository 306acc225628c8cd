"""Simulator calibration figures beside real police.uk data, over many seeds.

``--part divergence`` (issue 12, item 5): how differently counting and harm weighting rank
250 m cells (all-crime CCHI harm), for City of London and Lincolnshire (``../shared/data``)
and for the simulated city over ``--seeds`` seeds (1, 2, ...), with the calibrated
``type_risk_sigma`` ("after") and with it set to zero ("before"). ``--part power-few``
(issue 12, item 2): the concentration of offender and victim harm in the simulator's
crime-person links, before and after their calibration, against the published figures.
``--part drug-areas`` (issue 12, item 5, for markets): the same question around drug hot
spots, the public stand-in for a market's count-harm divergence
(:func:`drug_area_divergence`), real forces beside the simulated city.

Also times each measure beside a baseline in the same run (the ratio is what to compare
between machines): the divergence beside :func:`harm_concentration` on the same events.

Usage::

    .venv/bin/python bench/calibration.py --part divergence --seeds 20
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from pyproj import Transformer

from harmscope.people.power_few import holding_share, nominal_harm, top_shares, turnover
from harmscope.simulate import SimResult, crimelinks, simulate
from harmscope.simulate.calibration import (
    count_harm_divergence,
    drug_area_divergence,
    harm_concentration,
)
from harmscope.simulate.params import ACTIVITY_TYPES, CRIME_TYPES, DEFAULT, HARM_DAYS, Parameters

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("HARMSCOPE_SHARED_DATA", ROOT.parent / "shared" / "data"))
REAL = {
    "City of London": "policeuk-city-of-london-2018-12_2021-11",
    "Lincolnshire": "policeuk-lincolnshire-2017-02_2020-01",
}
MEASURES = (
    ("top_differ", 0.01, "top-1 % count cells not in top-1 % harm cells"),
    ("top_differ", 0.05, "top-5 % count cells not in top-5 % harm cells"),
    ("spearman", 0.01, "Spearman of cell counts and cell harm"),
    ("harm_in_harm_top_not_count_top", 0.01, "harm share counting misses at top 1 %"),
    ("harm_in_harm_top_not_count_top", 0.05, "harm share counting misses at top 5 %"),
    ("concentration", 0.01, "harm share in the top 1 % of cells (concentration)"),
    ("concentration", 0.05, "harm share in the top 5 % of cells (concentration)"),
    ("concentration", 0.1, "harm share in the top 10 % of cells (concentration)"),
)
_TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def _real(folder: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    files = sorted((DATA / folder / "street").glob("*.csv*"))
    st = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files])
    st = st[(st["Longitude"] != "") & (st["Latitude"] != "")]
    x, y = _TO_BNG.transform(
        st["Longitude"].astype(float).to_numpy(), st["Latitude"].astype(float).to_numpy()
    )
    return np.asarray(x), np.asarray(y), st["Crime type"].to_numpy()


def _simulated(seed: int, params: Parameters) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Recorded events are the street rows; a cell's corner + 1 m is inside the cell.
    res = simulate(seed=seed, months=36, size="city", params=params)
    ev, c = res.recorded, res.city
    cell = ev["cell"].to_numpy()
    types = np.array(CRIME_TYPES, dtype=object)[ev["type"].to_numpy()]
    return c.cell_x[cell] + 1.0, c.cell_y[cell] + 1.0, types


def _row(x: np.ndarray, y: np.ndarray, t: np.ndarray) -> list[float]:
    got = {top: count_harm_divergence(x, y, t, top=top) for top in (0.01, 0.05)}
    conc = harm_concentration(x, y, t)
    return [conc[top] if key == "concentration" else got[top][key] for key, top, _ in MEASURES]


def divergence(seeds: int) -> None:
    """Print the divergence table and the timing ratio."""
    cols: dict[str, str] = {}
    for name, folder in REAL.items():
        x, y, t = _real(folder)
        cols[name] = "  ".join(f"{v:.3f}" for v in _row(x, y, t))
        if name == "Lincolnshire":
            t0 = time.perf_counter()
            count_harm_divergence(x, y, t)
            took = time.perf_counter() - t0
            t0 = time.perf_counter()
            harm_concentration(x, y, t)
            base = time.perf_counter() - t0
    flat = dataclasses.replace(
        DEFAULT, type_risk_sigma=MappingProxyType(dict.fromkeys(DEFAULT.type_risk_sigma, 0.0))
    )
    runs = {
        "before": np.array([_row(*_simulated(s, flat)) for s in range(1, seeds + 1)]),
        "after": np.array([_row(*_simulated(s, DEFAULT)) for s in range(1, seeds + 1)]),
    }
    print(f"count-harm divergence at 250 m, all-crime CCHI harm; simulator: city, seeds 1-{seeds}")
    for i, (_key, _top, label) in enumerate(MEASURES):
        print(f"- {label}")
        for name in REAL:
            print(f"    {name:<16} {cols[name].split('  ')[i]}")
        for tag, a in runs.items():
            v = a[:, i]
            print(f"    simulator {tag:<6} mean {v.mean():.3f}  range {v.min():.3f}-{v.max():.3f}")
    print(
        f"timing on Lincolnshire: divergence {took * 1000:.0f} ms, baseline harm_concentration "
        f"{base * 1000:.0f} ms, ratio {took / base:.1f}x"
    )


DRUG_AREAS = (
    ("areas", "drug hot-spot areas (top 1 % of cells by drug offences, 3 x 3 cells each)"),
    ("top_differ", "top-10 areas by count not in the top 10 by harm"),
    ("spearman", "Spearman of area counts and area harm"),
    ("harm_per_event_cv", "coefficient of variation of harm per event over the areas"),
)


def drug_areas(seeds: int) -> None:
    """Print the drug hot-spot divergence table and the timing ratio."""
    real = {name: _real(folder) for name, folder in REAL.items()}
    t0 = time.perf_counter()
    lincs = drug_area_divergence(*real["Lincolnshire"])
    took = time.perf_counter() - t0
    t0 = time.perf_counter()
    count_harm_divergence(*real["Lincolnshire"])
    base = time.perf_counter() - t0
    got = {name: drug_area_divergence(*xyt) for name, xyt in real.items()}
    got["Lincolnshire"] = lincs
    sims = [drug_area_divergence(*_simulated(s, DEFAULT)) for s in range(1, seeds + 1)]
    print(
        "count-harm divergence around drug hot spots, all-crime CCHI harm; simulator: city, "
        f"seeds 1-{seeds}"
    )
    for key, label in DRUG_AREAS:
        print(f"- {label}")
        for name, figures in got.items():
            print(f"    {name:<16} {figures[key]:.3f}")
        v = np.array([s[key] for s in sims])
        print(f"    simulator        mean {v.mean():.3f}  range {v.min():.3f}-{v.max():.3f}")
    print(
        f"timing on Lincolnshire: drug areas {took * 1000:.0f} ms, baseline "
        f"count_harm_divergence {base * 1000:.0f} ms, ratio {took / base:.1f}x"
    )


def _links_power_few(res: SimResult, public: bool) -> list[float]:
    """Offender and victim figures of one run, all-crime CCHI harm, as the published ones."""
    street = res.street
    crimes = pd.DataFrame(
        {
            "crime_id": street["Crime ID"].to_numpy(),
            "harm": street["Crime type"]
            .map(lambda t: 0.0 if t in ACTIVITY_TYPES else HARM_DAYS[t])
            .to_numpy(),
        }
    )
    links = crimelinks.case_records(res, street, public=public).crime_people
    out: list[float] = []
    for role in ("offender", "victim"):
        per_year, _ = nominal_harm(links, crimes, role)
        person = per_year.groupby("nominal_id")["harm"].sum()
        years = turnover(per_year)
        out += [
            holding_share(person, 0.8 if role == "offender" else 0.85),
            top_shares(person)[0.05],
            float(years["new_vs_earlier"].dropna().mean()) if role == "offender" else 0.0,
            len(person) / max(int((links["role"] == role).sum()), 1),
        ]
    return out


POWER_FEW = (
    "offenders holding 80 % of offender harm (Northamptonshire: 0.07)",
    "harm held by the top 5 % of offenders",
    "share of each year's felonious-few list new (Northamptonshire: > 0.95)",
    "offenders per offender link",
    "victims holding 85 % of victim harm (Dorset: < 0.04)",
    "harm held by the top 5 % of victims",
    "",
    "victims per victim link (Dorset: 25,831 victims of 30,244 crimes, 0.85)",
)


def power_few(seeds: int) -> None:
    """Print the power-few table (before and after) and the timing ratio."""
    runs: dict[str, list[list[float]]] = {"before": [], "after": []}
    took = base = 0.0
    for s in range(1, seeds + 1):
        res = simulate(seed=s, months=36, size="city")
        for tag in runs:
            t0 = time.perf_counter()
            runs[tag].append(_links_power_few(res, public=tag == "after"))
            took += time.perf_counter() - t0
        t0 = time.perf_counter()
        res.street.groupby("Crime type").size()  # baseline: one groupby of the street rows
        base += time.perf_counter() - t0
    print(
        f"power few from the simulator's crime-person links, all-crime CCHI harm; city, "
        f"36 months, seeds 1-{seeds}"
    )
    for i, label in enumerate(POWER_FEW):
        if not label:
            continue
        print(f"- {label}")
        for tag, rows in runs.items():
            v = np.array(rows)[:, i]
            print(f"    {tag:<6} mean {v.mean():.3f}  range {v.min():.3f}-{v.max():.3f}")
    print(
        f"timing: power-few measures {took:.2f} s, baseline groupby of the street rows "
        f"{base:.2f} s, ratio {took / max(base, 1e-9):.0f}x"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parts = {"divergence": divergence, "power-few": power_few, "drug-areas": drug_areas}
    ap.add_argument("--part", choices=tuple(parts), default="divergence")
    ap.add_argument("--seeds", type=int, default=20)
    a = ap.parse_args()
    parts[a.part](a.seeds)


if __name__ == "__main__":
    main()
