"""Reference values and paths shared by the harm-model tests (imported by name, not a conftest)."""

from __future__ import annotations

import os
from pathlib import Path

#: DESIGN §3 police.uk category weights (days), the published reference values.
DESIGN_WEIGHTS = {
    "Violence and sexual offences": 230.89,
    "Robbery": 365.00,
    "Burglary": 247.28,
    "Possession of weapons": 273.75,
    "Criminal damage and arson": 10.39,
    "Public order": 7.50,
    "Other crime": 10.00,
    "Vehicle crime": 5.00,
    "Drugs": 3.39,
    "Theft from the person": 2.00,
    "Bicycle theft": 2.00,
    "Other theft": 2.00,
    "Shoplifting": 1.00,
}

#: The 14 current police.uk crime types.
POLICE_UK_TYPES = (*DESIGN_WEIGHTS, "Anti-social behaviour")


def shared_data_dir() -> Path | None:
    """``../shared/data`` next to the repository (or ``HARMSCOPE_SHARED_DATA``)."""
    env = os.environ.get("HARMSCOPE_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "data")
    for c in candidates:
        if (c / "ho-offence-mappings-and-prc_crime-sim-toolkit").is_dir():
            return c
    return None
