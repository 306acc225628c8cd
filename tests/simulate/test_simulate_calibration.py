"""Calibration against real police.uk data (issue 3, item 5).

The real figures are computed here from the raw files in ``../shared/data`` (pandas +
pyproj to British National Grid, 250 m cells aligned to multiples of 250 m, CCHI days);
the simulated city is measured with the same function and must fall within the stated
tolerances:

* concentration: share of harm in the top 1 %, 5 % and 10 % of cells with any harm within
  0.06 / 0.05 / 0.05 of the mean of City of London and Lincolnshire (which are themselves
  within 0.03 of each other);
* crime-type mix: each type's share of street rows within 15 % (relative) or 0.3
  percentage points of Lincolnshire's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from harmscope.harm.schemes import load_scheme
from harmscope.simulate import SimResult, harm_concentration, type_mix
from harmscope.simulate.params import TYPE_MIX

SHARES = (0.01, 0.05, 0.1)
TOLERANCE = {0.01: 0.06, 0.05: 0.05, 0.1: 0.05}
_TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def _cchi() -> tuple[dict[str, float], frozenset[str]]:
    frame = load_scheme("cchi").to_frame()
    weights = dict(zip(frame["event_type"], frame["weight"], strict=True))
    activity = frozenset(frame.loc[frame["kind"] == "activity", "event_type"])
    return weights, activity


def _concentration(street: pd.DataFrame) -> dict[float, float]:
    located = street[(street["Longitude"] != "") & (street["Latitude"] != "")]
    x, y = _TO_BNG.transform(
        located["Longitude"].astype(float).to_numpy(), located["Latitude"].astype(float).to_numpy()
    )
    weights, activity = _cchi()
    return harm_concentration(
        x, y, located["Crime type"].to_numpy(), shares=SHARES, weights=weights, activity=activity
    )


def test_real_figures_are_as_documented(
    col_street: pd.DataFrame, lincs_street: pd.DataFrame
) -> None:
    col, lin = _concentration(col_street), _concentration(lincs_street)
    for s in SHARES:
        assert abs(col[s] - lin[s]) < 0.03
    assert 0.38 < col[0.05] < 0.44 and 0.38 < lin[0.05] < 0.44  # "about 40 %"
    mix = type_mix(lincs_street["Crime type"].to_numpy())
    for t, share in TYPE_MIX.items():
        assert mix[t] == pytest.approx(share, abs=5e-5)


def test_harm_concentration_matches_real_data(
    city_sim: SimResult, col_street: pd.DataFrame, lincs_street: pd.DataFrame
) -> None:
    col, lin = _concentration(col_street), _concentration(lincs_street)
    sim = _concentration(city_sim.street)
    for s in SHARES:
        target = (col[s] + lin[s]) / 2
        assert abs(sim[s] - target) <= TOLERANCE[s], (s, sim[s], col[s], lin[s])


def test_harm_concentration_holds_for_the_small_city(
    small_sim: SimResult, col_street: pd.DataFrame, lincs_street: pd.DataFrame
) -> None:
    col, lin = _concentration(col_street), _concentration(lincs_street)
    sim = _concentration(small_sim.street)
    for s in SHARES:
        assert abs(sim[s] - (col[s] + lin[s]) / 2) <= TOLERANCE[s] + 0.04, (s, sim[s])


def test_crime_type_mix_matches_lincolnshire(
    city_sim: SimResult, lincs_street: pd.DataFrame
) -> None:
    real = type_mix(lincs_street["Crime type"].to_numpy())
    sim = type_mix(city_sim.street["Crime type"].to_numpy())
    assert set(sim) == set(real)
    for t, share in real.items():
        assert abs(sim[t] - share) <= max(0.15 * share, 0.003), (t, sim[t], share)


def test_volume_and_asb_share_are_plausible(city_sim: SimResult) -> None:
    per_1000 = len(city_sim.street) / city_sim.months / city_sim.city.residents * 1000
    assert 7.0 < per_1000 < 12.0  # Lincolnshire: 7.4 rows per 1,000 residents per month
    asb = (city_sim.street["Crime type"] == "Anti-social behaviour").mean()
    assert 0.2 < asb < 0.3
    oc_ratio = len(city_sim.outcomes) / (city_sim.street["Crime ID"] != "").sum()
    assert 0.5 < oc_ratio < 1.1  # Lincolnshire: 131,061 outcomes for 151,341 crimes
    assert np.isfinite(per_1000)
