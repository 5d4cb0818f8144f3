"""The vanity guard's rules and the attainment arithmetic (both directions, edge values, property-based)."""

from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from metrics import attainment as att
from metrics.vanity import RULES, warning_for


@pytest.mark.parametrize(
    ("name", "unit", "rule"),
    [
        ("Weekly active users", "users", "users"),
        ("Logins per day", "logins", "logins"),
        ("Prompts sent", "count", "prompts"),
        ("Documents processed", "documents", "volume"),
        ("AI usage", "%", "usage"),
        ("Copilot sessions", "sessions", "logins"),
    ],
)
def test_activity_counts_are_flagged_with_the_reason(name, unit, rule):
    warning = warning_for(name=name, unit=unit)
    assert warning.startswith(f"Looks like a vanity metric ({rule}):")
    assert next(r.why for r in RULES if r.name == rule) in warning


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("Claim cycle time", "days"),
        ("Error rate", "%"),
        ("Touchpoints per invoice", "touchpoints per case"),
        ("External spend on data entry", "EUR/month"),
        ("Customer complaints per 1,000 claims", "complaints"),
    ],
)
def test_business_metrics_pass(name, unit):
    assert warning_for(name=name, unit=unit) == ""


def test_progress_in_both_directions():
    assert att.progress(baseline=6.2, target=2.0, current=6.2) == 0
    assert att.progress(baseline=6.2, target=2.0, current=2.0) == 1
    assert att.progress(baseline=6.2, target=2.0, current=4.1) == pytest.approx(0.5)
    assert att.progress(baseline=6.2, target=2.0, current=1.0) > 1  # beyond the target
    assert att.progress(baseline=6.2, target=2.0, current=7.0) < 0  # worse than the baseline
    assert att.progress(baseline=60, target=90, current=75) == pytest.approx(0.5)  # higher is better
    assert att.progress(baseline=60, target=90, current=50) < 0
    with pytest.raises(ValueError):
        att.progress(baseline=5, target=5, current=4)


def test_status_against_time_elapsed():
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    halfway = start + (end - start) / 2
    kw = {"baseline": 10, "target": 0, "start": start, "end": end, "today": halfway}
    assert att.attainment(current=5, **kw).status == att.ON_TRACK  # 50% of the way, 50% of the time
    assert att.attainment(current=7, **kw).status == att.AT_RISK  # 30%: within a quarter
    assert att.attainment(current=9, **kw).status == att.OFF_TRACK
    assert att.attainment(current=None, **kw).status == att.NO_DATA
    assert att.elapsed(start=start, end=end, today=start - timedelta(days=5)) == 0
    assert att.elapsed(start=start, end=end, today=end + timedelta(days=5)) == 1


numbers = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@given(numbers, numbers, numbers)
def test_progress_is_zero_at_baseline_one_at_target_and_monotonic_in_the_good_direction(
    baseline, target, current
):
    assume(abs(target - baseline) > 1e-6)
    assert att.progress(baseline=baseline, target=target, current=baseline) == 0
    assert att.progress(baseline=baseline, target=target, current=target) == pytest.approx(1)
    step = (target - baseline) / 10  # a move toward the target always raises progress
    assert att.progress(baseline=baseline, target=target, current=current + step) > att.progress(
        baseline=baseline, target=target, current=current
    )


@given(st.integers(0, 400), st.integers(1, 400), numbers)
def test_status_is_on_track_exactly_when_progress_keeps_up_with_time(days_in, length, current):
    start = date(2026, 1, 1)
    end = start + timedelta(days=length)
    a = att.attainment(
        baseline=100, target=50, current=current, start=start, end=end, today=start + timedelta(days=days_in)
    )
    assert 0 <= a.expected <= 1
    assert (a.status == att.ON_TRACK) == (a.progress >= a.expected)


@pytest.mark.parametrize("kind", ["cycle_time", "error_rate", "touchpoints", "external_spend"])
def test_the_four_business_kinds_are_never_vanity_whatever_their_words(kind):
    assert warning_for(name="Cycle time for supplier documents per session", unit="requests", kind=kind) == ""
