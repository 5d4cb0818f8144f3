"""Working a case beside the review queue: the case panel, claiming, giving back, deciding.

A row opens its case in the panel beside the list (htmx; a plain link opens the same panel as a page).
Claiming, releasing and deciding answer htmx with the refreshed panel and, out of band, the refreshed
list; a decision moves the panel on to the next case and triggers `caseDecided`. Every form also works
without JavaScript (a redirect after success, the page with its errors otherwise).
"""

import json
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from exceptions import access, selectors
from exceptions.models import Decision, Escalation, Outcome, RoutingRule
from exceptions.services import queue as review
from exceptions.views.queue import (
    DECIDED,
    KIND_LABELS,
    OUTCOME_DONE,
    filters_of,
    held_now,
    list_context,
    posted_queue_query,
    queue_query_of,
    time_left,
)
from pilots.htmx import swaps_part
from pilots.models import Workspace


@dataclass
class OutputRow:
    name: str
    label: str
    type: str
    allowed: list[str]
    ai_value: str
    value: str  # what the override field shows: the AI's value, or what the reviewer typed
    error: str


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _output_rows(escalation: Escalation, given: dict[str, str], errors: dict[str, str]) -> list[OutputRow]:
    outputs = escalation.case.outputs
    rows = []
    for spec in review.output_fields(escalation):
        name = spec["name"]
        ai_value = _shown(outputs.get(name))
        rows.append(
            OutputRow(
                name=name,
                label=spec.get("label") or name,
                type=spec["type"],
                allowed=[str(a) for a in spec.get("allowed") or []],
                ai_value=ai_value,
                value=given.get(name, ai_value),
                error=errors.get(f"outputs.{name}", ""),
            )
        )
    return rows


def _value_rows(values: dict, prefix: str, problems: list[dict]) -> list[dict]:
    by_field: dict[str, list[dict]] = {}
    for problem in problems:
        by_field.setdefault(problem.get("field", ""), []).append(problem)
    return [
        {"name": name, "value": _shown(value), "problems": by_field.get(f"{prefix}.{name}", [])}
        for name, value in values.items()
    ]


def panel_context(
    request: HttpRequest,
    escalation: Escalation,
    *,
    queue_query: str,
    in_queue: bool,
    given: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    refused: str = "",
) -> dict:
    """What the review panel shows: the case, its rule, its state, and the decision form (or decision)."""
    given, errors = given or {}, errors or {}
    now = timezone.now()
    case = escalation.case
    pilot = escalation.pilot
    rule = RoutingRule.objects.select_related("table").get(pk=escalation.rule_id)
    decision = (
        Decision.objects.select_related("reviewer").filter(escalation=escalation).first()
        if escalation.decided_at
        else None
    )
    problems = [{**p, "label": KIND_LABELS.get(p.get("kind"), p.get("kind"))} for p in case.problems]
    due_text, overdue = time_left(escalation.due_at, now)
    held = held_now(escalation, now)
    mine = held and escalation.claimed_by_id == request.user.pk
    held_by_other = held and not mine
    return {
        "escalation": escalation,
        "case": case,
        "pilot": pilot,
        "workspace": pilot.workspace,
        "rule": rule,
        "decision": decision,
        "problems": problems,
        "input_rows": _value_rows(case.inputs, "inputs", problems),
        "ai_rows": _value_rows(case.outputs, "outputs", problems),
        "output_rows": _output_rows(escalation, given.get("outputs", {}), errors),
        "given": given,
        "errors": errors,
        "due_text": due_text,
        "overdue": overdue,
        "held_by_other": held_by_other,
        "mine": mine,
        "open": escalation.decided_at is None,
        "outcomes": Outcome.choices,
        "queue_query": queue_query,
        "queue_url": reverse("review_queue", args=[pilot.workspace.slug])
        + (f"?{queue_query}" if queue_query else ""),
        "in_queue": in_queue,
        "notice": notice,
        "refused": refused,
    }


def _panel(request: HttpRequest, context: dict, *, status: int = 200) -> HttpResponse:
    if context["in_queue"]:
        return TemplateResponse(request, "exceptions/review_case.html#review-panel", context, status=status)
    return TemplateResponse(request, "exceptions/review_case.html", context, status=status)


def _panel_and_list(request: HttpRequest, context: dict, *, status: int = 200) -> HttpResponse:
    """The panel, and the refreshed list swapped in out of band (claims and decisions show in it)."""
    workspace = context["workspace"]
    selected = context["escalation"].pk if context.get("escalation") else None
    listing = list_context(request, workspace, QueryDict(context["queue_query"]), selected) | {"oob": True}
    body = render_to_string("exceptions/review_case.html#review-panel", context, request) + render_to_string(
        "exceptions/queue.html#queue-list", listing, request
    )
    return HttpResponse(body, status=status)


@require_GET
def review_case(request: HttpRequest, escalation_id: int) -> HttpResponse:
    escalation = access.escalation_for(request.user, escalation_id)
    in_queue = swaps_part(request)
    context = panel_context(
        request, escalation, queue_query=queue_query_of(request.GET, page=True), in_queue=in_queue
    )
    return _panel(request, context)


