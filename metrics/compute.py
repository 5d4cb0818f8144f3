"""Computed metrics: the figures DESIGN.md defines once, per pilot and ISO week, from the pilot's cases.

cycle time = decided_at − event_at (received_at where a case has no event time); error rate =
correction rate = corrected ÷ decided; touchpoints = mean per decided case; spend = sum of cost.
A case counts in the ISO week (workspace time zone) in which it was decided. External spend is shown
as a monthly run rate (the week's spend × 52 ÷ 12), since spend targets are stated per month.

Set-based: one GROUP BY over the cases per workspace time zone gives every figure of every pilot and
week; the measurements are then replaced in one write. No query per pilot.
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, DateField, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from metrics.models import BUSINESS_KINDS, Kind, Measurement, Method, Metric
from pilots.models import Case, Pilot
from pilots.services import readiness

MONTHLY = 52 / 12
FIGURE_KINDS = tuple(BUSINESS_KINDS)


def week_figures(pilot_ids: list[int] | None) -> dict[tuple[int, date], dict]:
    """(pilot id, Monday) → decided, corrected, touchpoints, cost, cycle (timedelta), for decided cases.

    Only whole weeks count: the current, unfinished week would make the latest figure jump by weekday.
    """
    pilots = Pilot.objects.order_by()  # no default ordering: it would end up inside the DISTINCT
    if pilot_ids is not None:
        pilots = pilots.filter(id__in=pilot_ids)
    zones = list(pilots.values_list("workspace__timezone", flat=True).distinct())
    figures: dict[tuple[int, date], dict] = {}
    cycle = ExpressionWrapper(
        F("decided_at") - Coalesce("event_at", "received_at"), output_field=DurationField()
    )
    for zone_name in zones:
        zone = ZoneInfo(zone_name)
        today = timezone.localtime(timezone.now(), zone).date()
        this_monday = datetime.combine(today - timedelta(days=today.weekday()), time.min, tzinfo=zone)
        cases = Case.objects.filter(decided_at__isnull=False, decided_at__lt=this_monday)
        if len(zones) > 1:  # with one time zone in play, no join is needed to pick its pilots
            cases = cases.filter(pilot__workspace__timezone=zone_name)
        if pilot_ids is not None:
            cases = cases.filter(pilot_id__in=pilot_ids)
        rows = (
            # Truncated to a date in SQL: no aware datetime to build per row in Python.
            cases.annotate(week=TruncWeek("decided_at", tzinfo=zone, output_field=DateField()))
            .values("pilot_id", "week")
            .annotate(
                decided=Count("id"),
                corrected=Count("id", filter=Q(corrected=True)),
                touchpoints=Sum("touchpoints"),
                cost=Sum("cost"),
                cycle=Sum(cycle),
            )
        )
        for row in rows:
            figures[(row["pilot_id"], row["week"])] = row
    return figures


def figure(kind: str, unit: str, row: dict) -> float | None:
    decided = row["decided"]
    if not decided:
        return None
    if kind == Kind.CYCLE_TIME:
        seconds = row["cycle"].total_seconds() / decided if row["cycle"] is not None else None
        if seconds is None:
            return None
        return seconds / 3600 if unit.lower().startswith("hour") else seconds / 86400
    if kind == Kind.ERROR_RATE:
        return 100 * row["corrected"] / decided
    if kind == Kind.TOUCHPOINTS:
        return (row["touchpoints"] or 0) / decided
    if kind == Kind.EXTERNAL_SPEND:
        # No cost recorded is no figure, not a spend of zero.
        return float(row["cost"]) * MONTHLY if row["cost"] is not None else None
    return None


@transaction.atomic
def recompute(pilot_ids: list[int] | None = None) -> int:
    """Bring the computed measurements of every computed metric (of these pilots) up to date with the
    cases; returns how many weekly figures there are. Only figures that changed are rewritten: the
    periodic run mostly finds last weeks' figures as they were."""
    metrics = Metric.objects.filter(method=Method.FROM_CASES, kind__in=FIGURE_KINDS)
    if pilot_ids is not None:
        metrics = metrics.filter(pilot_id__in=pilot_ids)
    by_pilot: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for metric_id, pilot_id, kind, unit in metrics.values_list("id", "pilot_id", "kind", "unit"):
        by_pilot[pilot_id].append((metric_id, kind, unit))
    if not by_pilot:
        return 0
    fresh: dict[tuple[int, date], tuple[float, int]] = {}
    for (pilot_id, monday), row in week_figures(pilot_ids).items():
        for metric_id, kind, unit in by_pilot.get(pilot_id, ()):
            value = figure(kind, unit, row)
            if value is not None:
                fresh[(metric_id, monday)] = (round(value, 6), row["decided"])
    computed = Measurement.objects.filter(metric__in=metrics, source=Measurement.Source.COMPUTED)
    stored = {
        (metric_id, on): (pk, value, cases)
        for pk, metric_id, on, value, cases in computed.values_list("id", "metric_id", "on", "value", "cases")
    }
    stale = [pk for key, (pk, value, cases) in stored.items() if fresh.get(key) != (value, cases)]
    if len(stale) > len(stored) // 2:
        computed.delete()  # most figures changed: clearing them all is one cheap statement
        missing = fresh
    else:
        Measurement.objects.filter(id__in=stale).delete()
        missing = {key: figures for key, figures in fresh.items() if stored.get(key, (None,))[1:] != figures}
    _write([(metric_id, value, monday, cases) for (metric_id, monday), (value, cases) in missing.items()])
    # New figures move attainment and the value checks: their pilots' readiness is out of date.
    pilot_of = {metric_id: pilot_id for pilot_id, rows in by_pilot.items() for metric_id, _k, _u in rows}
    removed = set(stale)
    changed = {metric_id for metric_id, _monday in missing} | {
        metric_id for (metric_id, _on), (pk, _v, _c) in stored.items() if pk in removed
    }
    readiness.mark_dirty(pilot_ids={pilot_of[m] for m in changed if m in pilot_of})
    return len(fresh)


def _write(rows: list[tuple[int, float, date, int]]) -> None:
    if connection.vendor == "postgresql":
        table = Measurement._meta.db_table
        with (
            connection.cursor() as cursor,
            cursor.copy(
                f'COPY {table} (metric_id, value, "on", cases, source, note, created_at) FROM STDIN'
            ) as copy,
        ):
            now = timezone.now()
            for metric_id, value, monday, cases in rows:
                copy.write_row((metric_id, value, monday, cases, Measurement.Source.COMPUTED, "", now))
        return
    Measurement.objects.bulk_create(
        (
            Measurement(metric_id=m, value=v, on=d, cases=c, source=Measurement.Source.COMPUTED)
            for m, v, d, c in rows
        ),
        batch_size=1000,
    )


def week_bounds(monday: date) -> tuple[date, date]:
    return monday, monday + timedelta(days=6)
