"""Helpers shared by the step 1 view tests (this module holds no test): metrics, figures, decided cases,
the metric form's POST data."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from metrics.models import Metric
from metrics.services import MetricDetails, define_metric, record_measurement
from pilots.models import Case

BERLIN = ZoneInfo("Europe/Berlin")  # the team's workspace time zone (tests/factories.py)


def today() -> date:
    """Today in the team's workspace, as the views see it."""
    return timezone.now().astimezone(BERLIN).date()


def define(team, *, pilot=None, **changes) -> Metric:
    """A cycle time metric from 6.2 to 2 days, started 60 days ago, due in 60 days (half the time gone)."""
    start = today() - timedelta(days=60)
    base = {
        "name": "Claim cycle time",
        "kind": "cycle_time",
        "baseline": 6.2,
        "baseline_on": start,
        "target": 2.0,
        "target_date": start + timedelta(days=120),
        "owner": team.pm,
    }
    return define_metric(pilot=pilot or team.pilot, actor=team.pm, details=MetricDetails(**(base | changes)))


def measure(team, metric: Metric, *values: float, every_days: int = 7) -> None:
    """Record these figures by hand, the last one today, the others `every_days` apart before it."""
    for i, value in enumerate(values):
        on = today() - timedelta(days=every_days * (len(values) - 1 - i))
        record_measurement(metric=metric, actor=team.pm, value=value, on=on)


def form_data(**changes) -> dict:
    """The metric form's POST data for a valid cycle time metric."""
    start = today() - timedelta(days=30)
    data = {
        "kind": "cycle_time",
        "name": "Claim cycle time",
        "unit": "",
        "direction": "lower",
        "outcome": "",
        "baseline": "6.2",
        "baseline_on": start.isoformat(),
        "baseline_source": "ERP report Q4",
        "target": "2",
        "target_date": (start + timedelta(days=180)).isoformat(),
        "method": "manual",
    }
    return data | {k: str(v) for k, v in changes.items()}


def decided_case(pilot, n: int, *, decided_at: datetime, hours: float, corrected: bool = False) -> Case:
    """A case decided at `decided_at`, `hours` after it was received."""
    return Case.objects.create(
        pilot=pilot,
        external_id=f"C-{n}",
        source="api",
        received_at=decided_at - timedelta(hours=hours),
        decided_at=decided_at,
        corrected=corrected,
        touchpoints=2,
        digest=f"digest-{n}",
    )


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=BERLIN)
