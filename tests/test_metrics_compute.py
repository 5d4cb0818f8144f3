"""Computed metrics against figures worked out by hand (DESIGN.md "Figures, defined once"), per ISO week in
the workspace's time zone."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics import compute
from metrics.models import Kind, Measurement, Method
from metrics.services import MetricDetails, define_metric, record_measurement
from pilots.models import Case
from tests import factories

BERLIN = ZoneInfo("Europe/Berlin")  # the team's workspace; UTC+1 in January
NEW_YORK = ZoneInfo("America/New_York")  # UTC−5 in January
WEEK_1, WEEK_2 = date(2026, 1, 5), date(2026, 1, 12)  # Mondays


def at(zone: ZoneInfo, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of January 2026 in `zone`."""
    return datetime(2026, 1, day, hour, minute, tzinfo=zone)


def case(
    pilot, n: int, *, received_at, decided_at=None, event_at=None, corrected=False, touchpoints=0, cost=None
):
    return Case.objects.create(
        pilot=pilot,
        external_id=f"C-{n}",
        source="api",
        received_at=received_at,
        event_at=event_at,
        decided_at=decided_at,
        corrected=corrected,
        touchpoints=touchpoints,
        cost=None if cost is None else Decimal(cost),
        digest=f"digest-{n}",
    )


def metric(
    team, name: str, kind: str, *, pilot=None, unit: str = "", method=Method.FROM_CASES, baseline=10.0
):
    pilot = pilot or team.pilot
    owner = pilot.program_manager
    return define_metric(
        pilot=pilot,
        actor=owner,
        details=MetricDetails(
            name=name,
            kind=kind,
            unit=unit,
            baseline=baseline,
            baseline_on=date(2025, 12, 1),
            target=baseline / 4,
            target_date=date(2026, 6, 30),
            method=method,
            owner=owner,
        ),
    )


def figures(m) -> set[tuple[date, float, int | None]]:
    return {(x.on, round(x.value, 4), x.cases) for x in Measurement.objects.filter(metric=m)}


@pytest.fixture
def cases(team):
    """Three decided cases of the team's pilot (Europe/Berlin) in two local weeks, and one undecided.

    week 1: C-1 event Mon 09:00 → decided Wed 09:00 (2 days), not corrected, 1 touchpoint, 10.00
            C-2 no event time: received Fri 12:00 → decided Sun 23:30 local = Sun 22:30 UTC (2 d 11.5 h),
                corrected, 3 touchpoints, 20.00
    week 2: C-3 received Sun 00:30 → decided Mon 00:30 local, which is still Sunday (23:30) in UTC
                (1 day), not corrected, no touchpoint, 5.50
            C-4 received Mon 09:00, not decided: counts nowhere
    """
    pilot = team.pilot
    case(pilot, 1, event_at=at(BERLIN, 5, 9), received_at=at(BERLIN, 5, 10), decided_at=at(BERLIN, 7, 9),
         touchpoints=1, cost="10.00")  # fmt: skip
    case(pilot, 2, received_at=at(BERLIN, 9, 12), decided_at=at(BERLIN, 11, 23, 30), corrected=True,
         touchpoints=3, cost="20.00")  # fmt: skip
    case(pilot, 3, received_at=at(BERLIN, 11, 0, 30), decided_at=at(BERLIN, 12, 0, 30), cost="5.50")
    case(pilot, 4, received_at=at(BERLIN, 12, 9))
    return pilot


def test_the_weeks_are_iso_weeks_in_the_workspace_time_zone(cases):
    decided = dict(
        Case.objects.filter(external_id__in=["C-2", "C-3"]).values_list("external_id", "decided_at")
    )
    assert decided["C-2"].astimezone(UTC) == datetime(2026, 1, 11, 22, 30, tzinfo=UTC)  # Sunday, both ways
    assert decided["C-3"].astimezone(UTC) == datetime(2026, 1, 11, 23, 30, tzinfo=UTC)  # Sunday in UTC only
    rows = compute.week_figures([cases.pk])
    assert sorted(rows) == [(cases.pk, WEEK_1), (cases.pk, WEEK_2)]  # not both in week 1, as in UTC
    assert [rows[(cases.pk, week)]["decided"] for week in (WEEK_1, WEEK_2)] == [2, 1]


def test_cycle_time_in_days_from_the_event_or_else_the_arrival(team, cases):
    days = metric(team, "Cycle time", Kind.CYCLE_TIME)
    assert days.unit == "days"
    compute.recompute()
    # (2 days + 2 days 11.5 hours) / 2 = 2.2395833 days; then 1 day
    assert figures(days) == {(WEEK_1, 2.2396, 2), (WEEK_2, 1.0, 1)}


def test_cycle_time_in_hours_when_the_unit_says_hours(team, cases):
    hours = metric(team, "Cycle time in hours", Kind.CYCLE_TIME, unit="hours", baseline=72)
    compute.recompute()
    assert figures(hours) == {(WEEK_1, 53.75, 2), (WEEK_2, 24.0, 1)}  # (48 h + 59.5 h) / 2


def test_error_rate_is_the_share_of_decided_cases_corrected(team, cases):
    errors = metric(team, "Error rate", Kind.ERROR_RATE)
    compute.recompute()
    assert errors.unit == "%"
    assert figures(errors) == {(WEEK_1, 50.0, 2), (WEEK_2, 0.0, 1)}  # the undecided case counts nowhere


def test_touchpoints_are_the_mean_per_decided_case(team, cases):
    touchpoints = metric(team, "Touchpoints per case", Kind.TOUCHPOINTS)
    compute.recompute()
    assert figures(touchpoints) == {(WEEK_1, 2.0, 2), (WEEK_2, 0.0, 1)}


