"""A pilot's reason codes: the taxonomy of why the AI was corrected."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from feedback.forms import ReasonAddForm, ReasonEditForm
from feedback.models import ReasonCode
from feedback.services import taxonomy
from pilots import access
from pilots.htmx import swaps_part
from pilots.models import Pilot
from pilots.views.errors import add_errors


def _reasons_page(
    request: HttpRequest,
    pilot: Pilot,
    *,
    add_form: ReasonAddForm | None = None,
    edit_forms: dict[int, ReasonEditForm] | None = None,
    message: str = "",
    status: int = 200,
) -> HttpResponse:
    can = access.allowed_actions(pilot.workspace.membership, pilot)
    if "edit_reason_codes" in can:
        # Its editor is about to change it: store the defaults so each has a row to edit. Readers
        # see the defaults without anything being written.
        taxonomy.ensure_taxonomy(pilot)
    reasons = list(
        ReasonCode.objects.filter(pilot=pilot).annotate(used=Count("corrections")).order_by("position", "id")
    ) or [_unused(reason) for reason in taxonomy.reasons(pilot)]
    edit_forms = edit_forms or {}
    context = {
        "pilot": pilot,
        "workspace": pilot.workspace,
        "can": can,
        "rows": [(reason, edit_forms.get(reason.pk)) for reason in reasons],
        "add_form": add_form or ReasonAddForm(),
        "message": message,
    }
    if swaps_part(request):
        return TemplateResponse(request, "feedback/reason_codes.html#reason-list", context, status=status)
    return TemplateResponse(request, "feedback/reason_codes.html", context, status=status)


@require_http_methods(["GET", "POST"])
def reason_codes(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(
        request.user, pilot_id, need="edit_reason_codes" if request.method == "POST" else "view_pilot"
    )
    if request.method == "GET":
        return _reasons_page(request, pilot)
    if "reason" in request.POST:
        reason_id = request.POST["reason"].strip()
        reason = get_object_or_404(ReasonCode, pk=int(reason_id) if reason_id.isdigit() else 0, pilot=pilot)
        form = ReasonEditForm(request.POST)
        if form.is_valid():
            try:
                changed = taxonomy.update_reason(
                    reason=reason, label=form.cleaned_data["label"], active=form.cleaned_data["active"],
                    actor=request.user,
                )  # fmt: skip
            except ValidationError as error:
                add_errors(form, error)
            else:
                state = "in use" if changed.active else "retired: kept on its corrections, no longer offered"
                return _reason_saved(request, pilot, f"Reason “{changed.label}” saved ({state}).")
        return _reasons_page(request, pilot, edit_forms={reason.pk: form}, status=422)
    add_form = ReasonAddForm(request.POST)
    if add_form.is_valid():
        try:
            added = taxonomy.add_reason(pilot=pilot, label=add_form.cleaned_data["label"], actor=request.user)
        except ValidationError as error:
            add_errors(add_form, error)
        else:
            return _reason_saved(request, pilot, f"Reason “{added.label}” added.")
    return _reasons_page(request, pilot, add_form=add_form, status=422)


def _unused(reason: ReasonCode) -> ReasonCode:
    reason.used = 0
    return reason


def _reason_saved(request: HttpRequest, pilot: Pilot, message: str) -> HttpResponse:
    if request.htmx:
        return _reasons_page(request, pilot, message=message)
    messages.success(request, message)
    return redirect("reason_codes", pilot_id=pilot.pk)
