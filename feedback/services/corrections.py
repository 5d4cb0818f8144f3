"""Recording corrections: directly on a case, or from a reviewer's override (through the hub's outcome
hook, in the decision's transaction). Flags and touchpoints follow DESIGN.md "Contracts: Case": a
correction recorded directly adds one touchpoint and sets `corrected`; corrections made from an override
add none (the override counted its touchpoint and set `corrected`)."""

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from exceptions.models import Decision, Outcome
from exceptions.services.queue import read_output, same_output
from feedback.models import OVERRIDE_REASON, Correction, ReasonCode
from feedback.services.taxonomy import ensure_taxonomy
from pilots.models import Case, InputStandard
from pilots.services import audit
from pilots.services.outcomes import record_case_outcome


def output_specs(case: Case) -> dict[str, dict]:
    """The AI outputs the case's standard declares, by name."""
    standard = (
        InputStandard.objects.filter(pilot_id=case.pilot_id, version=case.standard_version).first()
        if case.standard_version
        else None
    )
    return {spec["name"]: spec for spec in (standard.outputs if standard else [])}


@transaction.atomic
def record_correction(
    *,
    case: Case,
    field: str,
    corrected_value: Any,
    reason_code: str,
    note: str = "",
    actor,
    now: datetime | None = None,
) -> Correction:
    """Record a person's correction of one AI output of `case`. Refused with a ValidationError naming the
    field: an output the standard does not declare, a value that does not fit its type, a value equal to
    the AI's, a reason not in the pilot's taxonomy."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    specs = output_specs(case)
    spec = specs.get(field)
    value = None
    if spec is None:
        errors["field"] = (
            f"The standard declares no AI output “{field}”." if field else "Choose the AI output."
        )
    elif corrected_value is None or (isinstance(corrected_value, str) and not corrected_value.strip()):
        errors["corrected_value"] = "Give the corrected value."  # else a text output would become "None"
    else:
        zone = case.pilot.workspace.zone
        value, error = read_output(spec, corrected_value, zone)
        if error:
            errors["corrected_value"] = error
        elif same_output(spec, value, case.outputs.get(field), zone):
            errors["corrected_value"] = "That is what the AI gave: a correction changes the value."
    ensure_taxonomy(case.pilot)
    reason = ReasonCode.objects.filter(pilot_id=case.pilot_id, code=reason_code, active=True).first()
    if reason is None:
        errors["reason"] = "Choose a reason from the pilot's taxonomy."
    if errors:
        raise ValidationError(errors)
    repeat = _recent_repeat(case, field, value, reason, actor, now)
    if repeat is not None:
        return repeat  # a double submit: the correction is recorded once, with one touchpoint
    correction = Correction.objects.create(
        case=case,
        pilot_id=case.pilot_id,
        field=field,
        ai_value=case.outputs.get(field),
        corrected_value=value,
        reason=reason,
        note=note.strip()[:5000],
        ai_version_id=case.ai_version_id,
        by=actor if getattr(actor, "pk", None) else None,
        actor_label=audit.label_of(actor),
        at=now,
    )
    record_case_outcome(
        case_id=case.pk,
        actor=actor,
        kind="correction",
        at=now,
        settles=False,
        corrected=True,
        touchpoints=1,
        record=correction,
        details={"correction": correction.pk, "field": field, "reason": reason.code},
        audit_action="case.corrected",
    )
    return correction


def _override_reason(pilot) -> ReasonCode:
    codes = ensure_taxonomy(pilot)
    return next((r for r in codes if r.code == OVERRIDE_REASON), codes[-1])


REPEAT_WINDOW = timedelta(minutes=10)


def _recent_repeat(case: Case, field: str, value: Any, reason: ReasonCode, actor, now: datetime):
    """The same person's identical correction of the same output a moment ago, if any."""
    by_id = getattr(actor, "pk", None)
    recent = Correction.objects.filter(
        case=case, field=field, decision=None, by_id=by_id, reason=reason, at__gte=now - REPEAT_WINDOW
    ).order_by("-at", "-id")
    return next((c for c in recent[:5] if c.corrected_value == value), None)


def corrections_from_decision(decision: Decision) -> list[Correction]:
    """The corrections an override stands for, one per changed output (idempotent: unique per decision
    and field). Their reason starts as "other" with the reviewer's rationale as the note, until someone
    classifies them."""
    if decision.outcome != Outcome.OVERRIDE or not decision.corrected_outputs:
        return []
    case = decision.case
    reason = _override_reason(decision.pilot)
    rows = [
        Correction(
            case=case,
            pilot_id=decision.pilot_id,
            decision=decision,
            field=field,
            ai_value=decision.ai_outputs.get(field),
            corrected_value=value,
            reason=reason,
            note=decision.rationale,
            ai_version_id=case.ai_version_id,
            by_id=decision.reviewer_id,
            actor_label=decision.actor_label,
            at=decision.decided_at,
        )
        for field, value in sorted(decision.corrected_outputs.items())
    ]
    return Correction.objects.bulk_create(rows, ignore_conflicts=True)


def backfill_override_corrections() -> int:
    """Corrections for every override stored before step 4 existed (run once by a migration; safe again)."""
    done = 0
    overrides = (
        Decision.objects.filter(outcome=Outcome.OVERRIDE, corrections=None)
        .select_related("case", "pilot__workspace")
        .order_by("id")
    )
    for decision in overrides.iterator(chunk_size=500):
        done += len(corrections_from_decision(decision))
    return done


@transaction.atomic
def classify(*, correction: Correction, reason_code: str, actor) -> Correction:
    """Give a correction its reason (e.g. one that came from an override)."""
    correction = (
        Correction.objects.select_for_update()
        .select_related("pilot__workspace", "reason")
        .get(pk=correction.pk)
    )
    reason = ReasonCode.objects.filter(pilot_id=correction.pilot_id, code=reason_code, active=True).first()
    if reason is None:
        raise ValidationError({"reason": "Choose a reason from the pilot's taxonomy."})
    if reason.pk == correction.reason_id:
        return correction
    before = correction.reason.code
    correction.reason = reason
    correction.save(update_fields=["reason"])
    audit.record(
        workspace=correction.pilot.workspace, actor=actor, action="correction.classified", obj=correction,
        pilot=correction.pilot, before={"reason": before}, after={"reason": reason.code},
    )  # fmt: skip
    return correction
