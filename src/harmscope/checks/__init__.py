"""The ``validate-*`` checks: each runs a library method on simulated data with known truth.

This package sits *above* the packages it checks (:mod:`harmscope.priorities`,
:mod:`harmscope.evaluate`) and is, with :mod:`harmscope.simulate` itself and the faces, the only
place that imports the simulator, so domain code never depends on it
(``tests/test_layering.py`` holds that).

- :mod:`~harmscope.checks.priorities`: :func:`validate_priorities` (``harmscope
  validate-priorities SIMDIR``), each lens against one simulated city's truth, beside the
  counting and busyness baselines; :mod:`~harmscope.checks.seeds`:
  :func:`validate_priorities_seeds` (``--seeds N``), the same over N cities;
  :mod:`~harmscope.checks.scoring` scores every lens alike; the lens checks are registered by
  the modules of :data:`LENS_CHECK_MODULES`.
- :mod:`~harmscope.checks.evaluation`: :func:`validate_evaluation` (``harmscope
  validate-evaluation``), coverage, bias and displacement detection of every estimator on
  simulated operations with known effects.
"""

from __future__ import annotations

import importlib

from harmscope.checks.evaluation import ESTIMATORS, ValidationResult, validate_evaluation
from harmscope.checks.priorities import (
    LensValidation,
    SimulationFolderError,
    validate_priorities,
)
from harmscope.checks.seeds import SeedsValidation, validate_priorities_seeds

#: Modules that register lens checks (``register_lens_check``) when imported.
LENS_CHECK_MODULES: tuple[str, ...] = ("harmscope.checks.units", "harmscope.checks.people")

for _name in LENS_CHECK_MODULES:
    importlib.import_module(_name)

__all__ = [
    "ESTIMATORS",
    "LENS_CHECK_MODULES",
    "LensValidation",
    "SeedsValidation",
    "SimulationFolderError",
    "ValidationResult",
    "validate_evaluation",
    "validate_priorities",
    "validate_priorities_seeds",
]
