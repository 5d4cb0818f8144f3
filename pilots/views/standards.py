"""Step 2: the input standard editor, its versions and downloads, the conformance threshold, AI versions."""

import json
import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from pilots import access, selectors
from pilots.forms.cases import AIVersionForm, ThresholdForm, threshold_percent
from pilots.forms.standards import FORMSETS, StandardEditor, blank_row
from pilots.htmx import swaps_part
from pilots.models import InputStandard, Pilot
from pilots.services import standards as standard_services
from pilots.standards import csv_template, json_schema
from pilots.views.cases import inputs_panel_context
from pilots.views.errors import add_errors

MAX_ROWS = 500


def _standard_context(request: HttpRequest, pilot: Pilot, **extra) -> dict:
    can = access.allowed_actions(pilot.workspace.membership, pilot)
    versions = list(selectors.standards_of(pilot))
    current = versions[0] if versions else None
    context = {
        "pilot": pilot,
        "workspace": pilot.workspace,
        "can": can,
        "versions": versions,
        "current": current,
        "shown": current,
        "threshold_form": ThresholdForm.for_pilot(pilot, next_url=reverse("standard", args=[pilot.pk])),
        "threshold_percent": threshold_percent(pilot),
    }
    if "edit_standard" in can:
        context["editor"] = StandardEditor(standard=current)
    return context | {k: v for k, v in extra.items() if v is not None}


def _standard_page(
    request: HttpRequest, pilot: Pilot, *, status: int = 200, event: str = "", **extra
) -> HttpResponse:
    context = _standard_context(request, pilot, **extra)
    if swaps_part(request):
        response = TemplateResponse(request, "pilots/standard.html#standard-body", context, status=status)
        if event:
            trigger_client_event(response, event)
        return response
    return TemplateResponse(request, "pilots/standard.html", context, status=status)


