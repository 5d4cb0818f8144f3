"""Step 2: the case list and a case's page, the intake form, and the inputs panel of the pilot page."""

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from pilots import access, selectors
from pilots.forms.cases import CaseIntakeForm, ThresholdForm, threshold_percent
from pilots.htmx import swaps_part
from pilots.models import AuditEvent, Case, InputStandard, Pilot
from pilots.selectors import CaseFilters
from pilots.services import intake

PAGE_SIZE = 50
PROBLEM_KINDS = list(Case.PROBLEM_FLAGS)
KIND_LABELS = {kind: kind.replace("_", " ") for kind in PROBLEM_KINDS}


@require_GET
def case_list(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    filters = CaseFilters(
        **{name: request.GET.get(name, "").strip()[:200] for name in CaseFilters.__dataclass_fields__}
    )
    cases = selectors.case_list(pilot, filters).defer("problems")
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "pilot": pilot,
        "workspace": pilot.workspace,
        "can": access.allowed_actions(pilot.workspace.membership, pilot),
        "page": page,
        "filters": filters,
        "query": query.urlencode(),
        "filtered": any(getattr(filters, name) for name in CaseFilters.__dataclass_fields__),
    }
    if swaps_part(request):
        return TemplateResponse(request, "pilots/case_list.html#case-table", context)
    context |= {
        "kinds": KIND_LABELS.items(),
        "sources": Case.Source.choices,
        "standard_versions": list(selectors.standards_of(pilot).values_list("version", flat=True)),
        "ai_versions": list(selectors.ai_versions_of(pilot).values_list("id", "identifier")),
    }
    return TemplateResponse(request, "pilots/case_list.html", context)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@dataclass
class ValueRow:
    name: str
    label: str
    value: str
    declared: bool
    required: bool
    problems: list[dict]


def _value_rows(values: dict, declared: list[dict], prefix: str, problems: list[dict]) -> list[ValueRow]:
    """The fields of the standard in its order, then whatever else the case carries."""
    by_field: dict[str, list[dict]] = {}
    for problem in problems:
        by_field.setdefault(problem.get("field", ""), []).append(problem)
    rows = [
        ValueRow(
            name=field["name"],
            label=field.get("label") or field["name"],
            value=_shown(values.get(field["name"])),
            declared=True,
            required=bool(field.get("required")),
            problems=by_field.get(f"{prefix}.{field['name']}", []),
        )
        for field in declared
    ]
    known = {field["name"] for field in declared}
    rows += [
        ValueRow(
            name=name,
            label=name,
            value=_shown(value),
            declared=False,
            required=False,
            problems=by_field.get(f"{prefix}.{name}", []),
        )
        for name, value in values.items()
        if name not in known
    ]
    return rows