def _refused(request: HttpRequest, escalation_id: int, message: str, queue_query: str) -> HttpResponse:
    """Nothing changed: show the case as it is now, with why (409 for htmx)."""
    escalation = access.escalation_for(request.user, escalation_id)
    if not request.htmx:
        messages.error(request, message)
        return _redirect_to_case(escalation.pk, queue_query)
    context = panel_context(request, escalation, queue_query=queue_query, in_queue=True, refused=message)
    return _panel_and_list(request, context, status=409)


def _redirect_to_case(escalation_id: int, queue_query: str) -> HttpResponse:
    url = reverse("review_case", args=[escalation_id])
    return redirect(f"{url}?{queue_query}" if queue_query else url)


@require_POST
def review_claim(request: HttpRequest, escalation_id: int) -> HttpResponse:
    escalation = access.escalation_for(request.user, escalation_id)
    queue_query = posted_queue_query(request)
    try:
        escalation = review.claim(escalation_id=escalation.pk, user=request.user)
    except review.ReviewRefused as refusal:
        return _refused(request, escalation_id, str(refusal), queue_query)
    until = timezone.localtime(escalation.claim_expires_at).strftime("%H:%M")
    notice = f"You hold case {escalation.case.external_id} until {until}."
    if not request.htmx:
        messages.success(request, notice)
        return _redirect_to_case(escalation.pk, queue_query)
    escalation = access.escalation_for(request.user, escalation_id)
    context = panel_context(request, escalation, queue_query=queue_query, in_queue=True, notice=notice)
    return _panel_and_list(request, context)


@require_POST
def review_release(request: HttpRequest, escalation_id: int) -> HttpResponse:
    escalation = access.escalation_for(request.user, escalation_id)
    queue_query = posted_queue_query(request)
    released = review.release(escalation_id=escalation.pk, user=request.user)
    # Releasing a case one does not hold changes nothing and says so (a repeated click is harmless).
    notice = (
        f"Case {escalation.case.external_id} is back in the queue."
        if released
        else f"You did not hold case {escalation.case.external_id}; nothing changed."
    )
    if not request.htmx:
        (messages.success if released else messages.info)(request, notice)
        return redirect(_queue_url(escalation, queue_query))
    escalation = access.escalation_for(request.user, escalation_id)
    context = panel_context(request, escalation, queue_query=queue_query, in_queue=True, notice=notice)
    return _panel_and_list(request, context)


def _queue_url(escalation: Escalation, queue_query: str) -> str:
    url = reverse("review_queue", args=[escalation.pilot.workspace.slug])
    return f"{url}?{queue_query}" if queue_query else url


def _next_case(request: HttpRequest, workspace: Workspace, queue_query: str) -> Escalation | None:
    """The oldest case of the (filtered) queue that nobody else is working on."""
    now = timezone.now()
    items = selectors.queue(workspace.membership, workspace, filters_of(QueryDict(queue_query)))
    free = Q(claimed_by=None) | Q(claimed_by=request.user) | Q(claim_expires_at__lte=now)
    found = items.filter(free).values_list("pk", flat=True).first()
    if found is None:
        return None
    try:
        return access.escalation_for(request.user, found)
    except (Http404, PermissionDenied):  # the decision is stored: never answer it with an error
        return None


@require_POST
def review_decide(request: HttpRequest, escalation_id: int) -> HttpResponse:
    escalation = access.escalation_for(request.user, escalation_id)
    queue_query = posted_queue_query(request)
    outcome = request.POST.get("outcome", "")
    rationale = request.POST.get("rationale", "")[:5000]
    typed = {
        spec["name"]: request.POST.get(f"outputs.{spec['name']}", "")[:1000]
        for spec in review.output_fields(escalation)
    }
    # Only what the reviewer changed: a field left as the AI filled it is not a correction, even when
    # the AI's value does not fit the standard (it is kept as given, and would not read back).
    ai = escalation.case.outputs
    changed = {name: text for name, text in typed.items() if text.strip() != _shown(ai.get(name)).strip()}
    try:
        decision = review.decide(
            escalation_id=escalation.pk,
            reviewer=request.user,
            outcome=outcome,
            rationale=rationale,
            corrected_outputs=changed if outcome == Outcome.OVERRIDE else None,
        )
    except review.ReviewRefused as refusal:
        return _refused(request, escalation_id, str(refusal), queue_query)
    except review.DecisionError as error:
        given = {"outcome": outcome, "rationale": rationale, "outputs": typed}
        context = panel_context(
            request,
            escalation,
            queue_query=queue_query,
            in_queue=bool(request.htmx),
            given=given,
            errors=error.errors,
        )
        return _panel(request, context, status=422)
    done = f"Case {escalation.case.external_id} {OUTCOME_DONE[decision.outcome]}."
    workspace = escalation.pilot.workspace
    if not request.htmx:
        messages.success(request, done)
        return redirect(_queue_url(escalation, queue_query))
    upcoming = _next_case(request, workspace, queue_query)
    if upcoming is None:
        context = {"workspace": workspace, "escalation": None, "notice": done, "queue_query": queue_query}
    else:
        context = panel_context(request, upcoming, queue_query=queue_query, in_queue=True, notice=done)
    response = _panel_and_list(request, context)
    return trigger_client_event(response, DECIDED, {"decided": escalation.pk}, after="swap")
