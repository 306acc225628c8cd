"""Shared fixtures: simulated cities written once per session, and the real police.uk data."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from harmscope.simulate import Operation, SimResult, Simulation, simulate

SEED = 20_240_601


def shared_data() -> Path:
    """``../shared/data`` next to the repository, or ``HARMSCOPE_SHARED_DATA``."""
    env = os.environ.get("HARMSCOPE_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"


def read_real(folder: str, family: str, n: int) -> pd.DataFrame:
    """All monthly police.uk files of one family in ``shared/data/<folder>/<family>``."""
    d = shared_data() / folder / family
    files = sorted(d.glob("*.csv")) + sorted(d.glob("*.csv.gz"))
    if len(files) != n:
        pytest.fail(f"expected {n} files under {d}, found {len(files)}")
    return pd.concat(
        [pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True
    )


@pytest.fixture(scope="session")
def lincs_street() -> pd.DataFrame:
    """Lincolnshire street rows, 2017-02..2020-01 (201,960 rows)."""
    return read_real("policeuk-lincolnshire-2017-02_2020-01", "street", 36)


@pytest.fixture(scope="session")
def lincs_outcomes() -> pd.DataFrame:
    """Lincolnshire outcomes rows, 2017-02..2020-01."""
    return read_real("policeuk-lincolnshire-2017-02_2020-01", "outcomes", 36)


@pytest.fixture(scope="session")
def col_street() -> pd.DataFrame:
    """City of London street rows, 2018-12..2021-11."""
    return read_real("policeuk-city-of-london-2018-12_2021-11", "street", 36)


@pytest.fixture(scope="session")
def col_stop_search() -> pd.DataFrame:
    """City of London stop-and-search rows, 2018-12..2021-11."""
    return read_real("policeuk-city-of-london-2018-12_2021-11", "stop-and-search", 36)


def small_operations(res_city: Simulation) -> list[Operation]:
    """One operation of each tactic on a small city's markets."""
    mk = res_city.city.markets
    open_m = mk.loc[mk["market_type"] == "open", "market_id"].tolist()
    other = mk.loc[mk["market_type"] != "closed", "market_id"].tolist()
    return [
        Operation("crackdown", (open_m[0],), start=4, duration=3),
        Operation("dmi", (other[-1],), start=6, duration=4),
        Operation("arrests", (open_m[-1],), start=8, duration=2),
        Operation("treatment", (open_m[0],), start=12, duration=3),
    ]


@pytest.fixture(scope="session")
def small_sim() -> SimResult:
    """A small city, 18 months, with one operation of each tactic."""
    sim = Simulation(seed=SEED, months=18, size="small")
    for op in small_operations(sim):
        sim.schedule(op)
    return sim.run()


@pytest.fixture(scope="session")
def small_dir(small_sim: SimResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``small_sim`` written to disk."""
    return small_sim.write(tmp_path_factory.mktemp("sim") / "harmbridge")


@pytest.fixture(scope="session")
def city_sim() -> SimResult:
    """A city of about 300,000 residents over 36 months (no operations)."""
    return simulate(seed=SEED, months=36, size="city")
