"""Gate requests, decisions, their conditions, and attestations (DESIGN.md "Contracts: Gates")."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from pilots import checks, tasks
from pilots.models import (
    Attestation,
    GateCondition,
    GateDecision,
    GateRequest,
    Membership,
    Outcome,
    Pilot,
    Stage,
    Status,
    stage_index,
)
from pilots.services import audit, webhooks
from pilots.services.pilots import move_to_stage
from pilots.services.queue import enqueue_on_commit

NEEDS_REASON = {Outcome.HOLD, Outcome.RECYCLE, Outcome.STOP}
MAX_ATTESTATION_DAYS = 365


class GateRefused(ValidationError):
    """A go asked for while required checks score below 0.5; `missing` lists them with next actions."""

    def __init__(self, gate: str, missing: list[tuple[checks.Check, checks.Result]]):
        self.gate = gate
        self.missing = missing
        lines = [f"{c.title} — {r.next_action or r.evidence.text}" for c, r in missing]
        super().__init__(
            f"Go is refused at gate “{Stage(gate).label}”: {len(missing)} required check(s) are missing. "
            + " · ".join(lines)
        )


@dataclass(frozen=True)
class ConditionInput:
    text: str
    owner: object
    due_on: date
    check_id: str = ""


@transaction.atomic
def request_gate_decision(*, pilot: Pilot, actor, note: str = "") -> GateRequest:
    pilot = Pilot.objects.select_for_update().select_related("workspace").get(pk=pilot.pk)
    if pilot.status != Status.ACTIVE:
        raise ValidationError(
            f"The pilot is {pilot.get_status_display().lower()}; only an active pilot can pass a gate."
        )
    gate = pilot.next_gate
    if gate is None:
        raise ValidationError("The pilot is in production; there is no further gate.")
    waiting = GateRequest.objects.filter(pilot=pilot, state=GateRequest.State.PENDING).first()
    if waiting:
        raise ValidationError(f"A decision on gate “{waiting.get_to_stage_display()}” is already waiting.")
    if actor.pk == pilot.workflow_owner_id:
        raise ValidationError(
            "You own this workflow and decide its gates; the program manager requests the decision."
        )
    gate_request = GateRequest.objects.create(
        pilot=pilot, from_stage=pilot.stage, to_stage=gate, requested_by=actor, note=note.strip()
    )
    audit.record(
        workspace=pilot.workspace,
        actor=actor,
        action="gate.requested",
        obj=gate_request,
        pilot=pilot,
        after={"from_stage": pilot.stage, "to_stage": gate, "note": gate_request.note},
    )
    enqueue_on_commit(tasks.send_gate_request_email, gate_request.pk)
    return gate_request


@transaction.atomic
def withdraw_gate_request(*, gate_request: GateRequest, actor) -> GateRequest:
    gate_request = (
        GateRequest.objects.select_for_update().select_related("pilot__workspace").get(pk=gate_request.pk)
    )
    if gate_request.state == GateRequest.State.WITHDRAWN:
        return gate_request  # Return early: withdrawing twice is harmless.
    if gate_request.state == GateRequest.State.DECIDED:
        raise ValidationError("This request has been decided; it can no longer be withdrawn.")
    gate_request.state = GateRequest.State.WITHDRAWN
    gate_request.withdrawn_at = timezone.now()
    gate_request.withdrawn_by = actor
    gate_request.save(update_fields=["state", "withdrawn_at", "withdrawn_by"])
    audit.record(
        workspace=gate_request.pilot.workspace,
        actor=actor,
        action="gate.withdrawn",
        obj=gate_request,
        pilot=gate_request.pilot,
        before={"state": "pending"},
        after={"state": "withdrawn"},
    )
    return gate_request


def evidence_for(pilot: Pilot, gate: str) -> tuple[dict, list[tuple[checks.Check, checks.Result]]]:
    """What the workflow owner sees at a gate: every required check with its result, and the missing ones."""
    results = checks.evaluate([pilot.pk], gate=gate).get(pilot.pk, {})
    required = checks.required_at(gate)
    snapshot = {
        "gate": gate,
        "evaluated_at": timezone.now().isoformat(),
        "checks": [
            {"id": c.id, "title": c.title, "section": c.section, "gate": c.gate, **results[c.id].as_dict()}
            for c in required
        ],
    }
    missing = [(c, results[c.id]) for c in required if not results[c.id].passes]
    return snapshot, missing


@transaction.atomic
def decide_gate(
    *,
    gate_request: GateRequest,
    actor,
    outcome: str,
    comment: str = "",
    recycle_to: str = "",
    conditions: list[ConditionInput] | tuple = (),
    conditions_due_on: date | None = None,
) -> GateDecision:
    """Record the workflow owner's decision and move the pilot accordingly.

    The request row is locked: of two simultaneous decisions exactly one is recorded; the other
    finds the request decided and is refused.
    """
    gate_request = GateRequest.objects.select_for_update().get(pk=gate_request.pk)
    pilot = Pilot.objects.select_for_update().select_related("workspace").get(pk=gate_request.pilot_id)
    comment = comment.strip()
    if gate_request.state != GateRequest.State.PENDING:
        raise ValidationError(f"This request is already {gate_request.get_state_display().lower()}.")
    if actor.pk == gate_request.requested_by_id:
        raise ValidationError("You requested this decision, so someone else must decide it.")
    if actor.pk != pilot.workflow_owner_id:
        raise ValidationError("Only the pilot's workflow owner decides its gates.")
    if pilot.status != Status.ACTIVE or pilot.stage != gate_request.from_stage:
        raise ValidationError(
            "The pilot has changed since this request was made; withdraw it and request again."
        )
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": f"Unknown outcome {outcome!r}."})
    if outcome in NEEDS_REASON and not comment:
        raise ValidationError({"comment": f"Say why: a {Outcome(outcome).label.lower()} needs a reason."})
    if outcome == Outcome.RECYCLE:
        if recycle_to not in Stage.values or stage_index(recycle_to) >= stage_index(pilot.stage):
            raise ValidationError({"recycle_to": "Choose a stage before the pilot's current one."})
    else:
        recycle_to = ""

    gate = gate_request.to_stage
    evidence, missing = evidence_for(pilot, gate)
    if outcome == Outcome.GO and missing:
        raise GateRefused(gate, missing)
    open_items = list(conditions)
    if outcome == Outcome.CONDITIONAL_GO:
        if missing and conditions_due_on is None:
            raise ValidationError({"conditions_due_on": "Give a due date for the conditions."})
        open_items += [
            ConditionInput(
                text=f"{c.title}: {r.next_action or r.evidence.text}",
                owner=pilot.program_manager,
                due_on=conditions_due_on,
                check_id=c.id,
            )
            for c, r in missing
        ]
        if not open_items:
            raise ValidationError(
                {"conditions": "A conditional go needs at least one condition; otherwise choose go."}
            )
        _validate_conditions(pilot, open_items)
    elif open_items:
        raise ValidationError({"conditions": "Only a conditional go carries conditions."})

    decision = GateDecision.objects.create(
        request=gate_request,
        pilot=pilot,
        outcome=outcome,
        decided_by=actor,
        comment=comment,
        recycle_to=recycle_to,
        evidence=evidence,
        decided_at=timezone.now(),
    )
    if (
        GateRequest.objects.filter(pk=gate_request.pk, state=GateRequest.State.PENDING).update(
            state=GateRequest.State.DECIDED
        )
        != 1
    ):
        raise ValidationError("This request was decided by someone else a moment ago.")
    for item in open_items:
        GateCondition.objects.create(
            decision=decision,
            pilot=pilot,
            text=item.text,
            owner=item.owner,
            due_on=item.due_on,
            check_id=item.check_id,
        )

    before = {"stage": pilot.stage, "status": pilot.status}
    if outcome in (Outcome.GO, Outcome.CONDITIONAL_GO):
        move_to_stage(pilot, gate)
    elif outcome == Outcome.RECYCLE:
        move_to_stage(pilot, recycle_to)
    elif outcome == Outcome.HOLD:
        pilot.status = Status.ON_HOLD
    elif outcome == Outcome.STOP:
        pilot.status = Status.STOPPED
    pilot.save()
    audit.record(
        workspace=pilot.workspace,
        actor=actor,
        action=f"gate.decided.{outcome}",
        obj=decision,
        pilot=pilot,
        before=before,
        after={
            "stage": pilot.stage,
            "status": pilot.status,
            "gate": gate,
            "comment": comment,
            "conditions": [i.text for i in open_items],
        },
    )
    webhooks.emit_event(
        workspace=pilot.workspace,
        event="gate.decided",
        payload={
            "pilot": {"id": pilot.pk, "name": pilot.name},
            "gate": gate,
            "outcome": outcome,
            "decided_by": audit.label_of(actor),
            "comment": comment,
            "stage": pilot.stage,
            "status": pilot.status,
            "conditions": [i.text for i in open_items],
        },
    )
    return decision


def _validate_conditions(pilot: Pilot, items: list[ConditionInput]) -> None:
    owners = {i.owner.pk for i in items}
    members = set(
        Membership.objects.filter(workspace=pilot.workspace, user_id__in=owners).values_list(
            "user_id", flat=True
        )
    )
    for item in items:
        if not item.text.strip():
            raise ValidationError({"conditions": "A condition cannot be empty."})
        if item.owner.pk not in members:
            raise ValidationError({"conditions": f"{item.owner} is not a member of this workspace."})
        if item.due_on < timezone.localdate():
            raise ValidationError({"conditions_due_on": "The due date cannot be in the past."})


@transaction.atomic
def close_condition(*, condition: GateCondition, actor, note: str = "") -> GateCondition:
    condition = (
        GateCondition.objects.select_for_update().select_related("pilot__workspace").get(pk=condition.pk)
    )
    if condition.closed_at is not None:
        return condition  # Return early: closing twice changes nothing.
    condition.closed_at = timezone.now()
    condition.closed_by = actor
    condition.closing_note = note.strip()
    condition.save(update_fields=["closed_at", "closed_by", "closing_note"])
    audit.record(
        workspace=condition.pilot.workspace,
        actor=actor,
        action="condition.closed",
        obj=condition,
        pilot=condition.pilot,
        after={"note": condition.closing_note},
    )
    return condition


@transaction.atomic
def attest_check(
    *, pilot: Pilot, actor, check_id: str, note: str, evidence_url: str, expires_on: date
) -> Attestation:
    item = checks.get(check_id)
    errors: dict[str, str] = {}
    if item is None:
        errors["check_id"] = f"There is no check {check_id!r}."
    elif not item.attestable:
        errors["check_id"] = f"“{item.title}” can only be verified by the pilot's own data, not attested."
    if not note.strip():
        errors["note"] = "Say what you are vouching for."
    try:
        URLValidator(schemes=["http", "https"])(evidence_url)
    except ValidationError:
        errors["evidence_url"] = "Link to the evidence with an http(s) address."
    today = timezone.localdate()
    if expires_on <= today:
        errors["expires_on"] = "The expiry must be in the future."
    elif expires_on > today + timedelta(days=MAX_ATTESTATION_DAYS):
        errors["expires_on"] = f"An attestation lasts at most {MAX_ATTESTATION_DAYS} days; renew it then."
    if errors:
        raise ValidationError(errors)
    attestation = Attestation.objects.create(
        pilot=pilot,
        check_id=check_id,
        attested_by=actor,
        note=note.strip(),
        evidence_url=evidence_url,
        expires_on=expires_on,
    )
    audit.record(
        workspace=pilot.workspace,
        actor=actor,
        action="check.attested",
        obj=attestation,
        pilot=pilot,
        after={
            "check": check_id,
            "note": attestation.note,
            "evidence_url": evidence_url,
            "expires_on": expires_on,
        },
    )
    return attestation
