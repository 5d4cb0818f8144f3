"""The metrics.* checks (DESIGN.md checks table) on hand-built pilots."""

from datetime import timedelta

import pytest
from django.utils import timezone

from metrics.models import Measurement
from metrics.services import MetricDetails, define_metric, record_measurement
from pilots import checks


def result(pilot, check_id):
    return checks.evaluate([pilot.pk], gate="production")[pilot.pk][check_id]


def metric(team, **changes):
    today = timezone.localdate()
    base = {
        "name": "Cycle time",
        "kind": "cycle_time",
        "baseline": 10.0,
        "baseline_on": today - timedelta(days=50),
        "target": 0.0,
        "target_date": today + timedelta(days=50),
        "owner": team.pm,
    }
    return define_metric(pilot=team.pilot, actor=team.pm, details=MetricDetails(**(base | changes)))


def test_business_metric_needs_a_computed_business_metric(team):
    assert result(team.pilot, "metrics.business_metric").status == checks.MISSING
    metric(team, kind="custom", unit="complaints", outcome="fewer complaints", name="Complaints")
    assert result(team.pilot, "metrics.business_metric").status == checks.MISSING
    metric(team)
    missing = result(team.pilot, "metrics.business_metric")
    assert missing.status == checks.MISSING and "measured by hand" in missing.evidence.text
    metric(team, name="Error rate", kind="error_rate", unit="%", baseline=8, target=3, method="from_cases")
    assert result(team.pilot, "metrics.business_metric").status == checks.VERIFIED


def test_recent_measurement_within_30_days(team):
    m = metric(team)
    record_measurement(metric=m, actor=team.pm, value=8, on=timezone.localdate() - timedelta(days=40))
    assert result(team.pilot, "metrics.recent_measurement").status == checks.MISSING
    record_measurement(metric=m, actor=team.pm, value=7, on=timezone.localdate() - timedelta(days=3))
    assert result(team.pilot, "metrics.recent_measurement").status == checks.VERIFIED


def test_measured_from_cases_needs_computed_figures(team):
    m = metric(team, method="from_cases")
    assert result(team.pilot, "metrics.measured_from_cases").status == checks.MISSING
    Measurement.objects.create(metric=m, value=5, on=timezone.localdate(), source="computed", cases=12)
    assert result(team.pilot, "metrics.measured_from_cases").status == checks.VERIFIED


@pytest.mark.parametrize(
    ("latest", "status"), [(5.0, checks.VERIFIED), (4.0, checks.VERIFIED), (8.0, checks.MISSING)]
)
def test_on_track_compares_progress_with_time_elapsed(team, latest, status):
    m = metric(team)  # halfway through the time: needs at least 50% of the way (10 → 5)
    record_measurement(metric=m, actor=team.pm, value=latest, on=timezone.localdate())
    found = result(team.pilot, "metrics.on_track")
    assert found.status == status
    if status == checks.MISSING:
        assert "Cycle time at 20% of the way with 50% of the time gone" in found.evidence.text


def test_the_value_checks_are_registered_at_their_gates():
    gates = {c.id: (c.gate, c.attestable) for c in checks.all_checks() if c.section == "value"}
    assert gates == {
        "metrics.business_metric": ("standardize_inputs", True),
        "metrics.recent_measurement": ("exception_paths", True),
        "metrics.measured_from_cases": ("production", False),
        "metrics.on_track": ("production", False),
    }
