"""The ``validate-*`` checks: each runs a library method on simulated data with known truth.

This package sits *above* the packages it checks (:mod:`harmscope.priorities`,
:mod:`harmscope.evaluate`) and is, with :mod:`harmscope.simulate` itself and the faces, the only
place that imports the simulator, so domain code never depends on it
(``tests/test_layering.py`` holds that).

- :mod:`~harmscope.checks.priorities`: :func:`validate_priorities` (``harmscope
  validate-priorities``), precision@k of each lens against the simulator's truth.
- :mod:`~harmscope.checks.evaluation`: :func:`validate_evaluation` (``harmscope
  validate-evaluation``), coverage, bias and displacement detection of every estimator on
  simulated operations with known effects.
"""

from __future__ import annotations

from harmscope.checks.evaluation import ESTIMATORS, ValidationResult, validate_evaluation
from harmscope.checks.priorities import (
    LensValidation,
    SimulationFolderError,
    validate_priorities,
)

__all__ = [
    "ESTIMATORS",
    "LensValidation",
    "SimulationFolderError",
    "ValidationResult",
    "validate_evaluation",
    "validate_priorities",
]
