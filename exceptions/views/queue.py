"""The review queue: a reviewer's home page — open escalated and sampled cases, oldest first, with the
time left against each service level, filters, and pages. Working a case beside it: exceptions.views.review.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from exceptions import access, selectors
from exceptions.models import Escalation, Outcome, RoutingRule
from exceptions.selectors import QueueFilters
from pilots import access as hub_access
from pilots.htmx import swaps_part
from pilots.models import Case, Pilot, Workspace

PAGE_SIZE = 50
FILTER_NAMES = tuple(QueueFilters.__dataclass_fields__)
KIND_LABELS = {kind: kind.replace("_", " ") for kind in Case.PROBLEM_FLAGS}
REASONS = [("escalated", "Escalated"), ("sampled", "Sampled for audit"), *KIND_LABELS.items()]
DECIDED = "caseDecided"
OUTCOME_DONE = {Outcome.APPROVE: "approved", Outcome.OVERRIDE: "overridden", Outcome.REJECT: "rejected"}


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} d"


def time_left(due_at: datetime, now: datetime) -> tuple[str, bool]:
    """("3 h left", False) or ("overdue by 2 h", True), against the escalation's service level."""
    seconds = (due_at - now).total_seconds()
    if seconds >= 0:
        return f"{_span(seconds)} left", False
    return f"overdue by {_span(-seconds)}", True


def held_now(escalation: Escalation, now: datetime) -> bool:
    """Someone holds the case now (a lapsed claim holds nothing)."""
    expires = escalation.claim_expires_at
    return escalation.claimed_by_id is not None and expires is not None and expires > now


@dataclass
class QueueRow:
    escalation: Escalation
    due_text: str
    overdue: bool
    held: bool  # a live claim, by anyone
    mine: bool  # … by the viewer
    kinds: list[tuple[str, str]]


def _row(escalation: Escalation, now: datetime, user) -> QueueRow:
    due_text, overdue = time_left(escalation.due_at, now)
    held = held_now(escalation, now)
    case = escalation.case
    return QueueRow(
        escalation=escalation,
        due_text=due_text,
        overdue=overdue,
        held=held,
        mine=held and escalation.claimed_by_id == user.pk,
        kinds=[(kind, KIND_LABELS[kind]) for kind, flag in Case.PROBLEM_FLAGS.items() if getattr(case, flag)],
    )


def filters_of(params: QueryDict) -> QueueFilters:
    return QueueFilters(**{name: params.get(name, "").strip()[:200] for name in FILTER_NAMES})


def queue_query_of(params: QueryDict, *, page: bool, number: int | None = None) -> str:
    """The queue's filters (and its page, or page `number`) from `params`, urlencoded; the rest is dropped.
    A case opened from the list carries this along, so the list it returns to is the one it came from."""
    kept = QueryDict(mutable=True)
    for name in (*FILTER_NAMES, "page") if page else FILTER_NAMES:
        value = params.get(name, "").strip()[:200]
        if value:
            kept[name] = value
    if number is not None and number > 1:
        kept["page"] = str(number)
    return kept.urlencode()


def posted_queue_query(request: HttpRequest) -> str:
    """The queue a form was posted from (its hidden `queue` field)."""
    return queue_query_of(QueryDict(request.POST.get("queue", "")[:1000]), page=True)


def list_context(request: HttpRequest, workspace: Workspace, params: QueryDict, selected: int | None) -> dict:
    """The list of the queue (a page of it) for these filters; a fixed number of queries however long."""
    filters = filters_of(params)
    items = selectors.queue(workspace.membership, workspace, filters)
    page = Paginator(items, PAGE_SIZE).get_page(params.get("page"))
    now = timezone.now()
    return {
        "workspace": workspace,
        "page": page,
        "rows": [_row(escalation, now, request.user) for escalation in page.object_list],
        "filters": filters,
        "filtered": any(getattr(filters, name) for name in FILTER_NAMES),
        "query": queue_query_of(params, page=False),
        "queue_query": queue_query_of(params, page=False, number=page.number),
        "selected": selected,
    }


def _choices(workspace: Workspace) -> dict:
    """The filter form's pilots and rules: those of the member's open escalations (and served pilots)."""
    membership = workspace.membership
    waiting = selectors.queue(membership, workspace, QueueFilters()).order_by()
    served = access.served_pilot_ids(membership, workspace)
    pilots = (
        Pilot.objects.in_workspace(workspace)
        .filter(Q(pk__in=served) | Q(pk__in=waiting.values("pilot_id")))
        .order_by("name")
        .values_list("id", "name")
    )
    rules = (
        RoutingRule.objects.filter(pk__in=waiting.values("rule_id"))
        .select_related("table__pilot")
        .order_by("table__pilot__name", "-table__version", "position")
    )
    return {
        "pilot_choices": [(str(pk), name) for pk, name in pilots],
        "rule_choices": [
            (str(rule.pk), f"{rule.table.pilot.name} · v{rule.table.version} · {rule.label}")
            for rule in rules
        ],
        "reasons": REASONS,
    }


@require_GET
def review_queue(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = hub_access.workspace_for(request.user, slug, need="review_queue")
    context = list_context(request, workspace, request.GET, selected=None)
    if swaps_part(request):
        return TemplateResponse(request, "exceptions/queue.html#queue-list", context)
    context |= _choices(workspace) | {"membership": workspace.membership}
    return TemplateResponse(request, "exceptions/queue.html", context)


# --- one case, beside the list ---
