"""Seeded synthetic drug-market city with ground truth (issue 3).

The simulator produces police.uk street, outcomes and stop-and-search files that
``harmscope ingest`` reads unchanged, plus intelligence, community survey and partner
files, and the ground truth behind them (``truth/``): true harm by place, market, group,
person and behaviour, and the true effect of every scheduled operation. All of it is
SYNTHETIC. Mechanisms and their literature sources are in :mod:`.params`; the file formats
are in ``docs/simulator.md``.

>>> from harmscope.simulate import simulate, Operation
>>> res = simulate(seed=1, months=6, size="small")
>>> res.write("/tmp/harmbridge")  # doctest: +SKIP
"""

from harmscope.simulate.calibration import count_harm_divergence, harm_concentration, type_mix
from harmscope.simulate.city import City, build_city
from harmscope.simulate.codes import BEHAVIOURS
from harmscope.simulate.engine import Simulation, simulate
from harmscope.simulate.operations import TACTICS, Area, Operation, OperationPlan
from harmscope.simulate.params import CRIME_TYPES, DEFAULT, HARM_DAYS, SIZES, Parameters
from harmscope.simulate.result import SYNTHETIC_NOTICE, SimResult

__all__ = [
    "BEHAVIOURS",
    "CRIME_TYPES",
    "DEFAULT",
    "HARM_DAYS",
    "SIZES",
    "SYNTHETIC_NOTICE",
    "TACTICS",
    "Area",
    "City",
    "Operation",
    "OperationPlan",
    "Parameters",
    "SimResult",
    "Simulation",
    "build_city",
    "count_harm_divergence",
    "harm_concentration",
    "simulate",
    "type_mix",
]
