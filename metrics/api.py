"""Step 1's part of the API: a pilot's business metrics and their measurements, so the system that knows
a figure can record it as it is measured. The same service as the metric page
(metrics.services.record_measurement); composed into /api/v1/ by config/api.py."""

from datetime import date

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict, FiniteFloat

from metrics.models import Measurement, Metric
from metrics.services import record_measurement
from pilots import access
from pilots.api_support import Text, field_error, member_of, pilot_of, refusal_of
from pilots.models import Pilot

router = Router(tags=["metrics"])
ROUTERS = [("/pilots", router)]


class MetricOut(Schema):
    id: int
    name: str
    kind: str
    unit: str
    direction: str
    baseline: float
    baseline_on: date
    target: float
    target_date: date
    method: str = Field(description="manual (takes measurements) or from_cases (computed)")


class MeasurementIn(Schema):
    model_config = ConfigDict(extra="forbid")

    on: date = Field(description="The day the figure was measured (not in the future)")
    value: FiniteFloat
    note: Text = Field(default="", max_length=300)
    by: Text | None = Field(
        default=None, max_length=150, description="The user name of the member who measured it, if any"
    )


class MeasurementOut(Schema):
    id: int
    on: date
    value: float
    note: str
    source: str = Field(description="manual, import or computed")
    by: str | None
    cases: int | None = Field(description="computed figures: how many cases the figure is from")


class MeasurementFilters(Schema):
    since: date | None = Field(default=None, description="measured on or after this day")
    until: date | None = Field(default=None, description="measured on or before this day")


def _metric_of(pilot: Pilot, metric_id: int) -> Metric:
    metric = Metric.objects.filter(pk=metric_id, pilot=pilot).first()
    if metric is None:
        raise field_error(404, ["path", "metric_id"], "The pilot has no such metric.")
    metric.pilot = pilot
    return metric


def _measurement(measurement: Measurement) -> dict:
    return {
        "id": measurement.pk,
        "on": measurement.on,
        "value": measurement.value,
        "note": measurement.note,
        "source": measurement.source,
        "by": measurement.by.username if measurement.by_id else None,
        "cases": measurement.cases,
    }


@router.get("/{pilot_id}/metrics", response=list[MetricOut], summary="The pilot's metrics")
def list_metrics(request: HttpRequest, pilot_id: int):
    pilot = pilot_of(request, pilot_id)
    return list(Metric.objects.filter(pilot=pilot).order_by("name", "id"))


@router.post(
    "/{pilot_id}/metrics/{metric_id}/measurements",
    response={201: MeasurementOut},
    summary="Record a measurement of a metric",
    description=(
        "Only a metric measured by hand takes measurements. The same figure on the same day with the same "
        "note is recorded once. `by`, when given, must be a member who may edit the pilot's metrics."
    ),
)
def create_measurement(request: HttpRequest, pilot_id: int, metric_id: int, body: MeasurementIn):
    pilot = pilot_of(request, pilot_id)
    metric = _metric_of(pilot, metric_id)
    member = member_of(request, body.by, field="by")
    if member is not None and not access.grants(member.membership, "edit_metrics", pilot):
        raise field_error(403, ["body", "by"], f"“{body.by}” may not record this pilot's measurements.")
    try:
        measurement = record_measurement(
            metric=metric, actor=member, value=body.value, on=body.on, note=body.note
        )
    except ValidationError as error:
        raise refusal_of(error) from error
    return Status(201, _measurement(measurement))


@router.get(
    "/{pilot_id}/metrics/{metric_id}/measurements",
    response=list[MeasurementOut],
    summary="A metric's measurements, oldest first",
)
def list_measurements(
    request: HttpRequest, pilot_id: int, metric_id: int, filters: Query[MeasurementFilters]
):
    metric = _metric_of(pilot_of(request, pilot_id), metric_id)
    measurements = Measurement.objects.filter(metric=metric).select_related("by").order_by("on", "id")
    if filters.since is not None:
        measurements = measurements.filter(on__gte=filters.since)
    if filters.until is not None:
        measurements = measurements.filter(on__lte=filters.until)
    return [_measurement(m) for m in measurements]
