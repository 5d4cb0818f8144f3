"""Edge cases and trust: the exceptions.* checks of DESIGN.md's table (batch queries, never per pilot)."""

from collections import defaultdict
from datetime import timedelta

from django.db.models import Count, F, Min, Q
from django.utils import timezone

from exceptions.models import Action, Decision, Escalation, RoutingRule, RuleTable
from pilots.checks import (
    MISSING,
    VERIFIED,
    Evidence,
    Result,
    case_counts,
    case_facts,
    check,
    figures,
    pilot_url,
    shared,
)

PROBLEMS_TO_COVER = ("missing", "invalid", "late")
DECISIONS_NEEDED = 20
SERVICE_LEVEL_SHARE = 0.90
WINDOW = timedelta(days=30)


def _rules_link(pilot_id: int) -> tuple[str, str]:
    return ("Routing rules", pilot_url("rules", pilot_id))


def _log_link(pilot_id: int) -> tuple[str, str]:
    return ("Decision log", pilot_url("decision_log", pilot_id))


@shared
def _current_rules(pilot_ids: list[int]) -> dict[int, list[RoutingRule]]:
    latest = {}
    for pilot_id, table_id in (
        RuleTable.objects.filter(pilot_id__any_of=pilot_ids)
        .order_by("pilot_id", "version")
        .values_list("pilot_id", "id")
    ):
        latest[pilot_id] = table_id
    rules: dict[int, list[RoutingRule]] = defaultdict(list)
    for rule in (
        RoutingRule.objects.filter(table_id__in=latest.values()).select_related("table").order_by("position")
    ):
        rules[rule.table.pilot_id].append(rule)
    return rules


def _flags_routed(rule: RoutingRule) -> set[str]:
    """The problem kinds whose cases this rule takes out of automation (`problems.<kind> is true`)."""
    if rule.action == Action.AUTOMATE:
        return set()
    return {
        c["field"].split(".", 1)[1]
        for c in rule.clauses
        if c["field"].startswith("problems.") and c["op"] == "is_true"
    }


@case_counts
def _problem_routes(now) -> dict:
    recent = Q(received_at__gte=now - WINDOW) & (Q(has_missing=True) | Q(has_invalid=True) | Q(has_late=True))
    return {
        "problems_routed_30d": Count("id", filter=recent & Q(route__in=("escalated", "rejected"))),
        "problems_automated_30d": Count("id", filter=recent & Q(route__in=("automated", "sampled"))),
    }


@check(
    id="exceptions.rules_cover_problems",
    section="edge_cases",
    title="Rules route cases with missing, invalid or late inputs",
    gate="feedback_loops",
)
def rules_cover_problems(pilot_ids: list[int]) -> dict[int, Result]:
    rules = _current_rules(pilot_ids)
    facts = case_facts(pilot_ids)
    routed = {pilot_id: row["problems_routed_30d"] for pilot_id, row in facts.items()}
    automated = {pilot_id: row["problems_automated_30d"] for pilot_id, row in facts.items()}
    results = {}
    for pilot_id in pilot_ids:
        links = (_rules_link(pilot_id),)
        covered = set().union(*(_flags_routed(rule) for rule in rules.get(pilot_id, [])))
        uncovered = [kind for kind in PROBLEMS_TO_COVER if kind not in covered]
        if not rules.get(pilot_id):
            results[pilot_id] = Result(
                MISSING, Evidence("No routing rules yet.", links), "Write the pilot's routing rules."
            )
        elif uncovered:
            results[pilot_id] = Result(
                MISSING,
                Evidence(f"No rule escalates or rejects cases with {', '.join(uncovered)} inputs.", links),
                f"Add rules that escalate (or reject) cases whose inputs are {' or '.join(uncovered)}.",
            )
        elif not routed.get(pilot_id):
            results[pilot_id] = Result(
                MISSING,
                Evidence(
                    "The rules cover missing, invalid and late inputs, "
                    "but no such case was routed in 30 days.",
                    links,
                ),
                "Route real cases through the rules (upload or send cases with their problems).",
            )
        else:
            leaked = automated.get(pilot_id, 0)
            note = f"; {leaked} such case(s) were automated" if leaked else ""
            results[pilot_id] = Result(
                VERIFIED,
                Evidence(
                    "Rules escalate or reject missing, invalid and late inputs: "
                    f"{routed[pilot_id]} case(s) in 30 days{note}.",
                    links,
                ),
            )
    return results


