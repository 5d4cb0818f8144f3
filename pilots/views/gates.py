"""Gate requests and decisions, conditions: each answers with the refreshed stage track."""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from pilots import access
from pilots.forms import ConditionCloseForm, GateDecisionForm, GateRequestForm
from pilots.models import GateCondition, GateRequest
from pilots.services import gates as gate_services
from pilots.views.errors import form_messages
from pilots.views.track import track_response


@require_POST
def gate_request(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="request_gate")
    form = GateRequestForm(request.POST)
    if not form.is_valid():
        return track_response(request, pilot, error=ValidationError(form_messages(form)))
    try:
        gate_services.request_gate_decision(pilot=pilot, actor=request.user, note=form.cleaned_data["note"])
    except ValidationError as error:
        return track_response(request, pilot, error=error)
    return track_response(
        request,
        pilot,
        event="pilotChanged",
        message="Decision requested; the workflow owner has been notified.",
    )


@require_POST
def gate_withdraw(request: HttpRequest, pilot_id: int, request_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="withdraw_gate")
    gate_request = get_object_or_404(GateRequest, pk=request_id, pilot=pilot)
    try:
        gate_services.withdraw_gate_request(gate_request=gate_request, actor=request.user)
    except ValidationError as error:
        return track_response(request, pilot, error=error)
    return track_response(request, pilot, event="pilotChanged", message="Request withdrawn.")


@require_POST
def gate_decide(request: HttpRequest, pilot_id: int, request_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="decide_gate")
    gate_request = get_object_or_404(GateRequest, pk=request_id, pilot=pilot)
    form = GateDecisionForm(request.POST, pilot=pilot)
    if not form.is_valid():
        error = ValidationError(form_messages(form))
        error.track_context = {"decision_form": form}
        return track_response(request, pilot, error=error)
    data = form.cleaned_data
    conditions = [
        gate_services.ConditionInput(
            text=line, owner=data["conditions_owner"], due_on=data["conditions_due_on"]
        )
        for line in data["condition_lines"]
    ]
    try:
        decision = gate_services.decide_gate(
            gate_request=gate_request,
            actor=request.user,
            outcome=data["outcome"],
            comment=data["comment"],
            recycle_to=data["recycle_to"],
            conditions=conditions,
            conditions_due_on=data["conditions_due_on"],
        )
    except gate_services.GateRefused as refused:
        refused.track_context = {"refused": refused.missing, "decision_form": form}
        return track_response(request, pilot, error=refused)
    except ValidationError as error:
        error.track_context = {"decision_form": form}
        return track_response(request, pilot, error=error)
    return track_response(
        request, pilot, event="gateDecided", message=f"Decision recorded: {decision.get_outcome_display()}."
    )


@require_POST
def condition_close(request: HttpRequest, pilot_id: int, condition_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id, need="close_condition")
    condition = get_object_or_404(GateCondition, pk=condition_id, pilot=pilot)
    form = ConditionCloseForm(request.POST)
    if not form.is_valid():
        return track_response(request, pilot, error=ValidationError(form_messages(form)))
    gate_services.close_condition(condition=condition, actor=request.user, note=form.cleaned_data["note"])
    return track_response(request, pilot, event="pilotChanged", message="Condition closed.")
