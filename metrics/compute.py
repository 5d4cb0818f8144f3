"""Computed metrics: the figures DESIGN.md defines once, per pilot and ISO week, from the pilot's cases.

cycle time = decided_at − event_at (received_at where a case has no event time); error rate =
correction rate = corrected ÷ decided; touchpoints = mean per decided case; spend = sum of cost.
A case counts in the ISO week (workspace time zone) in which it was decided. External spend is shown
as a monthly run rate (the week's spend × 52 ÷ 12), since spend targets are stated per month.

Set-based: one GROUP BY over the cases per workspace time zone gives every figure of every pilot and
week; the measurements are then replaced in one write. No query per pilot.
"""

from collections import defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from metrics.models import BUSINESS_KINDS, Kind, Measurement, Method, Metric
from pilots.models import Case, Pilot

MONTHLY = 52 / 12
FIGURE_KINDS = tuple(BUSINESS_KINDS)


def week_figures(pilot_ids: list[int] | None) -> dict[tuple[int, date], dict]:
    """(pilot id, Monday) → decided, corrected, touchpoints, cost, cycle (timedelta), for decided cases."""
    zones = Pilot.objects.values_list("workspace__timezone", flat=True).distinct()
    if pilot_ids is not None:
        zones = zones.filter(id__in=pilot_ids)
    figures: dict[tuple[int, date], dict] = {}
    cycle = ExpressionWrapper(
        F("decided_at") - Coalesce("event_at", "received_at"), output_field=DurationField()
    )
    for zone_name in zones:
        zone = ZoneInfo(zone_name)
        cases = Case.objects.filter(decided_at__isnull=False, pilot__workspace__timezone=zone_name)
        if pilot_ids is not None:
            cases = cases.filter(pilot_id__in=pilot_ids)
        rows = (
            cases.annotate(week=TruncWeek("decided_at", tzinfo=zone))
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
            week = row["week"]
            monday = week.astimezone(zone).date() if hasattr(week, "astimezone") else week
            figures[(row["pilot_id"], monday)] = row
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
        return float(row["cost"] or 0) * MONTHLY
    return None


@transaction.atomic
def recompute(pilot_ids: list[int] | None = None) -> int:
    """Replace the computed measurements of every computed metric (of these pilots); returns how many."""
    metrics = Metric.objects.filter(method=Method.FROM_CASES, kind__in=FIGURE_KINDS)
    if pilot_ids is not None:
        metrics = metrics.filter(pilot_id__in=pilot_ids)
    by_pilot: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for metric_id, pilot_id, kind, unit in metrics.values_list("id", "pilot_id", "kind", "unit"):
        by_pilot[pilot_id].append((metric_id, kind, unit))
    if not by_pilot:
        return 0
    rows = []
    for (pilot_id, monday), row in week_figures(pilot_ids if pilot_ids is not None else None).items():
        for metric_id, kind, unit in by_pilot.get(pilot_id, ()):
            value = figure(kind, unit, row)
            if value is not None:
                rows.append((metric_id, round(value, 6), monday, row["decided"]))
    Measurement.objects.filter(metric__in=metrics, source=Measurement.Source.COMPUTED).delete()
    _write(rows)
    return len(rows)


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
