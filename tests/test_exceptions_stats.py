"""The 95% Wilson score interval (exceptions.stats) on known values.

Sources for the expected figures:
- E. B. Wilson (1927), "Probable inference, the law of succession, and statistical inference",
  JASA 22:209–212.
- R. G. Newcombe (1998), "Two-sided confidence intervals for the single proportion: comparison of seven
  methods", Statistics in Medicine 17:857–872, Table II, method 3 (score interval without continuity
  correction): 81/263 → 0.2553–0.3662, 15/148 → 0.0624–0.1605, 0/20 → 0–0.1611, 1/29 → 0.0061–0.1718.
- The issue's own figures, recomputed by hand from Newcombe's closed form
  (2np + z² ± z·√(z² + 4npq)) / (2(n + z²)), z = 1.959964, in 30-digit decimal arithmetic:
  10/10 → lower 0.722467 (for x = n the bound is n / (n + z²) = 10 / 13.841459);
  97/100 → 0.915481–0.989745 (the issue's "≈ 0.9154" is this value truncated; rounded it is 0.9155);
  12/100 → 0.069994–0.198121.
"""

from decimal import Decimal, getcontext
from math import isclose
from statistics import NormalDist

import pytest

from exceptions.stats import Z95, wilson_interval, wilson_lower


def newcombe(hits: int, n: int) -> tuple[float, float]:
    """An independent computation: Newcombe's (1998) form of the score interval, in decimal arithmetic."""
    getcontext().prec = 30
    z = Decimal("1.959963984540054")
    x, n_, z2 = Decimal(hits), Decimal(n), z * z
    root = z * (z2 + 4 * x * (n_ - x) / n_).sqrt()
    return float((2 * x + z2 - root) / (2 * (n_ + z2))), float((2 * x + z2 + root) / (2 * (n_ + z2)))


def test_no_observation_says_nothing():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_lower(0, 0) == 0.0


@pytest.mark.parametrize(
    ("hits", "n", "low", "high"),
    [
        (10, 10, 0.7225, 1.0),
        (97, 100, 0.9155, 0.9897),
        (12, 100, 0.0700, 0.1981),
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_known_intervals(hits, n, low, high):
    found = wilson_interval(hits, n)
    assert found == pytest.approx((low, high), abs=5e-5)


@pytest.mark.parametrize(
    ("hits", "n"), [(1, 1), (0, 1), (3, 7), (50, 100), (212, 212), (205, 212), (1, 1000), (999, 1000)]
)
def test_the_interval_agrees_with_an_independent_closed_form(hits, n):
    for ours, theirs in zip(wilson_interval(hits, n), newcombe(hits, n), strict=True):
        assert isclose(ours, theirs, abs_tol=1e-12)


def test_all_successes_have_the_lower_bound_n_over_n_plus_z_squared():
    for n in (1, 10, 60, 212):
        assert isclose(wilson_lower(n, n), n / (n + Z95 * Z95), rel_tol=1e-12)
    assert isclose(Z95, NormalDist().inv_cdf(0.975), abs_tol=1e-12)  # the 97.5th percentile of N(0, 1)


def test_small_samples_give_no_confident_advice():
    """The thresholds refinement uses: 10 of 10 is not enough to clear 90%, 60 of 60 is."""
    assert wilson_lower(10, 10) < 0.90 <= wilson_lower(60, 60)
    # With every decision an approval, 35 is the smallest sample that clears 90% (n ≥ 9z²).
    assert wilson_lower(34, 34) < 0.90 <= wilson_lower(35, 35)
    assert wilson_lower(12, 100) >= 0.05 > wilson_lower(1, 20)


def test_the_interval_holds_the_observed_rate_and_narrows_with_more_observations():
    previous = 1.0
    for n in (10, 100, 1000, 10000):
        low, high = wilson_interval(n // 4, n)
        assert low < 0.25 < high
        assert high - low < previous
        previous = high - low


@pytest.mark.parametrize(("hits", "n"), [(-1, 10), (11, 10)])
def test_hits_outside_0_to_n_are_refused(hits, n):
    with pytest.raises(ValueError, match="between 0 and n"):
        wilson_interval(hits, n)
