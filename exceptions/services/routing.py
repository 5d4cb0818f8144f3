"""Applying the current rule table: to each arriving batch (via `exceptions.intake`) and, on demand, to
stored cases that arrived before there were rules (the backfill)."""

from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from exceptions.models import Escalation, RuleTable
from exceptions.router import CompiledTable, compiled, sample_bucket
from pilots.models import Case, Pilot
from pilots.services import audit, bulk
from pilots.services.intake import Draft

ESCALATED, SAMPLED = "escalated", "sampled"
REVIEWED_ROUTES = (ESCALATED, SAMPLED)
SAMPLE_REVIEW_HOURS = 72  # an audit sample's service level when its rule names none
BACKFILL_BATCH = 2000
NO_KINDS: frozenset[str] = frozenset()


def current_compiled(pilot: Pilot) -> CompiledTable | None:
    latest = (
        RuleTable.objects.filter(pilot_id=pilot.pk)
        .order_by("-version")
        .values_list("pk", "published_at")
        .first()
    )
    return compiled(*latest) if latest is not None else None


def route_drafts(pilot_id: int, table: CompiledTable, drafts: list[Draft]) -> None:
    """Set route, rule version and clause on each draft; decided_at for every route but escalation."""
    match, rules, flags = table.router.match, table.rules, table.router.uses_flags
    version = table.version
    for draft in drafts:
        values = draft.values
        kinds = {kind for _, kind, _ in draft.problems} if flags and draft.problems else NO_KINDS
        rule = rules[match(values["inputs"], values["outputs"], kinds)]
        route = rule.route
        if rule.sample_threshold and sample_bucket(pilot_id, values["external_id"]) < rule.sample_threshold:
            route = SAMPLED
        values["route"] = route
        values["rule_version"] = version
        values["rule_clause"] = rule.label
        values["rule"] = rule  # the escalation opened after the store follows this very rule
        if route != ESCALATED:
            # Routing is instant: the case was decided when it was received. A decided_at supplied by
            # the pilot's own system stands (the hub stores it in preference to this one).
            values["routed_decided_at"] = values["received_at"]


def _due(rule, reason: str, received_at: datetime) -> datetime:
    """`hours` after `received_at` in elapsed time. In UTC: a time given without an offset carries the
    workspace's zone, where adding hours is wall-clock arithmetic, an hour off across a clock change."""
    hours = rule.service_level_hours or (SAMPLE_REVIEW_HOURS if reason == SAMPLED else 24)
    return received_at.astimezone(UTC) + timedelta(hours=hours)


def _escalation(rule, case_id: int, pilot_id: int, route: str, received_at: datetime) -> dict:
    """A new escalation's row, for `bulk.insert`."""
    return {
        "case_id": case_id,
        "pilot_id": pilot_id,
        "rule_id": rule.id,
        "reason": route,
        "reviewer_id": rule.reviewer_id if route == ESCALATED else None,
        "received_at": received_at,
        "due_at": _due(rule, route, received_at),
    }


def open_escalations(pilot: Pilot, drafts: list[Draft], outcomes: dict[str, str]) -> None:
    """After the batch is stored: an escalation for each new escalated or sampled case; a changed,
    undecided case that was re-routed loses its open escalation (and gets a new one if still escalated).
    Each draft carries its stored row's id (`case_id`); one a concurrent upload stored first has none,
    and that upload opens its escalation."""
    stored = [
        d for d in drafts if outcomes.get(d.external_id) in ("created", "updated") and d.values.get("route")
    ]
    wanted = [
        d
        for d in stored
        if d.values["route"] == SAMPLED
        or (d.values["route"] == ESCALATED and d.values.get("decided_at") is None)
    ]
    updated = [d.case_id for d in stored if outcomes[d.external_id] == "updated" and d.case_id]
    if not wanted and not updated:
        return
    if updated:
        Escalation.objects.filter(case_id__in=updated, decided_at=None).delete()
    # Each escalation follows the rule that routed its case (not the table read again: one published in
    # between would not know the rule, and the escalated case would wait with no escalation).
    pilot_id = pilot.pk
    new = [
        _escalation(d.values["rule"], d.case_id, pilot_id, d.values["route"], d.values["received_at"])
        for d in wanted
        if d.case_id is not None
    ]
    bulk.insert(Escalation, new)


def unrouted_count(pilot: Pilot) -> int:
    return Case.objects.filter(pilot=pilot, route="").count()


def route_stored_cases(*, pilot_id: int, actor=None, now: datetime | None = None) -> int:
    """Route the pilot's stored cases that have no route yet (they arrived before the rules).

    Idempotent: a case that has a route is never touched again, so a second run routes nothing.
    Automated and rejected cases are decided now; escalated and sampled ones join the queue."""
    pilot = Pilot.objects.select_related("workspace").get(pk=pilot_id)
    table = current_compiled(pilot)
    if table is None:
        return 0
    now = now or timezone.now()
    done = 0
    while True:
        with transaction.atomic():
            cases = list(
                Case.objects.select_for_update(skip_locked=True)
                .filter(pilot_id=pilot_id, route="")
                .order_by("id")
                .only("id", "external_id", "inputs", "outputs", "problems", "received_at", "decided_at")[
                    :BACKFILL_BATCH
                ]
            )
            if not cases:
                break
            drafts = [
                Draft(
                    arrival=None,
                    values={
                        "external_id": case.external_id,
                        "inputs": case.inputs,
                        "outputs": case.outputs,
                        "received_at": now,
                    },
                    problems=[(p["field"], p["kind"], p["message"]) for p in case.problems],
                )
                for case in cases
            ]
            route_drafts(pilot_id, table, drafts)
            escalations = []
            for case, draft in zip(cases, drafts, strict=True):
                values = draft.values
                case.route, case.rule_version, case.rule_clause = (
                    values["route"],
                    values["rule_version"],
                    values["rule_clause"],
                )
                undecided = case.decided_at is None
                if undecided and values["route"] != ESCALATED:
                    case.decided_at = now
                if values["route"] == SAMPLED or (values["route"] == ESCALATED and undecided):
                    escalations.append(_escalation(values["rule"], case.pk, pilot_id, values["route"], now))
            Case.objects.bulk_update(cases, ["route", "rule_version", "rule_clause", "decided_at"])
            bulk.insert(Escalation, escalations)
            done += len(cases)
    if done:
        audit.record(
            workspace=pilot.workspace,
            actor=actor,
            action="cases.routed",
            obj=pilot,
            pilot=pilot,
            after={"cases": done, "rule_version": table.version},
        )
    return done
