"""Step 1's part of `seed_demo`: realistic business metrics with months of history, a mix of statuses."""

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from metrics import compute
from metrics.attainment import AT_RISK, OFF_TRACK, ON_TRACK, attainment
from metrics.models import BUSINESS_KINDS, Kind, Measurement, Method, Metric
from pilots.models import AuditEvent, Pilot, Stage


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """One seed for the module (it takes seconds), rolled back after its last test; each test runs in a
    savepoint inside it, as TestCase.setUpTestData does."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def seeded(demo, db):
    return demo


def status(metric: Metric) -> str:
    latest = metric.measurements.order_by("on", "id").last()
    return attainment(
        baseline=metric.baseline,
        target=metric.target,
        current=latest.value if latest else None,
        start=metric.baseline_on,
        end=metric.target_date,
        today=timezone.localdate(),
    ).status


def test_every_started_pilot_states_success_in_business_terms(seeded):
    for pilot in Pilot.objects.exclude(stage=Stage.PROPOSED):
        metrics = list(pilot.metrics.all())
        assert 1 <= len(metrics) <= 3, pilot
        for metric in metrics:
            assert metric.kind in BUSINESS_KINDS or metric.outcome, metric
            assert not metric.vanity_warning, metric
            assert (metric.baseline_on, metric.target_date) == (pilot.started_on, pilot.target_date)
            assert metric.owner == pilot.program_manager
            assert metric.baseline_source
    assert set(BUSINESS_KINDS) <= set(Metric.objects.values_list("kind", flat=True))
    custom = Metric.objects.get(kind=Kind.CUSTOM, pilot__stage__in=Stage.values[1:])
    assert custom.outcome  # a custom metric names the business outcome it moves


def weeks(metric: Metric) -> int:
    return len({on.isocalendar()[:2] for on in metric.measurements.values_list("on", flat=True)})


def test_metrics_have_twelve_weeks_of_history_by_hand_and_from_cases(seeded):
    manual = Metric.objects.filter(method=Method.MANUAL).exclude(name="Weekly active users")
    assert min(weeks(m) for m in manual) >= 12
    assert max(weeks(m) for m in Metric.objects.filter(method=Method.FROM_CASES)) >= 12
    computed = Measurement.objects.filter(source=Measurement.Source.COMPUTED)
    assert computed.filter(cases__gt=0).count() == computed.count() > 0  # each figure from decided cases
    # Entered week by week on the demo clock, so the history reads like months of use.
    entered = Measurement.objects.filter(source=Measurement.Source.MANUAL).values_list(
        "created_at", flat=True
    )
    assert (max(entered) - min(entered)).days > 100
    assert AuditEvent.objects.filter(action="measurement.recorded").count() == len(entered)


def test_some_metrics_are_on_track_some_at_risk_and_some_off(seeded):
    statuses = Counter(status(m) for m in Metric.objects.exclude(name="Weekly active users"))
    assert statuses[ON_TRACK] >= 3 and statuses[AT_RISK] >= 2 and statuses[OFF_TRACK] >= 2, statuses


def test_the_vanity_metric_carries_the_guards_warning(seeded):
    flagged = Metric.objects.exclude(vanity_warning="").select_related("pilot")
    assert [(m.name, m.pilot.stage) for m in flagged] == [("Weekly active users", Stage.PROPOSED)]
    assert flagged[0].vanity_warning.startswith("Looks like a vanity metric (users):")


def test_seeding_twice_changes_nothing(seeded):
    def state():
        return (
            list(Metric.objects.values_list("pk", "updated_at")),
            list(Measurement.objects.values_list("pk", "value", "on")),
            AuditEvent.objects.count(),
        )

    before = state()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert state() == before
    assert "metrics already" in out.getvalue()


def test_generate_load_gives_every_started_pilot_two_computed_metrics(db):
    call_command("generate_load", pilots=30, cases=3000, workspace="load-test", stdout=io.StringIO())
    started = Pilot.objects.filter(workspace__slug="load-test").exclude(stage=Stage.PROPOSED)
    metrics = Metric.objects.filter(pilot__in=started)
    # (the module's demo seed may be in the database too: count the load workspace's metrics only)
    assert (
        metrics.count()
        == 2 * started.count()
        == Metric.objects.filter(pilot__workspace__slug="load-test").count()
    )
    assert set(metrics.values_list("kind", "method").distinct()) == {
        (Kind.CYCLE_TIME, Method.FROM_CASES),
        (Kind.ERROR_RATE, Method.FROM_CASES),
    }
    assert all(m.baseline_on < m.target_date and m.target < m.baseline for m in metrics)
    assert compute.recompute() > 0  # the bench's part d
