"""Reads, always scoped to a workspace the caller has already been checked against."""

from dataclasses import dataclass

from django.db.models import Case, Count, F, IntegerField, Prefetch, Q, QuerySet, Value, When

from pilots import checks
from pilots.models import (
    STAGE_ORDER,
    AuditEvent,
    GateCondition,
    GateRequest,
    Membership,
    Pilot,
    Stage,
    Status,
    Workspace,
    stage_index,
)

__all__ = [
    "PilotFilters",
    "SORTS",
    "StageStep",
    "activity",
    "blockers",
    "business_units",
    "conditions_open_for",
    "decisions_waiting_for",
    "gate_history",
    "members_with_role",
    "next_gate_checks",
    "open_conditions",
    "pending_request",
    "pilot_list",
    "pilots_by_stage",
    "pilots_held_by",
    "stage_steps",
    "workspaces_of",
]

SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "stage": ("stage_rank", "name"),
    "-stage": ("-stage_rank", "name"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "target": (F("target_date").asc(nulls_last=True), "name"),
    "readiness": (F("readiness__score").asc(nulls_last=True), "name"),
    "-readiness": (F("readiness__score").desc(nulls_last=True), "name"),
    "-target": (F("target_date").desc(nulls_last=True), "name"),
}


def workspaces_of(user) -> QuerySet[Workspace]:
    return Workspace.objects.filter(memberships__user=user).order_by("name")


@dataclass
class PilotFilters:
    q: str = ""
    stage: str = ""
    status: str = ""
    owner: str = ""
    business_unit: str = ""
    sort: str = "name"


def pilot_list(workspace: Workspace, filters: PilotFilters) -> QuerySet[Pilot]:

    pilots = Pilot.objects.in_workspace(workspace).select_related(
        "program_manager", "workflow_owner", "readiness"
    )
    if filters.q:
        pilots = pilots.filter(
            Q(name__icontains=filters.q) | Q(problem__icontains=filters.q) | Q(workflow__icontains=filters.q)
        )
    if filters.stage in Stage.values:
        pilots = pilots.filter(stage=filters.stage)
    if filters.status in Status.values:
        pilots = pilots.filter(status=filters.status)
    if filters.owner.isdigit():
        pilots = pilots.filter(workflow_owner_id=int(filters.owner))
    if filters.business_unit:
        pilots = pilots.filter(business_unit=filters.business_unit)
    rank = Case(
        *(When(stage=s, then=Value(i)) for i, s in enumerate(STAGE_ORDER)), output_field=IntegerField()
    )
    return pilots.annotate(
        stage_rank=rank,
        pending_requests=Count("gate_requests", filter=Q(gate_requests__state=GateRequest.State.PENDING)),
    ).order_by(*SORTS.get(filters.sort, SORTS["name"]))


def business_units(workspace: Workspace) -> list[str]:
    return list(
        Pilot.objects.in_workspace(workspace)
        .exclude(business_unit="")
        .order_by("business_unit")
        .values_list("business_unit", flat=True)
        .distinct()
    )


def members_with_role(workspace: Workspace, role: str) -> QuerySet[Membership]:
    return (
        Membership.objects.with_role(role)
        .filter(workspace=workspace)
        .select_related("user")
        .order_by("user__username")
    )


@dataclass
class StageStep:
    stage: str
    label: str
    state: str  # done, current, next, later


def stage_steps(pilot: Pilot) -> list[StageStep]:
    current = stage_index(pilot.stage)
    steps = []
    for i, (value, label) in enumerate(Stage.choices):
        state = (
            "done" if i < current else "current" if i == current else "next" if i == current + 1 else "later"
        )
        steps.append(StageStep(value, label, state))
    return steps


def pending_request(pilot: Pilot) -> GateRequest | None:
    return (
        GateRequest.objects.filter(pilot=pilot, state=GateRequest.State.PENDING)
        .select_related("requested_by")
        .first()
    )


def gate_history(pilot: Pilot) -> QuerySet[GateRequest]:
    return (
        GateRequest.objects.filter(pilot=pilot)
        .select_related("requested_by", "withdrawn_by", "decision__decided_by")
        .prefetch_related(
            Prefetch("decision__conditions", queryset=GateCondition.objects.select_related("owner"))
        )
    )


def open_conditions(pilot: Pilot) -> QuerySet[GateCondition]:
    return GateCondition.objects.filter(pilot=pilot, closed_at=None).select_related("owner")


def next_gate_checks(pilot: Pilot) -> list[tuple[checks.Check, checks.Result]]:
    """The checks the pilot's next gate needs, with their current results."""
    gate = pilot.next_gate
    if gate is None:
        return []
    results = checks.evaluate([pilot.pk], gate=gate).get(pilot.pk, {})
    return [(c, results[c.id]) for c in checks.required_at(gate)]


def activity(pilot: Pilot, limit: int = 30) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(pilot=pilot).order_by("-at", "-id")[:limit]


def decisions_waiting_for(user, workspace: Workspace) -> QuerySet[GateRequest]:
    return (
        GateRequest.objects.filter(
            pilot__workspace=workspace, pilot__workflow_owner=user, state=GateRequest.State.PENDING
        )
        .select_related("pilot", "requested_by")
        .order_by("created_at")
    )


def conditions_open_for(user, workspace: Workspace) -> QuerySet[GateCondition]:
    return (
        GateCondition.objects.filter(pilot__workspace=workspace, closed_at=None)
        .filter(Q(owner=user) | Q(pilot__workflow_owner=user))
        .select_related("pilot", "owner")
        .order_by("due_on")
    )


def blockers(pilot_list: list[Pilot]) -> dict[int, list[str]]:
    """Why each active pilot cannot pass its next gate yet, in one batch of check queries."""
    by_gate: dict[str, list[int]] = {}
    for pilot in pilot_list:
        if pilot.status == Status.ACTIVE and pilot.next_gate:
            by_gate.setdefault(pilot.next_gate, []).append(pilot.pk)
    out: dict[int, list[str]] = {p.pk: [] for p in pilot_list}
    for gate, ids in by_gate.items():
        results = checks.evaluate(ids, gate=gate)
        for pilot_id, by_check in results.items():
            out[pilot_id] = [
                checks.get(check_id).title for check_id, result in by_check.items() if not result.passes
            ]
    return out


def pilots_by_stage(workspace: Workspace) -> list[tuple[str, str, list[Pilot]]]:
    grouped: dict[str, list[Pilot]] = {s: [] for s in STAGE_ORDER}
    for pilot in Pilot.objects.in_workspace(workspace).select_related("workflow_owner").order_by("name"):
        grouped[pilot.stage].append(pilot)
    return [(s, Stage(s).label, grouped[s]) for s in STAGE_ORDER]


def pilots_held_by(workspace: Workspace, user) -> QuerySet[Pilot]:
    """Pilots the user manages or owns: they must be reassigned before the user leaves."""
    return (
        Pilot.objects.in_workspace(workspace)
        .filter(Q(program_manager=user) | Q(workflow_owner=user))
        .order_by("name")
    )
