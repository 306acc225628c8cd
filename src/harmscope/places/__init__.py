"""The places lens: grid cells, Gi* hot spots, emerging hot spots, concentration.

Drug markets moved to :mod:`harmscope.markets` (``harmscope.places.markets`` still re-exports
them).

``harmscope.places.gi_star`` is the function of DESIGN §5/§6,
``gi_star(values, xy, distance) -> z``; the module of the same name stays importable as
``from harmscope.places.gi_star import ...``. See ``docs/places.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# ``gi_star`` is bound eagerly: it is both a submodule and, here, the function of that name
# (DESIGN §5/§6), and a lazy name would lose to the submodule once that is imported.
from harmscope.places.gi_star import gi_star

if TYPE_CHECKING:
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
    from harmscope.places.gi_star import CATEGORIES, GiStarResult, gi_bins, gi_star_test
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

#: The submodule each re-exported name comes from. They load on first use (PEP 562), so that
#: importing one leaf module (``harmscope.places.grid``) does not load them all: the
#: concentration and forecast modules bring SciPy's statistics, seconds of every command's
#: start-up (issue 13).
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        (
            "CountVsHarm",
            "PlaceConcentration",
            "count_vs_harm",
            "gini",
            "lorenz_curve",
            "place_concentration",
            "power_few",
            "top_share",
        ),
        "concentration",
    ),
    **dict.fromkeys(
        (
            "EMERGING_CATEGORIES",
            "EmergingHotSpots",
            "MannKendall",
            "classify_emerging",
            "emerging_hot_spots",
            "mann_kendall",
        ),
        "emerging",
    ),
    **dict.fromkeys(
        (
            "ForecastCheck",
            "ForecastMeasures",
            "forecast_measures",
            "kde_cell_harm",
            "validate_forecast",
        ),
        "forecast",
    ),
    **dict.fromkeys(("CATEGORIES", "GiStarResult", "gi_bins", "gi_star_test"), "gi_star"),
    **dict.fromkeys(
        (
            "DEFAULT_CELL_SIZE",
            "cell_coordinates",
            "study_area_cells",
            "values_on_cells",
            "with_cells",
        ),
        "grid",
    ),
    **dict.fromkeys(
        (
            "EMERGING_COLUMNS",
            "HOTSPOT_COLUMNS",
            "cell_totals",
            "emerging_cells",
            "hotspots",
            "monthly_cell_totals",
        ),
        "hotspots",
    ),
}


def __getattr__(name: str) -> Any:
    """A re-exported name, its submodule imported on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


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