@require_http_methods(["GET", "POST"])
def standard(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(
        request.user, pilot_id, need="edit_standard" if request.method == "POST" else "view_pilot"
    )
    if request.method == "GET":
        return _standard_page(request, pilot)
    current = selectors.standards_of(pilot).first()
    add = request.POST.get("add", "")
    editor = StandardEditor(request.POST, standard=current, add=add)
    if add in FORMSETS:
        # "Add a row" without JavaScript: the draft comes back with one more blank row, nothing published.
        return _standard_page(request, pilot, editor=editor)
    if editor.is_valid():
        try:
            published = standard_services.publish_standard(
                pilot=pilot, actor=request.user, spec=editor.spec(), note=editor.note
            )
        except ValidationError as error:
            editor.add_errors(error)
        else:
            if current is not None and published.pk == current.pk:
                message = f"Nothing changed: version {current.version} stays current."
            else:
                message = f"Version {published.version} published."
            if request.htmx:
                return _standard_page(request, pilot, message=message, event="standardPublished")
            messages.success(request, message)
            return redirect("standard", pilot_id=pilot.pk)
    return _standard_page(request, pilot, editor=editor, status=422)


@require_GET
def standard_row(request: HttpRequest, pilot_id: int, part: str) -> HttpResponse:
    """A blank row for one of the editor's tables (htmx "add a row"), with the formset's new total."""
    access.pilot_for(request.user, pilot_id, need="edit_standard")
    if part not in FORMSETS:
        raise Http404("No such table.")
    try:
        index = int(request.GET.get(f"{part}-TOTAL_FORMS", ""))
    except ValueError:
        index = 0
    index = max(0, min(index, MAX_ROWS))
    names = []
    for key, value in request.GET.items():
        if re.fullmatch(r"inputs-\d+-name", key) and value.strip() and value.strip() not in names:
            names.append(value.strip())
    context = {"row": blank_row(part, index, names), "part": part, "total": index + 1}
    return TemplateResponse(request, "pilots/standard.html#new-row", context)


@require_GET
def standard_names(request: HttpRequest, pilot_id: int) -> HttpResponse:
    """The editor's field selects (rules, event time), refreshed from the input names typed so far:
    htmx swaps each in place by its id, keeping what was chosen."""
    access.pilot_for(request.user, pilot_id, need="edit_standard")
    editor = StandardEditor(request.GET)
    selects = editor.name_selects()
    for select in selects:
        select.field.widget.attrs["hx-swap-oob"] = "true"
    return TemplateResponse(request, "pilots/standard.html#name-selects", {"selects": selects})


@require_GET
def standard_version(request: HttpRequest, pilot_id: int, version: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    shown = get_object_or_404(
        InputStandard.objects.select_related("published_by"), pilot=pilot, version=version
    )
    latest = selectors.standards_of(pilot).values_list("version", flat=True).first()
    context = {"pilot": pilot, "workspace": pilot.workspace, "shown": shown, "latest": latest}
    return TemplateResponse(request, "pilots/standard_version.html", context)


def _requested_standard(request: HttpRequest, pilot: Pilot) -> InputStandard:
    """The version named by ?version=, or the current one; 404 when there is none."""
    standards = InputStandard.objects.filter(pilot=pilot).select_related("pilot").order_by("-version")
    version = request.GET.get("version", "")
    if version:
        if not version.isdigit():
            raise Http404("No such version.")
        standards = standards.filter(version=int(version))
    shown = standards.first()
    if shown is None:
        raise Http404("No input standard is published yet.")
    return shown


def _attachment(response: HttpResponse, pilot: Pilot, shown: InputStandard, suffix: str) -> HttpResponse:
    name = f"{slugify(pilot.name) or 'pilot'}-standard-v{shown.version}{suffix}"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=name)
    return response


@require_GET
def standard_schema(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    shown = _requested_standard(request, pilot)
    body = json.dumps(json_schema(shown), indent=2, ensure_ascii=False)
    return _attachment(HttpResponse(body, content_type="application/json"), pilot, shown, ".schema.json")


@require_GET
def standard_template(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    shown = _requested_standard(request, pilot)
    response = HttpResponse(csv_template(shown), content_type="text/csv; charset=utf-8")
    return _attachment(response, pilot, shown, "-template.csv")


def _safe_next(request: HttpRequest, target: str) -> str | None:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@require_POST
def conformance_threshold(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="set_conformance_threshold")
    form = ThresholdForm(request.POST)
    message = ""
    if form.is_valid():
        percent = form.cleaned_data["percent"]
        try:
            standard_services.set_conformance_threshold(
                pilot=pilot, actor=request.user, threshold=float(percent) / 100
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            message = f"Conformance threshold set to {percent.normalize():f}%."
            if not request.htmx:
                messages.success(request, message)
                return redirect(
                    _safe_next(request, form.cleaned_data["next"]) or reverse("standard", args=[pilot.pk])
                )
    status = 422 if form.errors else 200
    pilot = access.pilot_for(request.user, pilot.pk)  # read it afresh: the threshold may have changed
    context = {
        "pilot": pilot,
        "can": access.allowed_actions(pilot.workspace.membership, pilot),
        "threshold_message": message,
        "threshold_percent": threshold_percent(pilot),
    }
    if request.htmx and request.htmx.target == "inputs-panel":
        context |= inputs_panel_context(pilot)
        if form.errors:
            context["threshold_form"] = form
        return TemplateResponse(request, "pilots/_inputs_panel.html", context, status=status)
    if request.htmx:
        context["threshold_form"] = (
            form
            if form.errors
            else ThresholdForm.for_pilot(pilot, next_url=reverse("standard", args=[pilot.pk]))
        )
        return TemplateResponse(request, "pilots/standard.html#threshold", context, status=status)
    return _standard_page(request, pilot, threshold_form=form, status=status)


@require_http_methods(["GET", "POST"])
def ai_versions(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(
        request.user, pilot_id, need="register_ai_version" if request.method == "POST" else "view_pilot"
    )
    form = AIVersionForm(request.POST if request.method == "POST" else None)
    message = ""
    if request.method == "POST" and form.is_valid():
        try:
            version = standard_services.register_ai_version(
                pilot=pilot, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            message = f"AI version {version.identifier} registered."
            if not request.htmx:
                messages.success(request, message)
                return redirect("ai_versions", pilot_id=pilot.pk)
            form = AIVersionForm()
    context = {
        "pilot": pilot,
        "workspace": pilot.workspace,
        "can": access.allowed_actions(pilot.workspace.membership, pilot),
        "versions": selectors.ai_versions_of(pilot),
        "form": form,
        "message": message,
    }
    status = 422 if form.errors else 200
    if swaps_part(request):
        return TemplateResponse(request, "pilots/ai_versions.html#ai-versions", context, status=status)
    return TemplateResponse(request, "pilots/ai_versions.html", context, status=status)
