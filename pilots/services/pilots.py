"""Registering, editing, copying, resuming pilots and accepting accountability for them."""

from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from pilots.models import Membership, Pilot, Role, Stage, Status, Workspace
from pilots.services import audit

EDITABLE_FIELDS = [
    "name",
    "problem",
    "workflow",
    "business_unit",
    "program_manager",
    "workflow_owner",
    "integration_points",
    "started_on",
    "target_date",
]
AUDITED_FIELDS = [*EDITABLE_FIELDS, "reviewers"]


@dataclass
class PilotDetails:
    """What a person types about a pilot; the same for create and edit, from a form or the API."""

    name: str
    problem: str
    workflow: str
    program_manager: object
    workflow_owner: object
    business_unit: str = ""
    reviewers: list = field(default_factory=list)
    integration_points: list[str] = field(default_factory=list)
    started_on: date | None = None
    target_date: date | None = None


def _validate(workspace: Workspace, details: PilotDetails) -> None:
    errors: dict[str, str] = {}
    for name in ("name", "problem", "workflow"):
        if not str(getattr(details, name) or "").strip():
            errors[name] = "This field is required."
    people = {details.program_manager.pk, details.workflow_owner.pk} | {r.pk for r in details.reviewers}
    roles = {m.user_id: m for m in Membership.objects.filter(workspace=workspace, user_id__in=people)}
    pm = roles.get(details.program_manager.pk)
    if not (pm and pm.is_program_manager):
        errors["program_manager"] = f"{details.program_manager} is not a program manager in this workspace."
    owner = roles.get(details.workflow_owner.pk)
    if not (owner and owner.is_workflow_owner):
        errors["workflow_owner"] = f"{details.workflow_owner} is not a workflow owner in this workspace."
    strangers = [str(r) for r in details.reviewers if not (roles.get(r.pk) and roles[r.pk].is_reviewer)]
    if strangers:
        errors["reviewers"] = f"Not reviewers in this workspace: {', '.join(strangers)}."
    if details.started_on and details.target_date and details.target_date < details.started_on:
        errors["target_date"] = "The target date cannot be before the start date."
    if errors:
        raise ValidationError(errors)


def _apply(pilot: Pilot, details: PilotDetails) -> None:
    for name in EDITABLE_FIELDS:
        value = getattr(details, name)
        setattr(pilot, name, value.strip() if isinstance(value, str) else value)
    pilot.integration_points = [p.strip() for p in details.integration_points if p.strip()]


@transaction.atomic
def create_pilot(*, workspace: Workspace, actor, details: PilotDetails) -> Pilot:
    _validate(workspace, details)
    pilot = Pilot(workspace=workspace)
    _apply(pilot, details)
    pilot.save()
    pilot.reviewers.set(details.reviewers)
    audit.record(
        workspace=workspace,
        actor=actor,
        action="pilot.created",
        obj=pilot,
        pilot=pilot,
        after=audit.snapshot(pilot, [*AUDITED_FIELDS, "stage", "status"]),
    )
    return pilot


