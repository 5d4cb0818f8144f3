"""Step 4's correction pages: recording a correction on a case, the pilot's corrections (the unincorporated
backlog with its age, filters, classifying, bulk incorporation), the regression set with its JSON Lines and
CSV downloads, and the reason taxonomy editor.

Writes answer a plain post with a redirect and a message, and htmx with the refreshed fragment; refused
input comes back with status 422 and each message on its field, nothing typed lost."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from exceptions.models import RuleTable
from feedback.forms import ClassifyForm, CorrectionForm, IncorporateForm, shown
from feedback.models import Correction, Target
from feedback.services import corrections as correction_services
from feedback.services import incorporation, taxonomy
from pilots import access
from pilots.htmx import swaps_part
from pilots.models import AIVersion, Case, InputStandard, Pilot
from pilots.views.errors import add_errors

PAGE_SIZE = 50
STATES = [("unincorporated", "Not incorporated yet"), ("incorporated", "Incorporated"), ("all", "All")]
DEFAULT_STATE = "unincorporated"
SOURCES = [("override", "Review override"), ("direct", "Recorded on the case")]
FILTER_NAMES = ("state", "reason", "field", "ai_version", "source")


# --- recording a correction on a case ------------------------------------------------------------------


def _correct_page(request: HttpRequest, pilot: Pilot, case: Case, form: CorrectionForm, *, status: int = 200):
    context = {"pilot": pilot, "workspace": pilot.workspace, "case": case, "form": form}
    if swaps_part(request):
        return TemplateResponse(request, "feedback/case_correct.html#correct-form", context, status=status)
    return TemplateResponse(request, "feedback/case_correct.html", context, status=status)


@require_http_methods(["GET", "POST"])
def case_correct(request: HttpRequest, pilot_id: int, case_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="record_correction")
    case = get_object_or_404(Case.objects.select_related("ai_version"), pk=case_id, pilot=pilot)
    case.pilot = pilot
    reasons = taxonomy.reasons(pilot)
    kwargs: dict[str, Any] = {
        "specs": correction_services.output_specs(case),
        "ai_outputs": case.outputs,
        "reasons": reasons,
        "refresh_url": reverse("case_correct", args=[pilot.pk, case.pk]),
    }
    if request.method == "GET":
        initial = {name: request.GET.get(name, "")[:5000] for name in ("field", "reason", "note")}
        return _correct_page(request, pilot, case, CorrectionForm(initial=initial, **kwargs))
    form = CorrectionForm(request.POST, **kwargs)
    if form.is_valid():
        data = form.cleaned_data
        try:
            correction = correction_services.record_correction(
                case=case,
                field=data["field"],
                corrected_value=data["corrected_value"],
                reason_code=data["reason"],
                note=data["note"],
                actor=request.user,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                f"Correction recorded on case {case.external_id}: {correction.field} "
                f"{shown(correction.ai_value) or '(empty)'} → {shown(correction.corrected_value)}.",
            )
            case_url = reverse("case_detail", args=[pilot.pk, case.pk])
            return HttpResponseClientRedirect(case_url) if request.htmx else redirect(case_url)
    return _correct_page(request, pilot, case, form, status=422)


# --- the corrections of a pilot --------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    state: str = DEFAULT_STATE
    reason: str = ""
    field: str = ""
    ai_version: str = ""
    source: str = ""


def filters_of(params: QueryDict) -> Filters:
    given = {name: params.get(name, "").strip()[:100] for name in FILTER_NAMES}
    if given["state"] not in dict(STATES):
        given["state"] = DEFAULT_STATE
    if given["source"] not in dict(SOURCES):
        given["source"] = ""
    if given["ai_version"] != "none" and not given["ai_version"].isdigit():
        given["ai_version"] = ""
    return Filters(**given)


def query_of(filters: Filters) -> str:
    """The filters that differ from the defaults, urlencoded (for the pager and the redirects)."""
    kept = QueryDict(mutable=True)
    for name in FILTER_NAMES:
        value = getattr(filters, name)
        if value and value != getattr(Filters, name):
            kept[name] = value
    return kept.urlencode()


def filtered(pilot: Pilot, filters: Filters) -> QuerySet[Correction]:
    found = Correction.objects.filter(pilot=pilot)
    if filters.state == "unincorporated":
        found = found.filter(incorporated_into="")
    elif filters.state == "incorporated":
        found = found.exclude(incorporated_into="")
    if filters.reason:
        found = found.filter(reason__code=filters.reason)
    if filters.field:
        found = found.filter(field=filters.field)
    if filters.ai_version == "none":
        found = found.filter(ai_version__isnull=True)
    elif filters.ai_version:
        found = found.filter(ai_version_id=int(filters.ai_version))
    if filters.source:
        found = found.filter(decision__isnull=filters.source == "direct")
    return found.select_related(
        "case", "reason", "ai_version", "into_ai_version", "into_standard", "into_rules", "incorporated_by"
    ).order_by("-at", "-id")


def days_text(span: timedelta | None) -> str:
    if span is None:
        return ""
    days = span.total_seconds() / 86400
    if days < 1:
        return "under a day"
    return f"{int(days)} day{'' if int(days) == 1 else 's'}"


def target_label(correction: Correction) -> str:
    """Where a correction went, without the model's __str__ (which reads the pilot once per row)."""
    into = correction.incorporated_into
    if into == Target.AI_VERSION and correction.into_ai_version:
        return f"AI version {correction.into_ai_version.identifier}"
    if into == Target.STANDARD and correction.into_standard:
        return f"input standard v{correction.into_standard.version}"
    if into == Target.RULES and correction.into_rules:
        return f"routing rules v{correction.into_rules.version}"
    return "the regression set" if into == Target.REGRESSION_SET else ""


