"""Real police.uk data for the places tests: City of London street crime, 36 months."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer


def _shared_data() -> Path:
    """``../shared/data`` next to the repository, or ``HARMSCOPE_SHARED_DATA``."""
    env = os.environ.get("HARMSCOPE_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="session")
def city_street_files() -> list[Path]:
    """The 36 monthly City of London street CSVs, 2018-12 to 2021-11, in month order."""
    folder = _shared_data() / "policeuk-city-of-london-2018-12_2021-11" / "street"
    files = sorted(folder.glob("*-city-of-london-street.csv"))
    if len(files) != 36:
        pytest.fail(f"expected 36 monthly City of London files under {folder}, found {len(files)}")
    return files


@pytest.fixture(scope="session")
def city_events(city_street_files: list[Path]) -> pd.DataFrame:
    """City of London street records with a location, projected to BNG metres (x, y)."""
    files = city_street_files
    frame = pd.concat(
        [pd.read_csv(f, usecols=["Month", "Longitude", "Latitude", "Crime type"]) for f in files],
        ignore_index=True,
    ).dropna(subset=["Longitude", "Latitude"])
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = to_bng.transform(frame["Longitude"].to_numpy(), frame["Latitude"].to_numpy())
    frame["x"] = np.asarray(x, dtype=np.float64)
    frame["y"] = np.asarray(y, dtype=np.float64)
    return frame.rename(columns={"Month": "month", "Crime type": "crime_type"})
