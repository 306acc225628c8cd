"""Community survey responses: moved to :mod:`harmscope.sources.survey` (a source adapter).

Re-exported here so evaluation code that imports it from ``harmscope.evaluate`` keeps working.
"""

from __future__ import annotations

from harmscope.sources.survey import SURVEY_COLUMNS, SURVEY_DDL, load_survey, survey_exists

__all__ = ["SURVEY_COLUMNS", "SURVEY_DDL", "load_survey", "survey_exists"]
