"""Who reviews which escalations (DESIGN.md "Reviewer pool"), on top of the hub's role table.

A pilot's reviewers are the members it names or, when it names none, every member with the reviewer
role (a live default); its workflow owner may always review. A rule may name one reviewer: its
escalations wait for that person (and the owner) only.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from exceptions.models import Escalation
from pilots import access
from pilots.models import Membership, Pilot, Workspace


def pool_ids(pilot: Pilot) -> set[int]:
    named = set(pilot.reviewers.values_list("id", flat=True))
    if named:
        return named
    return set(
        Membership.objects.filter(
            workspace_id=pilot.workspace_id, is_reviewer=True, user__is_active=True
        ).values_list("user_id", flat=True)
    )


def may_review(membership: Membership | None, pilot: Pilot, escalation: Escalation | None = None) -> bool:
    if membership is None:
        return False
    if membership.is_workflow_owner and pilot.workflow_owner_id == membership.user_id:
        return True
    if not membership.is_reviewer:
        return False
    if escalation is not None and escalation.reviewer_id is not None:
        return escalation.reviewer_id == membership.user_id
    return membership.user_id in pool_ids(pilot)


def escalation_for(user, escalation_id: int) -> Escalation:
    """The escalation, if the user may work it: 404 outside their workspaces, 403 if not theirs."""
    escalation = (
        Escalation.objects.select_related(
            "case", "pilot__workspace", "pilot__workflow_owner", "rule__table", "claimed_by"
        )
        .filter(pk=escalation_id)
        .first()
    )
    if escalation is None:
        raise Http404("No such case.")
    pilot = access.pilot_for(user, escalation.pilot_id, need="review_cases")
    escalation.pilot = pilot
    if not may_review(pilot.workspace.membership, pilot, escalation):
        raise PermissionDenied("This case waits for another reviewer.")
    return escalation


def served_pilot_ids(membership: Membership, workspace: Workspace) -> list[int]:
    """The pilots whose escalations this member works: named reviewer, pool default, or owner."""
    pilots = Pilot.objects.in_workspace(workspace)
    found: set[int] = set()
    if membership.is_reviewer:
        found.update(pilots.filter(reviewers=membership.user_id).values_list("id", flat=True))
        found.update(pilots.filter(reviewers=None).values_list("id", flat=True))
    if membership.is_workflow_owner:
        found.update(pilots.filter(workflow_owner_id=membership.user_id).values_list("id", flat=True))
    return sorted(found)


def queue_filter(membership: Membership, workspace: Workspace) -> Q:
    """The open escalations this member may take: their pilots' unassigned ones, those naming them, and
    (for a workflow owner) every one of the pilots they own."""
    user_id = membership.user_id
    mine = Q(pilot_id__in=served_pilot_ids(membership, workspace), reviewer=None)
    if membership.is_reviewer:
        mine |= Q(pilot__workspace=workspace, reviewer_id=user_id)
    if membership.is_workflow_owner:
        mine |= Q(pilot__workspace=workspace, pilot__workflow_owner_id=user_id)
    return mine
