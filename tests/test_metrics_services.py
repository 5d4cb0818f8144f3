"""Defining metrics and recording measurements: each bad input refused with its field message."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from metrics.models import Measurement, Metric
from metrics.services import (
    MetricDetails,
    define_metric,
    import_measurements,
    record_measurement,
    update_metric,
)
from pilots.models import AuditEvent


def details(team, **changes):
    base = {
        "name": "Claim cycle time",
        "kind": "cycle_time",
        "baseline": 6.2,
        "baseline_on": date(2026, 1, 5),
        "target": 2.0,
        "target_date": date(2026, 12, 31),
        "owner": team.pm,
    }
    return MetricDetails(**(base | changes))


def test_a_metric_gets_sensible_defaults_and_an_audit_event(team):
    metric = define_metric(pilot=team.pilot, actor=team.pm, details=details(team))
    assert (metric.unit, metric.direction, metric.vanity_warning) == ("days", "lower", "")
    spend = define_metric(
        pilot=team.pilot,
        actor=team.pm,
        details=details(team, name="Spend", kind="external_spend", baseline=40000, target=15000),
    )
    assert spend.unit == "EUR/month"
    assert AuditEvent.objects.filter(action="metric.defined").count() == 2


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"target": 6.2}, "target", "equals the baseline"),
        ({"target": 8.0}, "target", "must be below the baseline"),
        ({"direction": "higher"}, "target", "must be above the baseline"),
        ({"target_date": date(2025, 12, 1)}, "target_date", "after the baseline date"),
        ({"kind": "error_rate", "unit": "%", "baseline": 120, "target": 3}, "baseline", "between 0 and 100"),
        ({"baseline": float("nan")}, "baseline", "Give a number"),
        ({"target": -1.0}, "target", "cannot be negative"),
        ({"kind": "custom", "unit": "complaints", "outcome": ""}, "outcome", "business outcome"),
        (
            {"kind": "custom", "unit": "x", "outcome": "fewer complaints", "method": "from_cases"},
            "method",
            "Only",
        ),
        ({"name": "  "}, "name", "Name the metric"),
    ],
)
def test_bad_definitions_are_refused_with_a_field_message(team, changes, field, message):
    with pytest.raises(ValidationError) as error:
        define_metric(pilot=team.pilot, actor=team.pm, details=details(team, **changes))
    assert message in " ".join(error.value.message_dict[field])
    assert not Metric.objects.exists()


def test_an_outsider_cannot_own_a_metric(team):
    with pytest.raises(ValidationError) as error:
        define_metric(pilot=team.pilot, actor=team.pm, details=details(team, owner=team.outsider))
    assert "owner" in error.value.message_dict


def test_names_are_unique_per_pilot_and_edits_are_audited(team):
    metric = define_metric(pilot=team.pilot, actor=team.pm, details=details(team))
    with pytest.raises(ValidationError):
        define_metric(pilot=team.pilot, actor=team.pm, details=details(team, name="claim cycle time"))
    update_metric(metric=metric, actor=team.pm, details=details(team, target=2.5))
    update_metric(metric=metric, actor=team.pm, details=details(team, target=2.5))
    event = AuditEvent.objects.get(action="metric.updated")
    assert event.before == {"target": 2.0} and event.after == {"target": 2.5}


def test_the_vanity_guard_flags_activity_counts(team):
    metric = define_metric(
        pilot=team.pilot,
        actor=team.pm,
        details=details(
            team,
            name="Weekly active users",
            kind="custom",
            unit="users",
            outcome="adoption",
            direction="higher",
            baseline=10,
            target=500,
        ),
    )
    assert "vanity metric (users)" in metric.vanity_warning


def test_measurements_are_checked(team):
    rate = define_metric(
        pilot=team.pilot,
        actor=team.pm,
        details=details(team, name="Error rate", kind="error_rate", unit="%", baseline=8, target=3),
    )
    record_measurement(metric=rate, actor=team.pm, value=7.5, on=date(2026, 2, 1), note="Jan audit")
    with pytest.raises(ValidationError, match="between 0 and 100"):
        record_measurement(metric=rate, actor=team.pm, value=140, on=date(2026, 2, 8))
    computed = define_metric(pilot=team.pilot, actor=team.pm, details=details(team, method="from_cases"))
    with pytest.raises(ValidationError, match="computed from the pilot's cases"):
        record_measurement(metric=computed, actor=team.pm, value=3, on=date(2026, 2, 8))
    assert Measurement.objects.count() == 1


def test_a_csv_import_with_bad_rows_imports_nothing_and_lists_every_bad_row(team):
    rate = define_metric(
        pilot=team.pilot,
        actor=team.pm,
        details=details(team, name="Error rate", kind="error_rate", unit="%", baseline=8, target=3),
    )
    text = "date,value,note\n2026-02-01,7.5,ok\n2026-02-30,7,bad date\n2026-02-15,abc,\n2026-02-22,101,\n"
    with pytest.raises(ValidationError) as error:
        import_measurements(metric=rate, actor=team.pm, text=text)
    assert error.value.messages == [
        "Line 3: “2026-02-30” is not a date (YYYY-MM-DD).",
        "Line 4: “abc” is not a number.",
        "Line 5: A percentage is between 0 and 100, not 101.",
    ]
    assert not Measurement.objects.exists()
    good = '\ufeffdate,value,note\n2026-02-01,7.5,ok\n2026-02-08,"7,1",comma decimal\n'
    assert import_measurements(metric=rate, actor=team.pm, text=good) == 2
    assert sorted(Measurement.objects.values_list("value", flat=True)) == [7.1, 7.5]


def test_a_csv_without_the_header_is_refused(team):
    rate = define_metric(pilot=team.pilot, actor=team.pm, details=details(team))
    with pytest.raises(ValidationError, match="header must be"):
        import_measurements(metric=rate, actor=team.pm, text="when,how much\n2026-01-01,3\n")


def test_repeats_and_future_dates(team):
    from datetime import timedelta

    from django.utils import timezone

    rate = define_metric(
        pilot=team.pilot,
        actor=team.pm,
        details=details(team, name="Error rate", kind="error_rate", unit="%", baseline=8, target=3),
    )
    first = record_measurement(metric=rate, actor=team.pm, value=7, on=date(2026, 3, 1), note="x")
    assert record_measurement(metric=rate, actor=team.pm, value=7, on=date(2026, 3, 1), note="x") == first
    text = "date,value\n2026-03-08,6.5\n2026-03-15,6\n"
    assert import_measurements(metric=rate, actor=team.pm, text=text) == 2
    assert import_measurements(metric=rate, actor=team.pm, text=text) == 0
    assert Measurement.objects.count() == 3
    tomorrow = timezone.localdate() + timedelta(days=2)
    with pytest.raises(ValidationError, match="in the future"):
        record_measurement(metric=rate, actor=team.pm, value=5, on=tomorrow)
    with pytest.raises(ValidationError, match="Line 2: A measurement cannot be dated in the future"):
        import_measurements(metric=rate, actor=team.pm, text=f"date,value\n{tomorrow.isoformat()},5\n")


def test_a_custom_metric_needs_a_unit(team):
    with pytest.raises(ValidationError) as error:
        define_metric(
            pilot=team.pilot,
            actor=team.pm,
            details=details(team, name="Complaints", kind="custom", unit="", outcome="fewer complaints"),
        )
    assert "unit" in error.value.message_dict
