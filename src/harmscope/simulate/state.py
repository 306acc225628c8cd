"""The mutable state of a running simulation, as public dataclasses.

* :class:`Multipliers` -- one month's effect of every scheduled operation (and of turf
  violence) on expected counts; built by :meth:`~harmscope.simulate.model.Model.multipliers`.
* :class:`MonthlyLog` -- what each simulated month drew (events, searches, hidden harms,
  partner indicators, survey answers, intelligence reports, market state, the true effects
  of operations), one entry per month, as integer-coded numpy columns
  (:mod:`~harmscope.simulate.codes`). :class:`~harmscope.simulate.record.SimRecord` turns a
  log into tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

F = NDArray[np.float64]
Columns = dict[str, NDArray[np.generic]]
"""One month's rows of one kind: column name -> equal-length array."""


@dataclass
class Multipliers:
    """Multipliers on expected counts in one month (1 = no effect; all strictly positive).

    Attributes
    ----------
    bg : ndarray, (cells,)
        Background harm.
    mk : ndarray, (cells,)
        Market harm, by the area it falls in.
    dep : ndarray, (cells,)
        Police deployment.
    a : ndarray, (markets,)
        Market intensity: base intensity x drift x operations.
    a_op : ndarray, (markets,)
        The operations' part of ``a`` (<= 0.5: the market is closed).
    v : ndarray, (markets,)
        Market violence lift (turf violence).
    u : ndarray, (users,)
        Users' offending (treatment).
    """

    bg: F
    mk: F
    dep: F
    a: F
    a_op: F
    v: F
    u: F

    def copy(self) -> Multipliers:
        """An independent copy (every array copied)."""
        return Multipliers(
            bg=self.bg.copy(),
            mk=self.mk.copy(),
            dep=self.dep.copy(),
            a=self.a.copy(),
            a_op=self.a_op.copy(),
            v=self.v.copy(),
            u=self.u.copy(),
        )


@dataclass
class MonthlyLog:
    """Everything the months simulated so far drew, one entry per month and kind.

    Attributes
    ----------
    events : list of Columns
        Every crime that happened: ``month, cell, type, recorded, market, person,
        behaviour`` (indices; -1 for none).
    searches : list of Columns
        Stop-and-searches: ``month, cell, drug, found, op`` (operation index or -1).
    hidden : list of Columns
        Hidden harms: ``month, cell, market, person, behaviour, harm`` (CCHI days).
    partners : list of Columns
        Partner indicators by LSOA index: ``month, lsoa, overdoses, drug_deaths,
        needle_finds, treatment_entries``.
    survey : list of Columns
        Survey answers (codes): ``month, lsoa, age_band, gender, drug_problem, confidence,
        safe, rank1, rank2, rank3``.
    intel : list of Columns
        Intelligence reports: ``month, subject, source, grade, handling, behaviour,
        is_true``.
    market_month : list of Columns
        Market state: ``month, a, a_op, v`` per market (see :class:`Multipliers`).
    effects : list of dict
        True effect rows of operations: ``operation_id, month, zone`` and
        ``<measure>_with``/``<measure>_without`` (expected values).
    """

    events: list[Columns] = field(default_factory=list)
    searches: list[Columns] = field(default_factory=list)
    hidden: list[Columns] = field(default_factory=list)
    partners: list[Columns] = field(default_factory=list)
    survey: list[Columns] = field(default_factory=list)
    intel: list[Columns] = field(default_factory=list)
    market_month: list[Columns] = field(default_factory=list)
    effects: list[dict[str, object]] = field(default_factory=list)


def frame(rows: list[Columns]) -> pd.DataFrame:
    """One table of a log's monthly entries (empty when no month has run)."""
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame({k: np.concatenate([r[k] for r in rows]) for k in rows[0]})
