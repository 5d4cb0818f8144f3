"""A metric's page: its trend chart, its attainment and its measurements; adding, importing and
recomputing figures. Each write answers htmx with the refreshed trend (chart and table) and the event
`measurementsChanged`, on which the attainment block reloads itself."""

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from metrics import services
from metrics.charts import quantity, trend_chart
from metrics.compute import week_bounds
from metrics.forms import ImportForm, MeasurementForm
from metrics.models import Measurement, Method, Metric
from metrics.tasks import recompute_metrics
from metrics.views.common import row_for
from pilots import access
from pilots.models import Pilot
from pilots.services.queue import enqueue_on_commit
from pilots.views.errors import add_errors

EVENT = "measurementsChanged"


@dataclass
class TableRow:
    measurement: Measurement
    text: str
    cases_url: str


def _metric(pilot: Pilot, metric_id: int) -> Metric:
    """The metric, only among this pilot's: another pilot's metric is a 404 even in the same workspace."""
    metric = get_object_or_404(Metric.objects.select_related("owner"), pk=metric_id, pilot=pilot)
    metric.pilot = pilot
    return metric


def _cases_url(pilot: Pilot, monday: date) -> str:
    """The cases a weekly figure came from: those decided in that ISO week."""
    start, end = week_bounds(monday)
    query = urlencode({"decided_from": start.isoformat(), "decided_to": end.isoformat()})
    return f"{reverse('case_list', args=[pilot.pk])}?{query}"


def detail_context(request: HttpRequest, pilot: Pilot, metric: Metric, **extra) -> dict:
    measurements = list(metric.measurements.select_related("by").order_by("on", "id"))
    latest = measurements[-1] if measurements else None
    today = timezone.localdate()
    row = row_for(
        metric,
        today=today,
        latest_value=latest.value if latest else None,
        latest_on=latest.on if latest else None,
        count=len(measurements),
    )
    can = access.allowed_actions(pilot.workspace.membership, pilot)
    editable = "edit_metrics" in can
    manual = metric.method == Method.MANUAL
    context = {
        "pilot": pilot,
        "workspace": pilot.workspace,
        "metric": metric,
        "can": can,
        "row": row,
        "chart": trend_chart(metric, measurements, attainment=row.attainment, today=today),
        "chart_id": "metric-chart",
        "table": [
            TableRow(
                measurement=m,
                text=quantity(m.value, metric.unit),
                cases_url=_cases_url(pilot, m.on) if m.source == Measurement.Source.COMPUTED else "",
            )
            for m in reversed(measurements)
        ],
        "measurement_form": MeasurementForm(initial={"on": today}) if editable and manual else None,
        "import_form": ImportForm() if editable and manual else None,
        "may_recompute": editable and not manual,
    }
    return context | extra


def _trend(
    request: HttpRequest, pilot: Pilot, metric: Metric, *, status: int = 200, message: str = "", **extra
) -> HttpResponse:
    """After a write: htmx gets the refreshed trend and the event; a plain post is redirected to the
    metric's page (or shown the page with the errors)."""
    if status == 200 and not request.htmx:
        if message:
            messages.success(request, message)
        return redirect("metric_detail", pilot_id=pilot.pk, metric_id=metric.pk)
    context = detail_context(request, pilot, metric, trend_message=message, **extra)
    if request.htmx:
        response = TemplateResponse(request, "metrics/metric_detail.html#trend", context, status=status)
        if status == 200:
            trigger_client_event(response, EVENT)
        return response
    return TemplateResponse(request, "metrics/metric_detail.html", context, status=status)


@require_GET
def metric_detail(request: HttpRequest, pilot_id: int, metric_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    metric = _metric(pilot, metric_id)
    context = detail_context(request, pilot, metric)
    if request.htmx and request.htmx.target == "metric-attainment":
        return TemplateResponse(request, "metrics/metric_detail.html#attainment", context)
    if request.htmx and request.htmx.target == "metric-trend":
        # The trend reloads itself once after "Recompute now": the attainment follows it.
        response = TemplateResponse(request, "metrics/metric_detail.html#trend", context)
        return trigger_client_event(response, EVENT)
    return TemplateResponse(request, "metrics/metric_detail.html", context)


@require_POST
def measurement_add(request: HttpRequest, pilot_id: int, metric_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="edit_metrics")
    metric = _metric(pilot, metric_id)
    form = MeasurementForm(request.POST)
    if form.is_valid():
        on, value, note = (form.cleaned_data[name] for name in ("on", "value", "note"))
        # Return early: a repeated post (a double click, a resent form) must not record the figure twice.
        repeat = Measurement.objects.filter(
            metric=metric, source=Measurement.Source.MANUAL, on=on, value=value, note=note.strip()[:300]
        ).exists()
        if repeat:
            message = f"{quantity(value, metric.unit)} on {on} is recorded already."
            return _trend(request, pilot, metric, message=message)
        try:
            services.record_measurement(metric=metric, actor=request.user, value=value, on=on, note=note)
        except ValidationError as error:
            add_errors(form, error)
        else:
            return _trend(request, pilot, metric, message=f"{quantity(value, metric.unit)} on {on} recorded.")
    return _trend(request, pilot, metric, status=422, measurement_form=form)


@require_POST
def measurement_import(request: HttpRequest, pilot_id: int, metric_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="edit_metrics")
    metric = _metric(pilot, metric_id)
    form = ImportForm(request.POST, request.FILES)
    import_errors: list[str] = []
    if form.is_valid():
        try:
            count = services.import_measurements(metric=metric, actor=request.user, text=form.text)
        except ValidationError as error:
            import_errors = error.messages
        else:
            if count:
                message = f"{count} measurement{'s' if count != 1 else ''} imported."
            else:  # the service stores no row twice: the same file sent again
                rows, _errors = services.parse_measurements_csv(metric, form.text)
                rows_text = f"{len(rows)} row{'s' if len(rows) != 1 else ''}"
                message = f"Nothing imported: the {rows_text} of this file are recorded already."
            return _trend(request, pilot, metric, message=message)
    return _trend(request, pilot, metric, status=422, import_form=form, import_errors=import_errors)


@require_POST
def metric_recompute(request: HttpRequest, pilot_id: int, metric_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="edit_metrics")
    metric = _metric(pilot, metric_id)
    if metric.method != Method.FROM_CASES:
        error = "This metric is measured by hand: there is nothing to compute from the cases."
        return _trend(request, pilot, metric, status=422, recompute_error=error)
    # The task is idempotent (it replaces the pilot's computed figures), so a repeated click is harmless.
    enqueue_on_commit(recompute_metrics, [pilot.pk])
    message = "Recomputing from the pilot's decided cases; the weekly figures refresh in a moment."
    return _trend(request, pilot, metric, message=message, recomputing=True)
