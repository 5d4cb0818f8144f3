"""The pilot's metrics: the list, the panel of the pilot page, and the form that defines or edits one."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from metrics import services
from metrics.charts import trend_chart
from metrics.forms import MetricForm, kind_defaults
from metrics.models import Kind, Measurement, Metric
from metrics.views.common import headline, metric_rows
from pilots import access
from pilots.models import Pilot
from pilots.views.errors import add_errors


@require_GET
def metric_list(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    rows = metric_rows(pilot, today=timezone.localdate())
    context = {
        "pilot": pilot,
        "workspace": pilot.workspace,
        "can": access.allowed_actions(pilot.workspace.membership, pilot),
        "rows": rows,
        "vanity_count": sum(1 for row in rows if row.metric.vanity_warning),
    }
    return TemplateResponse(request, "metrics/metric_list.html", context)


@require_GET
def metric_panel(request: HttpRequest, pilot_id: int) -> HttpResponse:
    """The metrics panel of the pilot page (loaded by htmx once the page is shown): the headline
    metric's attainment and trend, then the others' status."""
    pilot = access.pilot_for(request.user, pilot_id)
    today = timezone.localdate()
    rows = metric_rows(pilot, today=today)
    lead = headline(rows)
    chart = None
    if lead is not None:
        measurements = list(Measurement.objects.filter(metric=lead.metric).order_by("on", "id"))
        chart = trend_chart(lead.metric, measurements, attainment=lead.attainment, today=today, compact=True)
    context = {
        "pilot": pilot,
        "can": access.allowed_actions(pilot.workspace.membership, pilot),
        "lead": lead,
        "others": [row for row in rows if row is not lead],
        "chart": chart,
        "chart_id": "panel-chart",
        "vanity_count": sum(1 for row in rows if row.metric.vanity_warning),
    }
    return TemplateResponse(request, "metrics/_panel.html#panel", context)


def _form_page(
    request: HttpRequest, pilot: Pilot, form: MetricForm, metric: Metric | None = None
) -> HttpResponse:
    context = {"pilot": pilot, "workspace": pilot.workspace, "form": form, "metric": metric}
    if request.method == "GET" and request.htmx and "kind" in request.GET:
        # Choosing a kind: htmx swaps in the fields that depend on it, filled with its defaults.
        return TemplateResponse(request, "metrics/metric_form.html#kind-fields", context)
    return TemplateResponse(request, "metrics/metric_form.html", context, status=422 if form.errors else 200)


def _initial_from_kind(request: HttpRequest, pilot: Pilot, initial: dict) -> dict:
    """`?kind=…` (htmx on choosing a kind, or a plain link) pre-fills that kind's unit and direction,
    keeping whatever else was typed."""
    kind = request.GET.get("kind", "")
    if kind not in Kind.values:
        return initial
    typed = {name: request.GET.get(name, "")[:300] for name in ("unit", "direction", "method", "outcome")}
    defaults = kind_defaults(
        kind,
        pilot.workspace.currency,
        unit=typed["unit"] if "unit" in request.GET else str(initial.get("unit", "")),
        direction=typed["direction"] or str(initial.get("direction", "")),
        method=typed["method"] or str(initial.get("method", "")),
    )
    if "outcome" in request.GET:
        defaults["outcome"] = typed["outcome"]
    return initial | defaults


@require_http_methods(["GET", "POST"])
def metric_create(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="edit_metrics")
    if request.method == "GET":
        initial = _initial_from_kind(
            request, pilot, kind_defaults("cycle_time", pilot.workspace.currency) | {"owner": request.user.pk}
        )
        return _form_page(request, pilot, MetricForm(pilot=pilot, initial=initial))
    form = MetricForm(request.POST, pilot=pilot)
    if form.is_valid():
        try:
            metric = services.define_metric(pilot=pilot, actor=request.user, details=form.details())
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Metric “{metric.name}” defined.")
            if metric.vanity_warning:
                messages.warning(request, metric.vanity_warning)
            return redirect("metric_detail", pilot_id=pilot.pk, metric_id=metric.pk)
    return _form_page(request, pilot, form)


@require_http_methods(["GET", "POST"])
def metric_edit(request: HttpRequest, pilot_id: int, metric_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="edit_metrics")
    metric = get_object_or_404(Metric.objects.select_related("pilot__workspace"), pk=metric_id, pilot=pilot)
    if request.method == "GET":
        form = MetricForm.for_metric(metric)
        form.initial = _initial_from_kind(request, pilot, form.initial)
        return _form_page(request, pilot, form, metric)
    form = MetricForm(request.POST, pilot=pilot)
    if form.is_valid():
        try:
            metric = services.update_metric(metric=metric, actor=request.user, details=form.details())
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Metric “{metric.name}” saved.")
            if metric.vanity_warning:
                messages.warning(request, metric.vanity_warning)
            return redirect("metric_detail", pilot_id=pilot.pk, metric_id=metric.pk)
    return _form_page(request, pilot, form, metric)
