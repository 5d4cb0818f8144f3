"""Who may do what. Views start here: `pilot_for` / `workspace_for` return the object or raise
404 (not a member of its workspace: the object does not exist for you) or 403 (a member without the
role the action needs).

Besides the five roles, two relations to a pilot grant actions: being its workflow owner
("pilot_owner") and being the member who made a pending gate request ("requester").
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from pilots.models import Membership, Pilot, Role, Workspace

ADMIN, PM, OWNER, REVIEWER, LEADER = (
    Role.ADMIN,
    Role.PROGRAM_MANAGER,
    Role.WORKFLOW_OWNER,
    Role.REVIEWER,
    Role.LEADER,
)
PILOT_OWNER = "pilot_owner"  # the workflow owner named on the pilot (and holding that role)
EVERY_ROLE = frozenset({ADMIN, PM, OWNER, REVIEWER, LEADER})

# The role × action table. A test walks every row.
RULES: dict[str, frozenset[str]] = {
    # workspace-level
    "view_workspace": EVERY_ROLE,
    "manage_members": frozenset({ADMIN}),
    "edit_workspace": frozenset({ADMIN}),
    "create_pilot": frozenset({ADMIN, PM}),
    "manage_integrations": frozenset({ADMIN}),  # API keys and webhook endpoints
    "view_portfolio": frozenset({ADMIN, PM, LEADER}),  # the portfolio dashboard and its export
    # pilot-level
    "view_pilot": EVERY_ROLE,
    "edit_pilot": frozenset({ADMIN, PM}),
    "copy_pilot": frozenset({ADMIN, PM}),
    "request_gate": frozenset({ADMIN, PM}),
    "withdraw_gate": frozenset({ADMIN, PM}),
    "decide_gate": frozenset({PILOT_OWNER}),
    "accept_accountability": frozenset({PILOT_OWNER}),
    "resume_pilot": frozenset({PILOT_OWNER}),
    "attest": frozenset({PM, PILOT_OWNER}),
    "close_condition": frozenset({ADMIN, PM, PILOT_OWNER}),
    # step 2: standardize inputs
    "edit_standard": frozenset({ADMIN, PM}),
    "register_ai_version": frozenset({ADMIN, PM}),
    "add_cases": frozenset({ADMIN, PM}),
    "set_conformance_threshold": frozenset({ADMIN, PM}),
    # step 1: define success
    "edit_metrics": frozenset({ADMIN, PM}),
    # step 3: exception paths (whom a case waits for is narrowed further by the pilot's reviewer pool)
    "edit_rules": frozenset({ADMIN, PM}),
    "review_cases": frozenset({REVIEWER, PILOT_OWNER}),
    "review_queue": frozenset({REVIEWER, OWNER}),
    # step 4: feedback loops
    "record_correction": frozenset({PM, REVIEWER}),
    "incorporate_corrections": frozenset({ADMIN, PM}),
    "edit_reason_codes": frozenset({ADMIN, PM}),
    "set_acceptable_correction_rate": frozenset({ADMIN, PM}),
}


def grants(membership: Membership | None, action: str, pilot: Pilot | None = None) -> bool:
    """Whether this membership may take `action` (on `pilot`, for pilot actions)."""
    if action not in RULES:
        raise KeyError(f"unknown action {action!r}")
    if membership is None:
        return False
    allowed = RULES[action]
    if membership.roles & allowed:
        return True
    if PILOT_OWNER in allowed and pilot is not None:
        return membership.is_workflow_owner and pilot.workflow_owner_id == membership.user_id
    return False


def membership_in(user: AbstractBaseUser | AnonymousUser, workspace_id: int) -> Membership | None:
    if not user.is_authenticated or not user.is_active:
        return None
    return Membership.objects.filter(workspace_id=workspace_id, user=user).first()


def workspace_for(
    user: AbstractBaseUser | AnonymousUser, slug: str, *, need: str = "view_workspace"
) -> Workspace:
    workspace = Workspace.objects.filter(slug=slug).first()
    membership = membership_in(user, workspace.pk) if workspace else None
    if membership is None:
        raise Http404("No such workspace.")
    if not grants(membership, need):
        raise PermissionDenied(f"Your roles in {workspace} do not allow this.")
    workspace.membership = membership
    timezone.activate(workspace.zone)
    return workspace


def pilot_for(user: AbstractBaseUser | AnonymousUser, pilot_id: int, *, need: str = "view_pilot") -> Pilot:
    pilot = (
        Pilot.objects.select_related("workspace", "program_manager", "workflow_owner")
        .filter(pk=pilot_id)
        .first()
    )
    membership = membership_in(user, pilot.workspace_id) if pilot else None
    if membership is None:
        raise Http404("No such pilot.")
    if not grants(membership, need, pilot):
        raise PermissionDenied("Your roles do not allow this on this pilot.")
    pilot.workspace.membership = membership
    timezone.activate(pilot.workspace.zone)
    return pilot


def allowed_actions(membership: Membership | None, pilot: Pilot | None = None) -> frozenset[str]:
    """Every action this member may take, for templates to show only the buttons that work."""
    return frozenset(action for action in RULES if grants(membership, action, pilot))
