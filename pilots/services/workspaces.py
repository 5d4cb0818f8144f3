"""Workspaces and their members."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from pilots import selectors, tasks
from pilots.models import Membership, Pilot, Role, Workspace
from pilots.models.workspaces import validate_currency, validate_timezone
from pilots.services import audit
from pilots.services.queue import enqueue_on_commit

User = get_user_model()

WORKSPACE_FIELDS = ["name", "slug", "timezone", "currency"]
PILOT_ROLES = {Role.PROGRAM_MANAGER: "program_manager", Role.WORKFLOW_OWNER: "workflow_owner"}


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "workspace"
    slug, n = base, 2
    while Workspace.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _clean_workspace(*, name: str, timezone: str, currency: str) -> tuple[str, str, str]:
    errors = {}
    name = name.strip()
    if not name:
        errors["name"] = "Give the workspace a name."
    for field, value, validator in (
        ("timezone", timezone, validate_timezone),
        ("currency", currency, validate_currency),
    ):
        try:
            validator(value)
        except ValidationError as error:
            errors[field] = error.messages
    if errors:
        raise ValidationError(errors)
    return name, timezone, currency


@transaction.atomic
def create_workspace(*, actor, name: str, timezone: str = "UTC", currency: str = "EUR") -> Workspace:
    """Any signed-in user may create a workspace; they become its admin."""
    name, timezone, currency = _clean_workspace(name=name, timezone=timezone, currency=currency)
    workspace = Workspace.objects.create(
        name=name, slug=_unique_slug(name), timezone=timezone, currency=currency
    )
    membership = Membership.objects.create(workspace=workspace, user=actor, is_admin=True)
    audit.record(
        workspace=workspace,
        actor=actor,
        action="workspace.created",
        obj=workspace,
        after=audit.snapshot(workspace, WORKSPACE_FIELDS),
    )
    audit.record(
        workspace=workspace,
        actor=actor,
        action="member.added",
        obj=membership,
        after={"user": actor.username, "roles": sorted(membership.roles)},
    )
    return workspace


@transaction.atomic
def update_workspace(*, workspace: Workspace, actor, name: str, timezone: str, currency: str) -> Workspace:
    name, timezone, currency = _clean_workspace(name=name, timezone=timezone, currency=currency)
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    before = audit.snapshot(workspace, WORKSPACE_FIELDS)
    workspace.name, workspace.timezone, workspace.currency = name, timezone, currency
    workspace.save(update_fields=["name", "timezone", "currency"])
    after = audit.snapshot(workspace, WORKSPACE_FIELDS)
    if after != before:
        audit.record(
            workspace=workspace,
            actor=actor,
            action="workspace.updated",
            obj=workspace,
            before=before,
            after=after,
        )
    return workspace


def _clean_roles(roles) -> set[str]:
    roles = set(roles)
    if not roles:
        raise ValidationError({"roles": "Give the member at least one role."})
    unknown = roles - set(Role.values)
    if unknown:
        raise ValidationError({"roles": f"Unknown role(s): {', '.join(sorted(unknown))}."})
    return roles


@transaction.atomic
def add_member(*, workspace: Workspace, actor, email: str, roles) -> tuple[Membership, bool]:
    """Add an existing user by email, or create one and email them a link to set a password.

    Returns the membership and whether a new user account was created.
    """
    roles = _clean_roles(roles)
    email = User.objects.normalize_email(email.strip())
    if "@" not in email:
        raise ValidationError({"email": "Enter the new member's email address."})
    user = User.objects.filter(email__iexact=email).order_by("id").first()
    created = user is None
    if created:
        if User.objects.filter(username__iexact=email).exists():
            raise ValidationError(
                {"email": "A user with this name already exists; ask them for their email."}
            )
        user = User.objects.create_user(username=email, email=email)  # unusable password until they set one
    elif Membership.objects.filter(workspace=workspace, user=user).exists():
        raise ValidationError({"email": f"{email} is already a member of {workspace}."})
    membership = Membership(workspace=workspace, user=user)
    membership.set_roles(roles)
    membership.save()
    audit.record(
        workspace=workspace,
        actor=actor,
        action="member.added",
        obj=membership,
        after={"user": user.username, "roles": sorted(roles), "new_account": created},
    )
    enqueue_on_commit(tasks.send_member_welcome, membership.pk, created)
    return membership, created


def _pilots_held(membership: Membership, role: str) -> list[Pilot]:
    field = PILOT_ROLES[role]
    return list(Pilot.objects.filter(workspace_id=membership.workspace_id, **{field: membership.user_id}))


@transaction.atomic
def set_member_roles(*, membership: Membership, actor, roles) -> Membership:
    roles = _clean_roles(roles)
    membership = (
        Membership.objects.select_for_update().select_related("user", "workspace").get(pk=membership.pk)
    )
    before = sorted(membership.roles)
    lost = membership.roles - roles
    if Role.ADMIN in lost and _admin_count(membership.workspace_id) <= 1:
        raise ValidationError(
            {"roles": "A workspace needs at least one admin; make someone else admin first."}
        )
    for role in lost & set(PILOT_ROLES):
        held = _pilots_held(membership, role)
        if held:
            names = ", ".join(p.name for p in held[:5])
            raise ValidationError(
                {
                    "roles": f"{membership.user} is still {Role(role).label.lower()} of {len(held)} pilot(s) "
                    f"({names}); reassign them first."
                }
            )
    membership.set_roles(roles)
    membership.save()
    if sorted(roles) != before:
        audit.record(
            workspace=membership.workspace,
            actor=actor,
            action="member.roles_changed",
            obj=membership,
            before={"roles": before},
            after={"roles": sorted(roles)},
        )
    return membership


def _admin_count(workspace_id: int) -> int:
    return Membership.objects.filter(workspace_id=workspace_id, is_admin=True).count()


@transaction.atomic
def remove_member(*, membership: Membership, actor) -> None:
    """Remove a member; refused while they still manage or own pilots (reassign those first)."""
    membership = (
        Membership.objects.select_for_update().select_related("user", "workspace").get(pk=membership.pk)
    )
    workspace, user = membership.workspace, membership.user
    held = selectors.pilots_held_by(workspace, user)
    if held.exists():
        names = ", ".join(held.values_list("name", flat=True)[:5])
        raise ValidationError(
            f"{user} still manages or owns {held.count()} pilot(s) ({names}); reassign them before removing."
        )
    if membership.is_admin and _admin_count(workspace.pk) <= 1:
        raise ValidationError("This is the workspace's only admin; make someone else admin first.")
    for pilot in Pilot.objects.filter(workspace=workspace, reviewers=user):
        pilot.reviewers.remove(user)
        audit.record(
            workspace=workspace,
            actor=actor,
            action="pilot.reviewer_removed",
            obj=pilot,
            pilot=pilot,
            before={"reviewer": user.username},
        )
    audit.record(
        workspace=workspace,
        actor=actor,
        action="member.removed",
        obj=membership,
        before={"user": user.username, "roles": sorted(membership.roles)},
    )
    membership.delete()


@transaction.atomic
def reassign_pilots(
    *, workspace: Workspace, actor, from_user, program_manager=None, workflow_owner=None
) -> int:
    """Hand every pilot `from_user` manages (or owns) to another member with that role."""
    changed = 0
    for role, successor in ((Role.PROGRAM_MANAGER, program_manager), (Role.WORKFLOW_OWNER, workflow_owner)):
        field = PILOT_ROLES[role]
        pilots = list(Pilot.objects.select_for_update().filter(workspace=workspace, **{field: from_user}))
        if not pilots:
            continue
        if successor is None:
            raise ValidationError({field: f"Choose who takes over as {Role(role).label.lower()}."})
        if successor == from_user:
            raise ValidationError({field: "Choose someone else."})
        if not Membership.objects.with_role(role).filter(workspace=workspace, user=successor).exists():
            raise ValidationError(
                {field: f"{successor} is not a {Role(role).label.lower()} of this workspace."}
            )
        for pilot in pilots:
            before = audit.snapshot(pilot, [field])
            setattr(pilot, field, successor)
            update = [field, "updated_at"]
            if role == Role.WORKFLOW_OWNER:
                # Accountability is personal: the new owner accepts it anew.
                pilot.accountability_accepted_by = None
                pilot.accountability_accepted_at = None
                update += ["accountability_accepted_by", "accountability_accepted_at"]
            pilot.save(update_fields=update)
            audit.record(
                workspace=workspace,
                actor=actor,
                action="pilot.reassigned",
                obj=pilot,
                pilot=pilot,
                before=before,
                after=audit.snapshot(pilot, [field]),
            )
            changed += 1
    return changed
