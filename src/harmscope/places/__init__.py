"""The places lens: grid cells, Gi* hot spots, emerging hot spots, concentration.

Drug markets moved to :mod:`harmscope.markets` (``harmscope.places.markets`` still re-exports
them).

``harmscope.places.gi_star`` is the function of DESIGN §5/§6,
``gi_star(values, xy, distance) -> z``; the module of the same name stays importable as
``from harmscope.places.gi_star import ...``. See ``docs/places.md``.
"""

from __future__ import annotations

from harmscope.places.concentration import (
    CountVsHarm,
    PlaceConcentration,
    count_vs_harm,
    gini,
    lorenz_curve,
    place_concentration,
    power_few,
    top_share,
)
from harmscope.places.emerging import (
    EMERGING_CATEGORIES,
    EmergingHotSpots,
    MannKendall,
    classify_emerging,
    emerging_hot_spots,
    mann_kendall,
)
from harmscope.places.forecast import (
    ForecastCheck,
    ForecastMeasures,
    forecast_measures,
    kde_cell_harm,
    validate_forecast,
)
from harmscope.places.gi_star import CATEGORIES, GiStarResult, gi_bins, gi_star, gi_star_test
from harmscope.places.grid import (
    DEFAULT_CELL_SIZE,
    cell_coordinates,
    study_area_cells,
    values_on_cells,
    with_cells,
)
from harmscope.places.hotspots import (
    EMERGING_COLUMNS,
    HOTSPOT_COLUMNS,
    cell_totals,
    emerging_cells,
    hotspots,
    monthly_cell_totals,
)

__all__ = [
    "CATEGORIES",
    "DEFAULT_CELL_SIZE",
    "EMERGING_CATEGORIES",
    "EMERGING_COLUMNS",
    "HOTSPOT_COLUMNS",
    "CountVsHarm",
    "EmergingHotSpots",
    "ForecastCheck",
    "ForecastMeasures",
    "GiStarResult",
    "MannKendall",
    "PlaceConcentration",
    "cell_coordinates",
    "cell_totals",
    "classify_emerging",
    "count_vs_harm",
    "emerging_cells",
    "emerging_hot_spots",
    "forecast_measures",
    "gi_bins",
    "gi_star",
    "gi_star_test",
    "gini",
    "hotspots",
    "kde_cell_harm",
    "lorenz_curve",
    "mann_kendall",
    "monthly_cell_totals",
    "place_concentration",
    "power_few",
    "study_area_cells",
    "top_share",
    "validate_forecast",
    "values_on_cells",
    "with_cells",
]
