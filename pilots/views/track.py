"""The stage track: rendered on the pilot page and returned alone to htmx after each action on it."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django_htmx.http import trigger_client_event

from pilots import access, selectors
from pilots.forms import GateDecisionForm, GateRequestForm
from pilots.views.cases import inputs_panel_context
from pilots.views.readiness import readiness_context


def track_context(request: HttpRequest, pilot, **extra) -> dict:
    membership = pilot.workspace.membership
    pending = selectors.pending_request(pilot)
    return {
        "pilot": pilot,
        "workspace": pilot.workspace,
        "can": access.allowed_actions(membership, pilot),
        "steps": selectors.stage_steps(pilot),
        "gate_checks": selectors.next_gate_checks(pilot),
        "pending": pending,
        "request_form": GateRequestForm(),
        "decision_form": GateDecisionForm(pilot=pilot),
        "may_decide": pending is not None and pending.requested_by_id != request.user.pk,
        **extra,
    }


def track_response(
    request: HttpRequest,
    pilot,
    *,
    full_page: bool = False,
    error: ValidationError | None = None,
    event: str | None = None,
    message: str = "",
    **extra,
) -> HttpResponse:
    """After an action: htmx gets the refreshed track (and an event for the listeners); a plain form
    post is redirected back to the pilot page (or shown the page with the error)."""
    if request.method == "POST":
        pilot = access.pilot_for(request.user, pilot.pk)  # read it afresh: the action may have moved it
    if error is not None:
        extra["track_errors"] = error.messages
        extra.update(getattr(error, "track_context", {}))
    status = 422 if error is not None else 200
    if request.htmx and not full_page:
        response = TemplateResponse(
            request,
            "pilots/pilot_detail.html#stage-track",
            track_context(request, pilot, track_message=message, **extra),
            status=status,
        )
        if event:
            trigger_client_event(response, event)
        return response
    if error is None and request.method == "POST":
        if message:
            messages.success(request, message)
        return redirect("pilot_detail", pilot_id=pilot.pk)
    context = track_context(request, pilot, **extra)
    context |= {
        "history": selectors.gate_history(pilot),
        "conditions": selectors.open_conditions(pilot),
        "activity": selectors.activity(pilot),
        **inputs_panel_context(pilot),
        **readiness_context(pilot),
    }
    return TemplateResponse(request, "pilots/pilot_detail.html", context, status=status)
