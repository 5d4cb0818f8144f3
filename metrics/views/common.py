"""What the metric pages share: each metric with its latest figure and attainment, read in one query."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, OuterRef, QuerySet, Subquery

from metrics.attainment import Attainment
from metrics.charts import quantity
from metrics.models import Measurement, Metric
from pilots.models import Pilot


@dataclass
class MetricRow:
    metric: Metric
    latest_value: float | None
    latest_on: date | None
    measurements: int
    attainment: Attainment

    @property
    def baseline_text(self) -> str:
        return quantity(self.metric.baseline, self.metric.unit)

    @property
    def target_text(self) -> str:
        return quantity(self.metric.target, self.metric.unit)

    @property
    def latest_text(self) -> str:
        return quantity(self.latest_value, self.metric.unit)

    @property
    def progress_text(self) -> str:
        progress = self.attainment.progress
        return "–" if progress is None else f"{progress:.0%}"

    @property
    def expected_text(self) -> str:
        return f"{self.attainment.expected:.0%}"

    @property
    def bar(self) -> int:
        """The width of the attainment bar in percent: 0 at the baseline (or worse), 100 at the target."""
        progress = self.attainment.progress
        return 0 if progress is None else round(min(1.0, max(0.0, progress)) * 100)

    @property
    def expected_bar(self) -> int:
        return round(self.attainment.expected * 100)

    @property
    def beyond_target(self) -> bool:
        return self.attainment.progress is not None and self.attainment.progress > 1

    @property
    def worse_than_baseline(self) -> bool:
        return self.attainment.progress is not None and self.attainment.progress < 0


def with_latest(metrics: QuerySet[Metric]) -> QuerySet[Metric]:
    """Each metric with its latest figure (by date, then entry) and its number of measurements."""
    latest = Measurement.objects.filter(metric=OuterRef("pk")).order_by("-on", "-id")
    return metrics.select_related("owner").annotate(
        latest_value=Subquery(latest.values("value")[:1]),
        latest_on=Subquery(latest.values("on")[:1]),
        measurement_count=Count("measurements"),
    )


def row_for(metric: Metric, *, today: date, latest_value=None, latest_on=None, count=None) -> MetricRow:
    value = getattr(metric, "latest_value", None) if latest_value is None else latest_value
    return MetricRow(
        metric=metric,
        latest_value=value,
        latest_on=getattr(metric, "latest_on", None) if latest_on is None else latest_on,
        measurements=getattr(metric, "measurement_count", 0) if count is None else count,
        attainment=metric.attainment(value, today=today),
    )


def metric_rows(pilot: Pilot, *, today: date) -> list[MetricRow]:
    """Every metric of the pilot with its attainment: one query, whatever the number of metrics."""
    metrics = with_latest(Metric.objects.filter(pilot=pilot)).order_by("created_at", "id")
    return [row_for(metric, today=today) for metric in metrics]


def headline(rows: list[MetricRow]) -> MetricRow | None:
    """The metric the pilot page leads with: a business metric computed from cases, else a business
    metric, else the first defined; among equals the one defined first."""

    return min(rows, key=lambda row: row.metric.headline_rank) if rows else None