@require_GET
def case_detail(request: HttpRequest, pilot_id: int, case_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    case = get_object_or_404(Case.objects.select_related("ai_version", "upload"), pk=case_id, pilot=pilot)
    standard = (
        InputStandard.objects.filter(pilot=pilot, version=case.standard_version).first()
        if case.standard_version
        else None
    )
    problems = [{**p, "label": KIND_LABELS.get(p.get("kind"), p.get("kind"))} for p in case.problems]
    context = {
        "pilot": pilot,
        "workspace": pilot.workspace,
        "can": access.allowed_actions(pilot.workspace.membership, pilot),
        "case": case,
        "standard": standard,
        "problems": problems,
        "input_rows": _value_rows(case.inputs, standard.inputs if standard else [], "inputs", problems),
        "output_rows": _value_rows(case.outputs, standard.outputs if standard else [], "outputs", problems),
        "kinds": [(k, KIND_LABELS[k]) for k, flag in Case.PROBLEM_FLAGS.items() if getattr(case, flag)],
        "upload": case.upload,
        "events": AuditEvent.objects.filter(
            workspace=pilot.workspace, object_type="pilots.case", object_id=str(case.pk)
        ).order_by("at", "id"),
    }
    return TemplateResponse(request, "pilots/case_detail.html", context)


def _stored_message(external_id: str, outcome: str, problems: int) -> str:
    found = f" with {problems} problem{'s' if problems != 1 else ''}" if problems else ""
    if outcome == "unchanged":
        return f"Case {external_id} was stored already with the same content; nothing changed."
    verb = "updated" if outcome == "updated" else "stored"
    if problems:
        return f"Case {external_id} {verb}{found}: it is kept as evidence, its problems are listed below."
    return f"Case {external_id} {verb}; it conforms to the standard."


@require_http_methods(["GET", "POST"])
def case_create(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="add_cases")
    standard = selectors.standards_of(pilot).first()
    context: dict[str, Any] = {"pilot": pilot, "workspace": pilot.workspace, "standard": standard}
    if standard is None:
        status = 422 if request.method == "POST" else 200
        return TemplateResponse(request, "pilots/case_form.html", context, status=status)
    form = CaseIntakeForm(
        request.POST if request.method == "POST" else None,
        standard=standard,
        ai_versions=list(selectors.ai_versions_of(pilot)),
    )
    if request.method == "POST" and form.is_valid():
        arrival = form.arrival()
        result = intake.ingest(pilot=pilot, arrivals=[arrival], source=Case.Source.FORM, actor=request.user)
        outcome = result.outcomes.get(arrival.external_id, "rejected")
        if result.rejected:
            form.add_error("external_id", result.rejected[0][1])
        elif outcome == "conflict":
            form.add_error(
                "external_id",
                f"Case {arrival.external_id} is decided already; a decided case is not overwritten. "
                "Use another id for a new case.",
            )
        else:
            case = Case.objects.only("pk", "problems").get(pilot=pilot, external_id=arrival.external_id)
            message = _stored_message(arrival.external_id, outcome, len(case.problems))
            (messages.warning if case.problems else messages.success)(request, message)
            return redirect("case_detail", pilot_id=pilot.pk, case_id=case.pk)
    context["form"] = form
    return TemplateResponse(request, "pilots/case_form.html", context, status=422 if form.errors else 200)


# The inputs panel of the pilot page: conformance over 30 days and a chart per ISO week.

CHART = {"width": 600, "height": 230, "left": 46, "right": 14, "top": 14, "bottom": 40}
CHART_WEEKS = 12


@dataclass
class ChartPoint:
    week: date
    label: str
    x: str
    total: int
    conforming: int
    share: float | None
    y: str | None
    kinds: dict[str, int]


def _coordinate(value: float) -> str:
    """SVG coordinates as plain text, so no locale's decimal comma can creep into the drawing."""
    return f"{value:.1f}"


def _y(share: float) -> str:
    plot = CHART["height"] - CHART["top"] - CHART["bottom"]
    return _coordinate(CHART["top"] + (1 - share) * plot)


def conformance_chart(pilot: Pilot, weeks: list) -> dict:
    """The geometry of a server-rendered SVG: one slot per ISO week (the last 12, this one included),
    the share of conforming cases as a line (broken where a week has no case), the threshold dashed."""
    zone = pilot.workspace.zone
    today = timezone.localdate(timezone=zone)
    monday = today - timedelta(days=today.weekday())
    starts = [monday - timedelta(weeks=CHART_WEEKS - 1 - i) for i in range(CHART_WEEKS)]
    by_start = {week.start: week for week in weeks}
    plot_width = CHART["width"] - CHART["left"] - CHART["right"]
    slot = plot_width / CHART_WEEKS
    points = []
    for i, start in enumerate(starts):
        week = by_start.get(start)
        share = week.share if week else None
        points.append(
            ChartPoint(
                week=start,
                label=f"W{start.isocalendar().week}",
                x=_coordinate(CHART["left"] + (i + 0.5) * slot),
                total=week.total if week else 0,
                conforming=week.conforming if week else 0,
                share=share,
                y=_y(share) if share is not None else None,
                kinds=week.kinds if week else dict.fromkeys(PROBLEM_KINDS, 0),
            )
        )
    lines, current = [], []
    for point in points:
        if point.y is None:
            if current:
                lines.append(current)
            current = []
        else:
            current.append(f"{point.x},{point.y}")
    if current:
        lines.append(current)
    measured = [p for p in points if p.share is not None]
    threshold = pilot.conformance_threshold
    if measured:
        first, last = measured[0], measured[-1]
        below = sum(1 for p in measured if p.share < threshold)
        description = (
            "Share of cases conforming to the input standard per ISO week over the last "
            f"{CHART_WEEKS} weeks: "
            f"{first.share:.0%} in {first.label}, {last.share:.0%} in {last.label}; "
            f"{below} of {len(measured)} week(s) with cases below the {threshold:.0%} threshold."
        )
    else:
        description = f"No case arrived in the last {CHART_WEEKS} weeks."
    return {
        **CHART,
        "plot_right": CHART["width"] - CHART["right"],
        "plot_bottom": CHART["height"] - CHART["bottom"],
        "label_y": CHART["height"] - CHART["bottom"] + 16,
        "center_x": _coordinate(CHART["left"] + (CHART["width"] - CHART["left"] - CHART["right"]) / 2),
        "center_y": _coordinate(CHART["top"] + (CHART["height"] - CHART["top"] - CHART["bottom"]) / 2),
        "points": points,
        "lines": [" ".join(line) for line in lines if len(line) > 1],
        "threshold": threshold,
        "threshold_y": _y(threshold),
        "grid": [{"share": s, "y": _y(s), "label": f"{s:.0%}"} for s in (0, 0.25, 0.5, 0.75, 1)],
        "description": description,
        "has_data": bool(measured),
    }


@require_GET
def inputs_panel(request: HttpRequest, pilot_id: int) -> HttpResponse:
    """The pilot page's inputs panel alone (refreshed when cases arrive from the page)."""
    pilot = access.pilot_for(request.user, pilot_id)
    context = {
        "pilot": pilot,
        "can": access.allowed_actions(pilot.workspace.membership, pilot),
        **inputs_panel_context(pilot),
    }
    return TemplateResponse(request, "pilots/_inputs_panel.html", context)


def inputs_panel_context(pilot: Pilot) -> dict:
    """What the inputs panel shows (four queries, whatever the number of cases)."""
    summary = selectors.conformance_summary(pilot)
    summary["kind_rows"] = [(kind, KIND_LABELS[kind], summary["kinds"][kind]) for kind in PROBLEM_KINDS]
    return {
        "inputs_standard": InputStandard.objects.filter(pilot=pilot)
        .order_by("-version")
        .only("version", "published_at", "pilot_id")
        .first(),
        "conformance": summary,
        "top_fields": selectors.top_failing_fields(pilot),
        "chart": conformance_chart(pilot, selectors.conformance_by_week(pilot, weeks=CHART_WEEKS)),
        "threshold_form": ThresholdForm.for_pilot(pilot, next_url=reverse("pilot_detail", args=[pilot.pk])),
        "threshold_percent": threshold_percent(pilot),
    }