def test_external_spend_is_the_week_as_a_monthly_rate(team, cases):
    spend = metric(team, "External spend", Kind.EXTERNAL_SPEND, baseline=40_000)
    compute.recompute()
    assert spend.unit == "EUR/month"
    # 30.00 in week 1 and 5.50 in week 2, × 52 / 12
    assert figures(spend) == {(WEEK_1, 130.0, 2), (WEEK_2, 23.8333, 1)}


def test_each_workspace_has_its_own_weeks(team, cases):
    """Monday 03:00 UTC is still Sunday evening in New York: week 1 there, week 2 in Berlin."""
    workspace = factories.WorkspaceFactory(timezone="America/New_York", currency="USD")
    pilot = factories.PilotFactory(workspace=workspace)
    monday_3am_utc = datetime(2026, 1, 12, 3, tzinfo=UTC)
    case(pilot, 5, received_at=at(NEW_YORK, 10, 22), decided_at=monday_3am_utc, corrected=True)
    case(cases, 6, received_at=at(BERLIN, 11, 4), decided_at=monday_3am_utc)
    new_york = metric(team, "Error rate", Kind.ERROR_RATE, pilot=pilot)
    berlin = metric(team, "Error rate", Kind.ERROR_RATE)
    compute.recompute()
    assert figures(new_york) == {(WEEK_1, 100.0, 1)}
    assert figures(berlin) == {(WEEK_1, 50.0, 2), (WEEK_2, 0.0, 2)}


def test_recomputing_replaces_the_figures_with_the_same_ones(team, cases):
    computed = [
        metric(team, "Cycle time", Kind.CYCLE_TIME),
        metric(team, "Error rate", Kind.ERROR_RATE),
        metric(team, "Touchpoints per case", Kind.TOUCHPOINTS),
        metric(team, "External spend", Kind.EXTERNAL_SPEND, baseline=40_000),
    ]
    assert compute.recompute() == 8
    first = {m.pk: figures(m) for m in computed}
    assert compute.recompute() == 8
    assert {m.pk: figures(m) for m in computed} == first
    assert Measurement.objects.filter(source="computed").count() == 8  # replaced, never added to


def test_a_new_decision_moves_the_figure_on_the_next_run(team, cases):
    errors = metric(team, "Error rate", Kind.ERROR_RATE)
    compute.recompute()
    Case.objects.filter(external_id="C-4").update(decided_at=at(BERLIN, 13, 9), corrected=True)
    compute.recompute()
    assert figures(errors) == {(WEEK_1, 50.0, 2), (WEEK_2, 50.0, 2)}


def test_only_the_figures_that_changed_are_rewritten(team, cases):
    errors = metric(team, "Error rate", Kind.ERROR_RATE)
    compute.recompute()
    kept = dict(Measurement.objects.filter(metric=errors).values_list("on", "id"))
    Case.objects.filter(external_id="C-4").update(decided_at=at(BERLIN, 13, 9), corrected=True)
    compute.recompute()
    now = dict(Measurement.objects.filter(metric=errors).values_list("on", "id"))
    unchanged = [on for on in kept if on in now and now[on] == kept[on]]
    assert unchanged, "an unchanged week keeps its row"
    assert len(now) == 2


def test_manual_metrics_and_their_figures_are_left_alone(team, cases):
    by_hand = metric(team, "Cycle time by hand", Kind.CYCLE_TIME, method=Method.MANUAL)
    entered = record_measurement(metric=by_hand, actor=team.pm, value=4.5, on=WEEK_1, note="From the report")
    metric(team, "Cycle time", Kind.CYCLE_TIME)
    compute.recompute()
    compute.recompute()
    assert list(Measurement.objects.filter(metric=by_hand).values_list("pk", "value", "on", "source")) == [
        (entered.pk, 4.5, WEEK_1, "manual")
    ]


def test_recomputing_some_pilots_leaves_the_others(team, cases):
    other = factories.PilotFactory(workspace=team.workspace)
    case(other, 7, received_at=at(BERLIN, 6, 9), decided_at=at(BERLIN, 6, 15), corrected=True)
    mine, theirs = (
        metric(team, "Error rate", Kind.ERROR_RATE),
        metric(team, "Error rate", Kind.ERROR_RATE, pilot=other),
    )
    compute.recompute()
    Case.objects.filter(pilot=other).update(corrected=False)
    Case.objects.filter(pilot=cases).update(corrected=False)
    assert compute.recompute([cases.pk]) == 2
    assert figures(mine) == {(WEEK_1, 0.0, 2), (WEEK_2, 0.0, 1)}
    assert figures(theirs) == {(WEEK_1, 100.0, 1)}  # not recomputed yet


def test_a_pilot_without_decided_cases_gets_no_figures(team):
    case(team.pilot, 1, received_at=at(BERLIN, 5, 9))
    cycle = metric(team, "Cycle time", Kind.CYCLE_TIME)
    assert compute.recompute() == 0
    assert figures(cycle) == set()


def test_the_number_of_queries_does_not_grow_with_the_pilots(team, cases):
    metric(team, "Error rate", Kind.ERROR_RATE)
    with CaptureQueriesContext(connection) as one_pilot:
        compute.recompute()
    for n in range(5):
        pilot = factories.PilotFactory(workspace=team.workspace)
        case(pilot, 10 + n, received_at=at(BERLIN, 6, 9), decided_at=at(BERLIN, 6, 15))
        metric(team, "Error rate", Kind.ERROR_RATE, pilot=pilot)
    with CaptureQueriesContext(connection) as six_pilots:
        compute.recompute()
    assert len(six_pilots) == len(one_pilot)