@check(
    id="exceptions.audit_sampling",
    section="trust",
    title="Audit sampling on for automated cases",
    gate="feedback_loops",
)
def audit_sampling(pilot_ids: list[int]) -> dict[int, Result]:
    rules = _current_rules(pilot_ids)
    results = {}
    for pilot_id in pilot_ids:
        links = (_rules_link(pilot_id),)
        automating = [rule for rule in rules.get(pilot_id, []) if rule.action == Action.AUTOMATE]
        unsampled = [rule for rule in automating if not rule.sample_percent]
        if not automating:
            results[pilot_id] = Result(
                MISSING,
                Evidence("No rule automates cases yet.", links),
                "Automate the routine cases, with a share sampled for audit.",
            )
        elif unsampled:
            results[pilot_id] = Result(
                MISSING,
                Evidence(
                    f"{len(unsampled)} automating rule(s) sample nothing for audit: {unsampled[0].label}.",
                    links,
                ),
                "Set an audit sampling percentage on every rule that automates.",
            )
        else:
            # normalize(): a Decimal keeps its trailing zeros under :g ("5.00"); show "5%", "2.5%".
            shares = ", ".join(f"{rule.sample_percent.normalize():f}%" for rule in automating)
            results[pilot_id] = Result(
                VERIFIED, Evidence(f"Every automating rule samples cases for audit ({shares}).", links)
            )
    return results


@check(
    id="exceptions.decisions_logged",
    section="trust",
    title="At least 20 real reviewer decisions",
    gate="production",
)
def decisions_logged(pilot_ids: list[int]) -> dict[int, Result]:
    counts = dict(
        Decision.objects.filter(pilot_id__any_of=pilot_ids)
        .values_list("pilot_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    results = {}
    for pilot_id in pilot_ids:
        n = counts.get(pilot_id, 0)
        evidence = Evidence(f"{n} reviewer decision(s) logged.", (_log_link(pilot_id),))
        if n >= DECISIONS_NEEDED:
            results[pilot_id] = Result(VERIFIED, evidence)
        else:
            results[pilot_id] = Result(
                MISSING, evidence, f"Have reviewers decide {DECISIONS_NEEDED - n} more escalated case(s)."
            )
    return results


@check(
    id="exceptions.within_service_level",
    section="trust",
    title="90% of escalations decided within their service level",
    gate="production",
)
def within_service_level(pilot_ids: list[int]) -> dict[int, Result]:
    now = timezone.now()
    rows = (
        Escalation.objects.filter(
            pilot_id__any_of=pilot_ids, reason=Escalation.Reason.ESCALATED, received_at__gte=now - WINDOW
        )
        .filter(Q(decided_at__isnull=False) | Q(due_at__lt=now))  # still open and not yet due: undecided
        .values_list("pilot_id")
        .annotate(
            total=Count("id"),
            met=Count("id", filter=Q(decided_at__isnull=False, decided_at__lte=F("due_at"))),
        )
        .order_by()
    )
    counts = {pilot_id: (total, met) for pilot_id, total, met in rows}
    results = {}
    for pilot_id in pilot_ids:
        total, met = counts.get(pilot_id, (0, 0))
        links = (("Review decisions", pilot_url("decision_log", pilot_id) + "?kind=review"),)
        if not total:
            results[pilot_id] = Result(
                MISSING,
                Evidence("No escalation came due in 30 days.", links),
                "Route and decide escalations.",
            )
            continue
        share = met / total
        evidence = Evidence(
            f"{met} of {total} escalations in 30 days decided within their service level ({share:.0%}).",
            links,
        )
        if share >= SERVICE_LEVEL_SHARE:
            results[pilot_id] = Result(VERIFIED, evidence)
        else:
            results[pilot_id] = Result(
                MISSING, evidence, "Decide escalations within their service level (or set a realistic one)."
            )
    return results


@figures("exceptions")
def queue_figures(pilot_ids: list[int]) -> dict[int, dict]:
    """The review queue as the dashboard shows it: open escalations, and those past their service level
    (their pilot's workflow owner, who may always review, can unblock them)."""
    now = timezone.now()
    rows = (
        Escalation.objects.filter(pilot_id__any_of=pilot_ids, decided_at=None)
        .values("pilot_id")
        .annotate(
            open=Count("id"),
            overdue=Count("id", filter=Q(due_at__lt=now)),
            oldest_overdue=Min("due_at", filter=Q(due_at__lt=now)),
        )
        .order_by()
    )
    found = {row["pilot_id"]: row for row in rows}
    out = {}
    for pilot_id in pilot_ids:
        row = found.get(pilot_id, {})
        oldest = row.get("oldest_overdue")
        out[pilot_id] = {
            "open_escalations": row.get("open", 0),
            "overdue_escalations": row.get("overdue", 0),
            "oldest_overdue_due_at": oldest.isoformat() if oldest else None,
        }
    return out
