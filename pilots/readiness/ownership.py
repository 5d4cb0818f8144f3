"""Ownership: who is accountable for the workflow the pilot changes."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q
from django.utils import timezone

from pilots.checks import MISSING, VERIFIED, Evidence, Result, check, pilot_facts, pilot_url
from pilots.models import GateRequest, Membership, Pilot

User = get_user_model()


def _names(user_ids: set[int]) -> dict[int, str]:
    """Full names (or user names) of these users, in one query."""
    rows = User.objects.filter(id__in=user_ids).values_list("id", "first_name", "last_name", "username")
    return {uid: f"{first} {last}".strip() or username for uid, first, last, username in rows}


def _pilot_link(pilot_id: int) -> tuple[str, str]:
    return ("Pilot settings", pilot_url("pilot_edit", pilot_id))


@check(
    id="ownership.named",
    section="ownership",
    title="Program manager and workflow owner named",
    gate="define_success",
)
def named(pilot_ids: list[int]) -> dict[int, Result]:
    pilots = [
        (row["id"], row["workspace_id"], row["program_manager_id"], row["workflow_owner_id"])
        for row in pilot_facts(pilot_ids).values()
    ]
    people = {row[2] for row in pilots} | {row[3] for row in pilots}
    names = _names(people)
    memberships = {
        (m.workspace_id, m.user_id): m
        for m in Membership.objects.filter(
            workspace_id__in={row[1] for row in pilots}, user_id__in=people, user__is_active=True
        )
    }
    results = {}
    for pilot_id, workspace_id, pm_id, owner_id in pilots:
        pm_name, owner_name = names[pm_id], names[owner_id]
        pm = memberships.get((workspace_id, pm_id))
        owner = memberships.get((workspace_id, owner_id))
        problems = []
        if not (pm and pm.is_program_manager):
            problems.append(f"{pm_name} is not an active program manager of this workspace")
        if not (owner and owner.is_workflow_owner):
            problems.append(f"{owner_name} is not an active workflow owner of this workspace")
        if problems:
            results[pilot_id] = Result(
                MISSING,
                Evidence("; ".join(problems) + ".", (_pilot_link(pilot_id),)),
                "Name a program manager and a workflow owner who are members with those roles.",
            )
        else:
            results[pilot_id] = Result(
                VERIFIED, Evidence(f"Program manager {pm_name}; workflow owner {owner_name}.")
            )
    return results


@check(
    id="ownership.accountability_accepted",
    section="ownership",
    title="Workflow owner accepted accountability",
    gate="define_success",
)
def accountability_accepted(pilot_ids: list[int]) -> dict[int, Result]:
    rows = [
        (
            row["id"],
            row["workflow_owner_id"],
            row["accountability_accepted_by_id"],
            row["accountability_accepted_at"],
        )
        for row in pilot_facts(pilot_ids).values()
    ]
    names = _names({row[1] for row in rows})
    results = {}
    for pilot_id, owner_id, accepted_by, accepted_at in rows:
        owner_name = names[owner_id]
        if accepted_by is not None and accepted_by == owner_id:
            results[pilot_id] = Result(
                VERIFIED, Evidence(f"{owner_name} accepted accountability on {accepted_at:%Y-%m-%d}.")
            )
        else:
            results[pilot_id] = Result(
                MISSING,
                Evidence(f"{owner_name} has not accepted accountability for this workflow in ProdReady."),
                f"{owner_name} opens the pilot and clicks “Accept accountability”.",
            )
    return results


@check(
    id="ownership.reviewers",
    section="ownership",
    title="At least one reviewer",
    gate="exception_paths",
)
def reviewers(pilot_ids: list[int]) -> dict[int, Result]:
    rows = (
        Pilot.objects.filter(id__any_of=pilot_ids)
        .annotate(named=Count("reviewers", distinct=True))
        .values_list("id", "workspace_id", "named")
    )
    rows = list(rows)
    pools = dict(
        Membership.objects.filter(
            workspace_id__in={row[1] for row in rows}, is_reviewer=True, user__is_active=True
        )
        .values("workspace_id")
        .annotate(n=Count("id"))
        .values_list("workspace_id", "n")
    )
    results = {}
    for pilot_id, workspace_id, named_count in rows:
        if named_count:
            results[pilot_id] = Result(VERIFIED, Evidence(f"{named_count} reviewer(s) named for this pilot."))
        elif pools.get(workspace_id):
            results[pilot_id] = Result(
                VERIFIED,
                Evidence(f"No reviewers named; the workspace's {pools[workspace_id]} reviewer(s) serve."),
            )
        else:
            results[pilot_id] = Result(
                MISSING,
                Evidence("No reviewer is named and the workspace has no member with the reviewer role."),
                "Name reviewers on the pilot, or give a workspace member the reviewer role.",
            )
    return results


@check(
    id="ownership.decisions_timely",
    section="ownership",
    title="Gate requests decided within 14 days",
    gate="feedback_loops",
)
def decisions_timely(pilot_ids: list[int]) -> dict[int, Result]:
    limit = timedelta(days=settings.GATE_DECISION_DAYS)
    now = timezone.now()
    waited = ExpressionWrapper(F("decision__decided_at") - F("created_at"), output_field=DurationField())
    counts = (
        GateRequest.objects.filter(pilot_id__any_of=pilot_ids)
        .exclude(state=GateRequest.State.WITHDRAWN)
        .annotate(waited=waited)
        .values("pilot_id")
        .annotate(
            total=Count("id"),
            late_decided=Count("id", filter=Q(state=GateRequest.State.DECIDED, waited__gt=limit)),
            late_pending=Count("id", filter=Q(state=GateRequest.State.PENDING, created_at__lt=now - limit)),
        )
    )
    by_pilot = {row["pilot_id"]: row for row in counts}
    results = {}
    for pilot_id in pilot_ids:
        row = by_pilot.get(pilot_id, {"total": 0, "late_decided": 0, "late_pending": 0})
        late = row["late_decided"] + row["late_pending"]
        if late:
            results[pilot_id] = Result(
                MISSING,
                Evidence(
                    f"{late} of {row['total']} gate request(s) waited over {limit.days} days for a decision "
                    f"({row['late_pending']} still waiting)."
                ),
                "The workflow owner decides waiting gate requests within "
                f"{limit.days} days; later requests must be decided on time.",
            )
        else:
            results[pilot_id] = Result(
                VERIFIED, Evidence(f"All {row['total']} gate request(s) decided within {limit.days} days.")
            )
    return results
