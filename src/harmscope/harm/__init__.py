"""Domain core: harm taxonomy, weight schemes and the harm matrix.

Imports nothing else of HarmScope except :mod:`harmscope.errors`. Analyses import this
package; it never imports them.

- :mod:`~harmscope.harm.taxonomy` — the UKDPC harm matrix axes and the event-type mapping
  (TOML data, localisable).
- :mod:`~harmscope.harm.schemes` — weight schemes (``cchi``, ``count``, user TOML files).
- :mod:`~harmscope.harm.weigh` — attach weights to events (Ibis, in the engine).
- :mod:`~harmscope.harm.matrix` — the measured harm matrix and harm per area and month.
- :mod:`~harmscope.harm.build_cchi` — reproducible derivation of the ``cchi`` weights.

See ``docs/harm-model.md``.
"""

from __future__ import annotations

from harmscope.harm.matrix import (
    ACTIVITY_UNIT,
    ActivityCell,
    Cell,
    EventTypeTotal,
    HarmMatrix,
    MatrixRow,
    check_coverage,
    harm_by_area,
    harm_matrix,
)
from harmscope.harm.schemes import Scheme, Weight, available_schemes, load_scheme
from harmscope.harm.taxonomy import CellShare, Taxonomy, default_taxonomy, load_taxonomy
from harmscope.harm.weigh import (
    STOP_AND_SEARCH,
    Dropped,
    activity_label,
    dropped_events,
    harm_and_activity,
    parse_month,
    select_events,
    unknown_event_types,
    weigh,
    weigh_keyed,
)

__all__ = [
    "ACTIVITY_UNIT",
    "STOP_AND_SEARCH",
    "ActivityCell",
    "Cell",
    "CellShare",
    "Dropped",
    "EventTypeTotal",
    "HarmMatrix",
    "MatrixRow",
    "Scheme",
    "Taxonomy",
    "Weight",
    "activity_label",
    "available_schemes",
    "check_coverage",
    "default_taxonomy",
    "dropped_events",
    "harm_and_activity",
    "harm_by_area",
    "harm_matrix",
    "load_scheme",
    "load_taxonomy",
    "parse_month",
    "select_events",
    "unknown_event_types",
    "weigh",
    "weigh_keyed",
]
