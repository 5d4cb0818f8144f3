"""Reads for step 3: the review queue, the decision log, a pilot's rule tables. Scoped by the caller's
access check; every list runs a fixed number of queries, however long it is."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import CharField, F, Q, QuerySet, Value
from django.utils import timezone

from exceptions import access
from exceptions.models import Decision, Escalation, Outcome, RuleTable
from pilots.models import Case, Membership, Pilot, Workspace

QUEUE_REASONS = {
    "escalated": Q(reason=Escalation.Reason.ESCALATED),
    "sampled": Q(reason=Escalation.Reason.SAMPLED),
    **{kind: Q(**{f"case__{flag}": True}) for kind, flag in Case.PROBLEM_FLAGS.items()},
}


@dataclass
class QueueFilters:
    pilot: str = ""  # a pilot id
    rule: str = ""  # a rule id
    reason: str = ""  # escalated, sampled, or a problem kind of the case
    late: str = ""  # "yes": only cases past their service level


def queue(membership: Membership, workspace: Workspace, filters: QueueFilters) -> QuerySet[Escalation]:
    """Open escalations this member may work, oldest first."""
    items = (
        Escalation.objects.filter(decided_at=None)
        .filter(access.queue_filter(membership, workspace))
        .select_related("case", "pilot", "rule", "rule__table", "claimed_by")
        .order_by("received_at", "id")
    )
    if filters.pilot.isdigit():
        items = items.filter(pilot_id=int(filters.pilot))
    if filters.rule.isdigit():
        items = items.filter(rule_id=int(filters.rule))
    if filters.reason in QUEUE_REASONS:
        items = items.filter(QUEUE_REASONS[filters.reason])
    if filters.late == "yes":
        items = items.filter(due_at__lt=timezone.now())
    return items


def open_escalations_of(pilot: Pilot) -> QuerySet[Escalation]:
    return Escalation.objects.filter(pilot=pilot, decided_at=None)


def rule_tables_of(pilot: Pilot) -> QuerySet[RuleTable]:
    return RuleTable.objects.filter(pilot=pilot).select_related("published_by").order_by("-version")


def current_table(pilot: Pilot) -> RuleTable | None:
    return rule_tables_of(pilot).prefetch_related("rules__reviewer").first()


# --- the decision log: routing decisions (from the cases) and review decisions, in one list ---

LOG_COLUMNS = (
    "log_at",
    "log_kind",
    "log_outcome",
    "log_case",
    "log_external_id",
    "log_version",
    "log_rule",
    "log_actor",
    "log_rationale",
)
ROUTES = ("automated", "escalated", "rejected", "sampled")


@dataclass
class LogFilters:
    kind: str = ""  # "routing" or "review"
    outcome: str = ""  # a route (automated …) or a review outcome (approve …)
    rule_version: str = ""
    actor: str = ""  # a reviewer's user id
    q: str = ""  # external id starts with
    date_from: str = ""  # ISO dates, in the workspace's time zone
    date_to: str = ""


def _day(text: str, zone) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(text), time.min, tzinfo=zone)
    except ValueError:
        return None


def decision_log(pilot: Pilot, filters: LogFilters) -> QuerySet:
    """Every routing and review decision of the pilot, newest first, as dicts keyed by LOG_COLUMNS.

    A routing decision is when the case arrived (routing is instant) and is made by the rules;
    a review decision is made by a person, with a rationale."""
    zone = pilot.workspace.zone
    start, end = _day(filters.date_from, zone), _day(filters.date_to, zone)
    routing = Case.objects.filter(pilot=pilot).exclude(route="").order_by()
    reviews = Decision.objects.filter(pilot=pilot).order_by()
    if filters.outcome in ROUTES:
        routing = routing.filter(route=filters.outcome)
        reviews = reviews.none()
    elif filters.outcome in Outcome.values:
        reviews = reviews.filter(outcome=filters.outcome)
        routing = routing.none()
    if filters.rule_version.isdigit():
        routing = routing.filter(rule_version=int(filters.rule_version))
        reviews = reviews.filter(rule__table__version=int(filters.rule_version))
    if filters.actor.isdigit():
        routing = routing.none()
        reviews = reviews.filter(reviewer_id=int(filters.actor))
    if filters.q:
        routing = routing.filter(external_id__startswith=filters.q)
        reviews = reviews.filter(case__external_id__startswith=filters.q)
    if start:
        routing = routing.filter(received_at__gte=start)
        reviews = reviews.filter(decided_at__gte=start)
    if end:
        routing = routing.filter(received_at__lt=end + timedelta(days=1))
        reviews = reviews.filter(decided_at__lt=end + timedelta(days=1))
    if filters.kind == "routing":
        reviews = reviews.none()
    elif filters.kind == "review":
        routing = routing.none()
    text = CharField()
    routing_rows = routing.values(
        log_at=F("received_at"),
        log_kind=Value("routing", output_field=text),
        log_outcome=F("route"),
        log_case=F("id"),
        log_external_id=F("external_id"),
        log_version=F("rule_version"),
        log_rule=F("rule_clause"),
        log_actor=Value("rules", output_field=text),
        log_rationale=Value("", output_field=text),
    )
    review_rows = reviews.values(
        log_at=F("decided_at"),
        log_kind=Value("review", output_field=text),
        log_outcome=F("outcome"),
        log_case=F("case_id"),
        log_external_id=F("case__external_id"),
        log_version=F("rule__table__version"),
        log_rule=F("rule__label"),
        log_actor=F("actor_label"),
        log_rationale=F("rationale"),
    )
    return routing_rows.union(review_rows, all=True).order_by("-log_at", "-log_case")