@dataclass
class Row:
    correction: Correction
    age: str  # how long an unincorporated correction has waited
    took: str  # from correction to incorporation
    target: str
    ai_value: str
    corrected_value: str
    error: str = ""
    notice: str = ""


def rows_of(corrections, now: datetime, errors: dict[int, str] | None = None) -> list[Row]:
    errors = errors or {}
    return [
        Row(
            correction=c,
            age="" if c.incorporated else days_text(now - c.at),
            took=days_text(c.incorporated_at - c.at) if c.incorporated and c.incorporated_at else "",
            target=target_label(c),
            ai_value=shown(c.ai_value),
            corrected_value=shown(c.corrected_value),
            error=errors.get(c.pk, ""),
        )
        for c in corrections
    ]


@dataclass
class Summary:
    backlog: int
    oldest: str  # the age of the oldest unincorporated correction
    incorporated: int
    median_days: float | None


def summary_of(pilot: Pilot, now: datetime) -> Summary:
    """The backlog (count and oldest age) and the median time from correction to incorporation."""
    waiting = Q(incorporated_into="")
    done_at = Q(incorporated_at__isnull=False) & ~waiting
    figures = Correction.objects.filter(pilot=pilot).aggregate(
        backlog=Count("id", filter=waiting),
        oldest=Min("at", filter=waiting),
        incorporated=Count("id", filter=done_at),
    )
    done = figures["incorporated"]
    median = None
    if done:
        took = (
            Correction.objects.filter(done_at, pilot=pilot)
            .annotate(took=ExpressionWrapper(F("incorporated_at") - F("at"), output_field=DurationField()))
            .order_by("took", "id")
            .values_list("took", flat=True)
        )
        middle = list(took[(done - 1) // 2 : done // 2 + 1])
        if middle:
            median = sum(span.total_seconds() for span in middle) / len(middle) / 86400
    oldest = figures["oldest"]
    return Summary(
        backlog=figures["backlog"],
        oldest=days_text(now - oldest) if oldest else "",
        incorporated=done,
        median_days=median,
    )


def target_choices(pilot: Pilot, versions: list[AIVersion]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Where corrections may be incorporated, grouped for the select: "<kind>:<id>" or "regression_set"."""
    standards = InputStandard.objects.filter(pilot=pilot).order_by("-version").only("id", "version")
    tables = RuleTable.objects.filter(pilot=pilot).order_by("-version").only("id", "version")
    return [
        (Target.REGRESSION_SET.label, [(Target.REGRESSION_SET.value, "The regression set")]),
        (
            "AI versions",
            [
                (f"{Target.AI_VERSION}:{v.pk}", f"AI version {v.identifier} ({v.released_on})")
                for v in versions
            ],
        ),
        (
            "Input standard versions",
            [(f"{Target.STANDARD}:{s.pk}", f"Input standard v{s.version}") for s in standards],
        ),
        (
            "Routing rule versions",
            [(f"{Target.RULES}:{t.pk}", f"Routing rules v{t.version}") for t in tables],
        ),
    ]


def list_context(
    request: HttpRequest,
    pilot: Pilot,
    filters: Filters,
    *,
    form: IncorporateForm | None = None,
    row_errors: dict[int, str] | None = None,
    message: str = "",
) -> dict:
    now = timezone.now()
    reasons = taxonomy.reasons(pilot)
    versions = list(AIVersion.objects.filter(pilot=pilot).order_by("-released_on", "-id"))
    page = Paginator(filtered(pilot, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = query_of(filters)
    rows = rows_of(page.object_list, now, row_errors)
    return {
        "pilot": pilot,
        "workspace": pilot.workspace,
        "can": access.allowed_actions(pilot.workspace.membership, pilot),
        "filters": filters,
        "query": query,
        "filtered": bool(query),
        "page": page,
        "rows": rows,
        # The incorporate form shows when there is something to choose (or an error to show).
        "pickable": any(not row.correction.incorporated for row in rows) or bool(form and form.errors),
        "summary": summary_of(pilot, now),
        "reasons": reasons,
        "targets": target_choices(pilot, versions),
        "ai_versions": [(str(v.pk), v.identifier) for v in versions],
        "form": form or IncorporateForm(),
        "chosen": set(form.correction_ids) if form else set(),
        "message": message,
    }


def _list_page(request: HttpRequest, context: dict, *, status: int = 200) -> HttpResponse:
    if swaps_part(request):
        return TemplateResponse(request, "feedback/corrections.html#corrections-list", context, status=status)
    pilot = context["pilot"]
    context |= {
        "states": STATES,
        "sources": SOURCES,
        "fields": list(
            Correction.objects.filter(pilot=pilot)
            .values_list("field", flat=True)
            .distinct()
            .order_by("field")
        ),
    }
    return TemplateResponse(request, "feedback/corrections.html", context, status=status)


def _back_to_list(pilot: Pilot, filters: Filters) -> HttpResponse:
    query = query_of(filters)
    return redirect(reverse("corrections", args=[pilot.pk]) + (f"?{query}" if query else ""))


@require_GET
def corrections(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    return _list_page(request, list_context(request, pilot, filters_of(request.GET)))


def _posted_filters(request: HttpRequest) -> Filters:
    """The list's filters, sent back with a post (so the answer shows the list as it was)."""
    return filters_of(QueryDict(request.POST.get("query", "")[:1000]))


@require_POST
def incorporate(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="incorporate_corrections")
    filters = _posted_filters(request)
    form = IncorporateForm(request.POST)
    if form.is_valid():
        into, target_id = form.cleaned_data["target"]
        chosen = len(set(form.correction_ids))
        try:
            marked = incorporation.incorporate(
                pilot=pilot,
                correction_ids=form.correction_ids,
                into=into,
                target_id=target_id,
                actor=request.user,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            versions = list(AIVersion.objects.filter(pilot=pilot))
            labels = {value: label for _, group in target_choices(pilot, versions) for value, label in group}
            labels[Target.REGRESSION_SET.value] = "the regression set"
            where = labels.get(form.data.get("target", ""), "the chosen target")
            message = f"{marked} correction{'' if marked == 1 else 's'} marked as incorporated into {where}."
            if marked < chosen:
                message += (
                    f" {chosen - marked} had been incorporated already and keep their first incorporation."
                )
            if not request.htmx:
                messages.success(request, message)
                return _back_to_list(pilot, filters)
            return _list_page(request, list_context(request, pilot, filters, message=message))
    return _list_page(request, list_context(request, pilot, filters, form=form), status=422)


@require_POST
def classify(request: HttpRequest, pilot_id: int, correction_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    membership = pilot.workspace.membership
    # Whoever records corrections, and whoever incorporates them, may say why the AI was corrected.
    if not (
        access.grants(membership, "record_correction", pilot)
        or access.grants(membership, "incorporate_corrections", pilot)
    ):
        raise PermissionDenied("Your roles do not allow this on this pilot.")
    correction = get_object_or_404(Correction, pk=correction_id, pilot=pilot)
    filters = _posted_filters(request)
    form = ClassifyForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            correction = correction_services.classify(
                correction=correction, reason_code=form.cleaned_data["reason"], actor=request.user
            )
        except ValidationError as refused:
            error = " ".join(refused.messages)
    else:
        error = " ".join(form.errors["reason"])
    if not request.htmx:
        if not error:
            messages.success(
                request, f"Reason of the {correction.field} correction set to “{correction.reason}”."
            )
            return _back_to_list(pilot, filters)
        return _list_page(
            request, list_context(request, pilot, filters, row_errors={correction.pk: error}), status=422
        )
    found = filtered(pilot, Filters(state="all")).filter(pk=correction.pk)
    row = rows_of(found, timezone.now(), {correction.pk: error})[0]
    row.notice = "" if error else "Reason saved."
    context = {
        "pilot": pilot,
        "can": access.allowed_actions(membership, pilot),
        "row": row,
        "reasons": taxonomy.reasons(pilot),
        "query": query_of(filters),
        "chosen": set(),
    }
    return TemplateResponse(
        request, "feedback/corrections.html#correction-row", context, status=422 if error else 200
    )


# --- the regression set ----------------------------------------------------------------------------------
