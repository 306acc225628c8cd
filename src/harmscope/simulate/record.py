"""What a simulation run produced, before any table is derived from it.

A :class:`SimRecord` holds the city, the resolved operations and the engine's per-month
draws as integer-coded tables (codes in :mod:`~harmscope.simulate.codes`). The police.uk
files (:mod:`.policeuk`), intelligence (:mod:`.intel`) and ground truth (:mod:`.truth`) are
derived from it; :class:`~harmscope.simulate.result.SimResult` adds them as properties and
writes every file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from harmscope.simulate.city import City
from harmscope.simulate.operations import OperationPlan
from harmscope.simulate.params import Parameters


@dataclass
class SimRecord:
    """Everything a simulation produced, as the engine drew it.

    Attributes
    ----------
    params, seed, size, months, start
        How it was made (``months``: months simulated so far).
    month_labels : list of str
        ``YYYY-MM`` of each simulated month.
    city : City
        Geography and actors (with true attributes).
    plans : list of OperationPlan
        Scheduled operations as resolved (areas, draws).
    events : DataFrame
        Every crime that *happened* (true), one row each: ``month`` (index), ``cell``,
        ``type`` (index into CRIME_TYPES), ``recorded`` (bool), ``market``/``person``
        (indices or -1), ``behaviour`` (index into BEHAVIOURS), ``harm`` (CCHI days; 0 for
        activity types).
    searches : DataFrame
        Stop-and-searches: ``month, cell, drug, found, op``.
    hidden : DataFrame
        Hidden harms per month (exploited children, cuckooed homes).
    partner_counts : DataFrame
        Partner indicators by LSOA index and month.
    survey_codes : DataFrame
        Survey answers, coded.
    intel_codes : DataFrame
        Intelligence reports, coded, with whether each is true.
    effects : list of dict
        True effect rows of operations (month as an index).
    market_state : DataFrame
        Each market's intensity, operations' multiplier and violence lift by month.
    seller_status : ndarray, (months, sellers)
        Status code of each seller at the end of each month.
    user_in_treatment : ndarray, (months, users)
        Whether each user was in treatment.
    seller_idx, user_idx : ndarray
        Rows of ``city.people`` that are sellers and users.
    behaviour_truth : ndarray, (people, intelligence behaviours)
        What each person truly does.
    """

    params: Parameters
    seed: int
    size: str
    months: int
    start: str
    month_labels: list[str]
    city: City
    plans: list[OperationPlan]
    events: pd.DataFrame
    searches: pd.DataFrame
    hidden: pd.DataFrame
    partner_counts: pd.DataFrame
    survey_codes: pd.DataFrame
    intel_codes: pd.DataFrame
    effects: list[dict[str, object]]
    market_state: pd.DataFrame
    seller_status: NDArray[np.int8]
    user_in_treatment: NDArray[np.bool_]
    seller_idx: NDArray[np.int64]
    user_idx: NDArray[np.int64]
    behaviour_truth: NDArray[np.bool_]

    @property
    def recorded(self) -> pd.DataFrame:
        """Recorded events only (what police.uk publishes), in month order."""
        ev = self.events
        return ev[ev["recorded"].to_numpy()].sort_values(["month", "cell", "type"], kind="stable")

    def labels(self, m: NDArray[np.int64]) -> NDArray[np.object_]:
        """``YYYY-MM`` of month indices ``m``."""
        out: NDArray[np.object_] = np.array(self.month_labels, dtype=object)[m]
        return out

    def cell_cols(self, cell: NDArray[np.int64]) -> dict[str, NDArray[np.generic]]:
        """``cell_x``, ``cell_y`` (BNG lower-left corner, metres) and ``lsoa_code`` of cells."""
        c = self.city
        return {
            "cell_x": c.cell_x[cell].astype(np.int64),
            "cell_y": c.cell_y[cell].astype(np.int64),
            "lsoa_code": c.areas["lsoa_code"].to_numpy()[c.cell_lsoa[cell]],
        }
