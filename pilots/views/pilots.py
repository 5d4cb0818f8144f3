"""Pilots: the list, create and edit, the pilot page, and the actions on its stage track."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pilots import access, selectors
from pilots.forms import AttestationForm, PilotForm
from pilots.htmx import swaps_part
from pilots.models import Role, Stage, Status
from pilots.services import gates as gate_services
from pilots.services import pilots as pilot_services
from pilots.views.errors import add_errors
from pilots.views.track import track_response


@require_GET
def pilot_list(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = access.workspace_for(request.user, slug)
    filters = selectors.PilotFilters(
        q=request.GET.get("q", "").strip()[:100],
        stage=request.GET.get("stage", ""),
        status=request.GET.get("status", ""),
        owner=request.GET.get("owner", ""),
        business_unit=request.GET.get("business_unit", ""),
        sort=request.GET.get("sort", "name"),
    )
    page = Paginator(selectors.pilot_list(workspace, filters), 25).get_page(request.GET.get("page"))
    for pilot in page.object_list:
        pilot.summary = selectors.readiness_summary(selectors.snapshot_of(pilot))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "workspace": workspace,
        "page": page,
        "filters": filters,
        "query": query.urlencode(),
        "can": access.allowed_actions(workspace.membership),
    }
    if swaps_part(request):
        return TemplateResponse(request, "pilots/pilot_list.html#pilot-table", context)
    context |= {
        "stages": Stage.choices,
        "statuses": Status.choices,
        "owners": selectors.members_with_role(workspace, Role.WORKFLOW_OWNER),
        "business_units": selectors.business_units(workspace),
        "sorts": [
            ("name", "Name"),
            ("stage", "Stage"),
            ("-updated", "Recently updated"),
            ("target", "Target date"),
            ("readiness", "Readiness, lowest first"),
            ("-readiness", "Readiness, highest first"),
        ],
    }
    return TemplateResponse(request, "pilots/pilot_list.html", context)


@require_http_methods(["GET", "POST"])
def pilot_create(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = access.workspace_for(request.user, slug, need="create_pilot")
    form = PilotForm(
        request.POST if request.method == "POST" else None,
        workspace=workspace,
        initial={"program_manager": request.user.pk if workspace.membership.is_program_manager else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            pilot = pilot_services.create_pilot(
                workspace=workspace, actor=request.user, details=form.details()
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Pilot “{pilot}” registered.")
            return redirect("pilot_detail", pilot_id=pilot.pk)
    return TemplateResponse(
        request,
        "pilots/pilot_form.html",
        {"form": form, "workspace": workspace},
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def pilot_edit(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="edit_pilot")
    form = PilotForm(
        request.POST if request.method == "POST" else None,
        workspace=pilot.workspace,
        initial=PilotForm.initial_for(pilot),
    )
    if request.method == "POST" and form.is_valid():
        try:
            pilot_services.update_pilot(pilot=pilot, actor=request.user, details=form.details())
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Pilot saved.")
            return redirect("pilot_detail", pilot_id=pilot.pk)
    return TemplateResponse(
        request,
        "pilots/pilot_form.html",
        {"form": form, "workspace": pilot.workspace, "pilot": pilot},
        status=422 if form.errors else 200,
    )


@require_GET
def pilot_detail(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    return track_response(request, pilot, full_page=True)


@require_GET
def pilot_activity(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    return TemplateResponse(
        request, "pilots/pilot_detail.html#activity", {"pilot": pilot, "activity": selectors.activity(pilot)}
    )


@require_GET
def pilot_gate_record(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    context = {
        "pilot": pilot,
        "can": access.allowed_actions(pilot.workspace.membership, pilot),
        "history": selectors.gate_history(pilot),
        "conditions": selectors.open_conditions(pilot),
    }
    return TemplateResponse(request, "pilots/pilot_detail.html#gate-record", context)


@require_GET
def pilot_gate_checks(request: HttpRequest, pilot_id: int) -> HttpResponse:
    """The next gate's checks alone: refreshed when the pilot's readiness was recomputed."""
    pilot = access.pilot_for(request.user, pilot_id)
    context = {
        "pilot": pilot,
        "can": access.allowed_actions(pilot.workspace.membership, pilot),
        "gate_checks": selectors.next_gate_checks(pilot),
    }
    return TemplateResponse(request, "pilots/pilot_detail.html#gate-checks", context)


@require_POST
def pilot_copy(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="copy_pilot")
    try:
        copy = pilot_services.copy_pilot(pilot=pilot, actor=request.user)
    except ValidationError as error:
        return track_response(request, pilot, full_page=True, error=error)
    messages.success(request, f"Copied into a new proposal, “{copy}”. Edit it to start again.")
    return redirect("pilot_edit", pilot_id=copy.pk)


@require_POST
def accept_accountability(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="accept_accountability")
    try:
        pilot = pilot_services.accept_accountability(pilot=pilot, actor=request.user)
    except ValidationError as error:
        return track_response(request, pilot, error=error)
    return track_response(
        request, pilot, event="pilotChanged", message="You accepted accountability for this workflow."
    )


@require_POST
def pilot_resume(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="resume_pilot")
    try:
        pilot = pilot_services.resume_pilot(pilot=pilot, actor=request.user)
    except ValidationError as error:
        return track_response(request, pilot, error=error)
    return track_response(request, pilot, event="pilotChanged", message="Pilot resumed.")


@require_http_methods(["GET", "POST"])
def attest(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="attest")
    form = AttestationForm(
        request.POST if request.method == "POST" else None, initial={"check_id": request.GET.get("check", "")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            gate_services.attest_check(pilot=pilot, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request, "Attestation recorded. It counts as 0.5 until the pilot's data verifies the check."
            )
            return redirect("pilot_detail", pilot_id=pilot.pk)
    return TemplateResponse(
        request, "pilots/attest.html", {"pilot": pilot, "form": form}, status=422 if form.errors else 200
    )
