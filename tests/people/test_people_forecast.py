"""The people forecast's sustained rate (the quietest whole year) by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from harmscope.people.forecast import ForecastModel, forecast_people, sustained_rate
from harmscope.people.records import Records


def _rows() -> pd.DataFrame:
    # period months 100..129 (30 months): whole years counted back from 129 are
    # 118..129 and 106..117; months 100..105 fall before the first whole year
    return pd.DataFrame(
        {
            "unit": ["burst", "burst", "steady", "steady", "steady", "old", "intel"],
            "m": [125, 120, 110, 128, 101, 103, 112],
            "value": [600.0, 600.0, 24.0, 36.0, 999.0, 50.0, 120.0],
            "origin": ["offence", "offence", "offence", "offence", "offence", "offence", "report"],
        }
    )


def test_sustained_rate_is_the_quietest_whole_year() -> None:
    s = sustained_rate(_rows(), start=100, end=129, intel=0.5)
    assert s is not None
    # burst: 1200 in the last year, nothing in the one before -> 0
    # steady: 36 last year, 24 the year before (month 101 is before the whole years) -> 24/12
    # old: only month 103, before the whole years -> 0; intel: a report at half weight, one
    # year only -> 0
    assert_allclose(s.sort_index().to_numpy(), [0.0, 0.0, 0.0, 2.0])
    assert s.sort_index().index.tolist() == ["burst", "intel", "old", "steady"]
    # with fewer than two whole years there is no quietest year to tell
    assert sustained_rate(_rows(), start=107, end=129, intel=0.5) is None


def test_forecast_blends_sustained_and_decayed_rate() -> None:
    empty = pd.DataFrame(columns=["nominal_id", "market_id"])
    arrests = pd.DataFrame(columns=["nominal_id", "m", "custody_outcome", "custody_until"])
    rec = Records(
        nominals=empty,
        links=empty,
        reports=empty,
        crime_people=empty,
        arrests=arrests,
        groups=empty,
        markets=empty,
        start=100,
        end=123,
    )
    rate = pd.Series({"a": 10.0, "b": 2.0})
    sustained = pd.Series({"b": 2.0})  # a had one heavy year only
    member = pd.DataFrame(columns=["nominal_id", "group_id", "weight"])
    model = ForecastModel(context=0.0, persistence=0.9)
    out = forecast_people(rate, rec, member, model, sustained=sustained)
    # F = N * ((1 - p) r + p s), N = 24 months
    assert out.loc["a", "forecast_harm"] == pytest.approx(24 * 0.1 * 10.0)
    assert out.loc["b", "forecast_harm"] == pytest.approx(24 * 2.0)
    plain = forecast_people(rate, rec, member, model)
    assert plain.loc["a", "forecast_harm"] == pytest.approx(240.0)
    with pytest.raises(ValueError, match="persistence"):
        ForecastModel(persistence=1.5)