@transaction.atomic
def update_pilot(*, pilot: Pilot, actor, details: PilotDetails) -> Pilot:
    pilot = Pilot.objects.select_for_update().get(pk=pilot.pk)
    _validate(pilot.workspace, details)
    before = audit.snapshot(pilot, AUDITED_FIELDS)
    previous_owner = pilot.workflow_owner_id
    _apply(pilot, details)
    if pilot.workflow_owner_id != previous_owner:
        # Accountability is personal: a new owner accepts it anew.
        pilot.accountability_accepted_by = None
        pilot.accountability_accepted_at = None
    pilot.save()
    pilot.reviewers.set(details.reviewers)
    after = audit.snapshot(pilot, AUDITED_FIELDS)
    changed = {k for k in after if after[k] != before[k]}
    if changed:
        audit.record(
            workspace=pilot.workspace,
            actor=actor,
            action="pilot.updated",
            obj=pilot,
            pilot=pilot,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return pilot


@transaction.atomic
def copy_pilot(*, pilot: Pilot, actor) -> Pilot:
    """A stopped pilot can start again as a new proposal, keeping its description and people."""
    pilot = Pilot.objects.select_for_update().select_related("workspace").get(pk=pilot.pk)
    if pilot.status != Status.STOPPED:
        raise ValidationError("Only a stopped pilot can be copied into a new one.")
    fresh = pilot.copies.filter(stage=Stage.PROPOSED, status=Status.ACTIVE).order_by("-id").first()
    if fresh is not None:
        return fresh  # Return early: a double-submitted copy lands on the proposal already made.
    copy = Pilot.objects.create(
        workspace=pilot.workspace,
        name=f"{pilot.name} (copy)"[:200],
        problem=pilot.problem,
        workflow=pilot.workflow,
        business_unit=pilot.business_unit,
        program_manager=pilot.program_manager,
        workflow_owner=pilot.workflow_owner,
        integration_points=list(pilot.integration_points),
        target_date=pilot.target_date,
        copied_from=pilot,
    )
    copy.reviewers.set(pilot.reviewers.all())
    audit.record(
        workspace=pilot.workspace,
        actor=actor,
        action="pilot.copied",
        obj=copy,
        pilot=copy,
        before={"copied_from": {"id": pilot.pk, "repr": pilot.name}},
        after=audit.snapshot(copy, [*AUDITED_FIELDS, "stage", "status"]),
    )
    return copy


def _locked_for_owner(pilot: Pilot, actor) -> Pilot:
    pilot = Pilot.objects.select_for_update().select_related("workspace").get(pk=pilot.pk)
    if pilot.workflow_owner_id != actor.pk:
        raise ValidationError("Only the pilot's workflow owner can do this.")
    return pilot


@transaction.atomic
def accept_accountability(*, pilot: Pilot, actor) -> Pilot:
    pilot = _locked_for_owner(pilot, actor)
    if pilot.accountability_accepted:
        return pilot  # Return early: accepting twice changes nothing and writes no second event.
    if (
        not Membership.objects.with_role(Role.WORKFLOW_OWNER)
        .filter(workspace=pilot.workspace, user=actor)
        .exists()
    ):
        raise ValidationError("You need the workflow owner role in this workspace to accept accountability.")
    pilot.accountability_accepted_by = actor
    pilot.accountability_accepted_at = timezone.now()
    pilot.save(update_fields=["accountability_accepted_by", "accountability_accepted_at", "updated_at"])
    audit.record(
        workspace=pilot.workspace,
        actor=actor,
        action="pilot.accountability_accepted",
        obj=pilot,
        pilot=pilot,
        after={"workflow_owner": actor.username},
    )
    return pilot


@transaction.atomic
def resume_pilot(*, pilot: Pilot, actor) -> Pilot:
    pilot = _locked_for_owner(pilot, actor)
    if pilot.status == Status.ACTIVE:
        return pilot  # Return early: already running.
    if pilot.status != Status.ON_HOLD:
        raise ValidationError("A stopped pilot cannot be resumed; copy it into a new pilot instead.")
    pilot.status = Status.ACTIVE
    pilot.save(update_fields=["status", "updated_at"])
    audit.record(
        workspace=pilot.workspace,
        actor=actor,
        action="pilot.resumed",
        obj=pilot,
        pilot=pilot,
        before={"status": Status.ON_HOLD},
        after={"status": Status.ACTIVE},
    )
    return pilot


def move_to_stage(pilot: Pilot, stage: str) -> None:
    """Set a locked pilot's stage (callers hold the row lock and write the audit event)."""
    pilot.stage = stage
    pilot.stage_entered_at = timezone.now()
    if stage != Stage.PROPOSED and pilot.started_on is None:
        pilot.started_on = timezone.localdate(timezone=pilot.workspace.zone)  # also outside a request
