"""Domain core: harm taxonomy, weight schemes and the harm matrix.

Imports nothing else of HarmScope except :mod:`harmscope.errors`. Analyses import this
package; it never imports them.

- :mod:`~harmscope.harm.taxonomy` — the UKDPC harm matrix axes and the event-type mapping
  (TOML data, localisable).
- :mod:`~harmscope.harm.schemes` — weight schemes (``cchi``, ``count``, user TOML files).
- :mod:`~harmscope.harm.weigh` — attach weights to events (Ibis, in the engine).
- :mod:`~harmscope.harm.attribution` — drug-attributable fractions per event type (TOML
  data with citations and ranges; the rest is not drug-attributed).
- :mod:`~harmscope.harm.matrix` — the measured harm matrix (drug-attributed or all harm).
- :mod:`~harmscope.harm.area` — harm and activity per area and month.
- :mod:`~harmscope.harm.build_cchi` — reproducible derivation of the ``cchi`` weights.

See ``docs/harm-model.md``.
"""

from __future__ import annotations

from harmscope.harm.attribution import (
    DRUG_SOURCES,
    NOT_ATTRIBUTED,
    Attribution,
    Fraction,
    TypeAttribution,
    default_attribution,
    load_attribution,
)
from harmscope.harm.matrix import (
    ACTIVITY_UNIT,
    HARM_VIEWS,
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
    repeatable_sum,
    select_events,
    unknown_event_types,
    weigh,
    weigh_keyed,
)

__all__ = [
    "ACTIVITY_UNIT",
    "DRUG_SOURCES",
    "HARM_VIEWS",
    "NOT_ATTRIBUTED",
    "STOP_AND_SEARCH",
    "ActivityCell",
    "Attribution",
    "Cell",
    "CellShare",
    "Dropped",
    "EventTypeTotal",
    "Fraction",
    "HarmMatrix",
    "MatrixRow",
    "Scheme",
    "Taxonomy",
    "TypeAttribution",
    "Weight",
    "activity_label",
    "available_schemes",
    "check_coverage",
    "default_attribution",
    "default_taxonomy",
    "dropped_events",
    "harm_and_activity",
    "harm_by_area",
    "harm_matrix",
    "load_attribution",
    "load_scheme",
    "load_taxonomy",
    "parse_month",
    "repeatable_sum",
    "select_events",
    "unknown_event_types",
    "weigh",
    "weigh_keyed",
]
