"""WDQ and total net effect against Bowers & Johnson (2003) and Guerette (2009)."""

from __future__ import annotations

import math

import pytest
from numpy.testing import assert_allclose

from harmscope.errors import EstimatorError
from harmscope.evaluate import wdq


def test_complete_displacement() -> None:
    # Every crime prevented in the response area reappears in the buffer: WDQ = -1.
    r = wdq(response=(100, 50), buffer=(100, 150), control=(100, 100))
    assert_allclose(
        [r.success, r.buffer_measure, r.wdq, r.net_effect, r.total_net_effect, r.gross_effect],
        [-0.5, 0.5, -1.0, 0.5, 0.0, 50.0],
    )
    assert "smaller than the direct effect" in r.interpretation


def test_guerette_lancashire_worked_example() -> None:
    # Guerette (2009), Appendix D ("MOPPIN up Dodge", Lancashire): response 207 -> 110,
    # control 308 -> 318, buffer 178 -> 157. Published: GE = 97, NE = .326, TNE = 130.5.
    r = wdq(response=(207, 110), buffer=(178, 157), control=(308, 318))
    assert_allclose(r.gross_effect, 97.0)
    assert_allclose(r.net_effect, 0.326, atol=5e-4)
    assert_allclose(r.total_net_effect, 130.5, atol=0.05)
    # The guide prints WDQ = .411, which its own formula and inputs do not give; the
    # formula (157/318 - 178/308) / (110/318 - 207/308) gives 0.2582 (still diffusion < 1).
    assert_allclose(r.wdq, (157 / 318 - 178 / 308) / (110 / 318 - 207 / 308))
    assert_allclose(r.wdq, 0.2582, atol=5e-5)
    assert r.interpretation.startswith("diffusion of benefits (")


def test_success_and_buffer_are_the_wdq_parts() -> None:
    r = wdq(response=(80, 40), buffer=(60, 45), control=(200, 180))
    assert_allclose(r.success, 40 / 180 - 80 / 200)
    assert_allclose(r.buffer_measure, 45 / 180 - 60 / 200)
    assert_allclose(r.wdq, r.buffer_measure / r.success)
    assert_allclose(r.net_effect, -r.success)
    ratio = 180 / 200
    assert_allclose(r.total_net_effect, (80 * ratio - 40) + (60 * ratio - 45))


@pytest.mark.parametrize(
    ("buffer", "expected"),
    [
        ((100, 40), "diffusion of benefits larger than the direct effect"),  # WDQ = 1.2
        ((100, 75), "diffusion of benefits (the direct effect was amplified)"),  # 0.5
        ((100, 100), "no displacement or diffusion in the buffer"),  # 0
        ((100, 125), "some displacement, smaller than the direct effect"),  # -0.5
        ((100, 175), "displacement larger than the direct effect"),  # -1.5
    ],
)
def test_interpretation_bands(buffer: tuple[int, int], expected: str) -> None:
    r = wdq(response=(100, 50), buffer=buffer, control=(100, 100))
    assert r.interpretation.startswith(expected)


def test_no_success_is_not_read_as_displacement() -> None:
    r = wdq(response=(100, 100), buffer=(100, 150), control=(100, 100))
    assert r.success == 0.0
    assert math.isnan(r.wdq)
    assert r.interpretation.startswith("no success")
    worse = wdq(response=(100, 120), buffer=(100, 150), control=(100, 100))
    assert worse.interpretation.startswith("no success")


def test_rejects_zero_control_and_negative_counts() -> None:
    with pytest.raises(EstimatorError, match="control counts must both be > 0"):
        wdq(response=(10, 5), buffer=(10, 12), control=(0, 4))
    with pytest.raises(EstimatorError, match="buffer post"):
        wdq(response=(10, 5), buffer=(10, -1), control=(4, 4))
