"""Working the review queue: claiming an escalated case, and deciding it.

Claims are conditional updates (two reviewers never hold the same case; a claim lapses after
REVIEW_CLAIM_MINUTES). A decision locks the escalation's row, so of two reviewers deciding at once
exactly one decision is stored and the other is refused.
"""

import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from exceptions.models import Decision, Escalation, Outcome
from pilots.models import InputStandard
from pilots.services import audit
from pilots.services.outcomes import record_case_outcome
from pilots.validation import EMAIL_PATTERN, parse_boolean, parse_date, parse_datetime, parse_number


class ReviewRefused(Exception):
    """The action cannot be taken on this case now (claimed by someone else, decided already)."""


class DecisionError(ValueError):
    """The decision itself is incomplete or wrong; `errors` maps a field to why."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def claim_minutes() -> int:
    return settings.REVIEW_CLAIM_MINUTES


def _holder_text(escalation: Escalation) -> str:
    holder = audit.label_of(escalation.claimed_by) if escalation.claimed_by_id else "another reviewer"
    zone = escalation.pilot.workspace.zone
    until = timezone.localtime(escalation.claim_expires_at, zone).strftime("%H:%M")
    return f"{holder} is working on this case (claimed until {until})."


def claim(*, escalation_id: int, user, now: datetime | None = None) -> Escalation:
    """Claim the case for `user` (or extend their own claim); ReviewRefused if someone else holds it."""
    now = now or timezone.now()
    with transaction.atomic():
        taken = (
            Escalation.objects.filter(pk=escalation_id, decided_at=None)
            .filter(Q(claimed_by=None) | Q(claim_expires_at__lte=now) | Q(claimed_by=user))
            .update(claimed_by=user, claim_expires_at=now + timedelta(minutes=claim_minutes()))
        )
        escalation = Escalation.objects.select_related("claimed_by", "pilot__workspace", "case").get(
            pk=escalation_id
        )
        if taken != 1:
            if escalation.decided_at is not None:
                raise ReviewRefused("This case was decided already.")
            raise ReviewRefused(_holder_text(escalation))
        audit.record(
            workspace=escalation.pilot.workspace,
            actor=user,
            action="case.claimed",
            obj=escalation.case,
            pilot=escalation.pilot,
            after={"until": escalation.claim_expires_at},
        )
    return escalation


def release(*, escalation_id: int, user) -> bool:
    """Give a claimed case back to the queue. Returns whether the user held it."""
    with transaction.atomic():
        released = Escalation.objects.filter(pk=escalation_id, claimed_by=user, decided_at=None).update(
            claimed_by=None, claim_expires_at=None
        )
        if released:
            escalation = Escalation.objects.select_related("pilot__workspace", "case").get(pk=escalation_id)
            audit.record(
                workspace=escalation.pilot.workspace,
                actor=user,
                action="case.released",
                obj=escalation.case,
                pilot=escalation.pilot,
            )
    return bool(released)


def output_fields(escalation: Escalation) -> list[dict]:
    """The AI output fields a reviewer may correct: those of the standard the case was checked against."""
    case = escalation.case
    standard = (
        InputStandard.objects.filter(pilot_id=case.pilot_id, version=case.standard_version).first()
        if case.standard_version
        else None
    )
    return list(standard.outputs) if standard else []


def read_output(spec: dict, raw: Any, zone) -> tuple[Any, str | None]:
    kind = spec["type"]
    label = spec.get("label") or spec["name"]
    text = raw.strip() if isinstance(raw, str) else raw
    if kind in ("integer", "number"):
        value = parse_number(text, kind == "integer")
        if value is None or isinstance(text, bool):
            return None, f"{label} must be {'a whole number' if kind == 'integer' else 'a number'}."
        if spec.get("min") is not None and value < spec["min"]:
            return None, f"{label} must be at least {spec['min']}."
        if spec.get("max") is not None and value > spec["max"]:
            return None, f"{label} must be at most {spec['max']}."
        return value, None
    if kind == "boolean":
        value = parse_boolean(text)
        return (value, None) if value is not None else (None, f"{label} must be true or false.")
    if kind == "date":
        value = parse_date(text)
        return (value.isoformat(), None) if value else (None, f"{label} must be a date (YYYY-MM-DD).")
    if kind == "datetime":
        value = parse_datetime(text, zone)
        return (value.isoformat(), None) if value else (None, f"{label} must be a date and time.")
    value = str(text)
    allowed = [str(a) for a in spec.get("allowed") or []]
    if (kind == "enum" or allowed) and value not in allowed:
        return None, f"{label} must be one of {', '.join(allowed)}."
    if spec.get("min_length") is not None and len(value) < spec["min_length"]:
        return None, f"{label} must be at least {spec['min_length']} characters."
    if spec.get("max_length") is not None and len(value) > spec["max_length"]:
        return None, f"{label} must be at most {spec['max_length']} characters."
    pattern = EMAIL_PATTERN if kind == "email" else spec.get("pattern")
    if pattern and re.search(pattern, value) is None:
        return (
            None,
            f"{label} must be {'an email address' if kind == 'email' else f'text matching {pattern}'}.",
        )
    return value, None


def same_output(spec: dict, value: Any, ai_value: Any, zone) -> bool:
    """Whether a reviewer's value is the AI's: date-times compare as moments (09:00Z is 10:00+01:00)."""
    if spec["type"] == "datetime":
        mine, theirs = parse_datetime(value, zone), parse_datetime(ai_value, zone)
        return mine is not None and theirs is not None and mine == theirs
    return value == ai_value


def corrections_of(escalation: Escalation, given: dict[str, Any], zone) -> dict[str, Any]:
    """The output values the reviewer changed, typed; raises DecisionError for a value that does not fit."""
    errors: dict[str, str] = {}
    changed: dict[str, Any] = {}
    specs = {spec["name"]: spec for spec in output_fields(escalation)}
    ai = escalation.case.outputs
    for name, raw in given.items():
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            continue
        if name in ai and isinstance(raw, str) and raw.strip() == str(ai[name]):
            continue  # left as the AI gave it (even a value the standard refuses: not the reviewer's doing)
        spec = specs.get(name)
        if spec is None:
            errors[f"outputs.{name}"] = f"The standard declares no AI output “{name}”."
            continue
        value, error = read_output(spec, raw, zone)
        if error:
            errors[f"outputs.{name}"] = error
        elif not same_output(spec, value, ai.get(name), zone):
            changed[name] = value
    if errors:
        raise DecisionError(errors)
    return changed


def decide(
    *,
    escalation_id: int,
    reviewer,
    outcome: str,
    rationale: str,
    corrected_outputs: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Decision:
    """Record a reviewer's decision on an escalated or sampled case.

    Approve keeps the AI output; override records the corrected output values (at least one must differ
    from the AI's); reject turns the case down. Each needs a rationale. The hub's outcome service then
    sets decided_at (escalations only: a sampled case was decided when it was routed), corrected (an
    override) and one touchpoint, and runs the discovered outcome hooks — all in this transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        escalation = (
            Escalation.objects.select_for_update(of=("self",))
            .select_related("case", "pilot__workspace", "claimed_by")
            .filter(pk=escalation_id)
            .first()
        )
        if escalation is None:
            # A changed re-send of the undecided case routed it again while it was open.
            raise ReviewRefused(
                "This case changed since it was opened and was routed again; reload the queue."
            )
        if escalation.decided_at is not None:
            raise ReviewRefused("This case was decided already.")
        held_by_other = (
            escalation.claimed_by_id not in (None, reviewer.pk)
            and escalation.claim_expires_at is not None
            and escalation.claim_expires_at > now
        )
        if held_by_other:
            raise ReviewRefused(_holder_text(escalation))
        errors: dict[str, str] = {}
        if outcome not in Outcome.values:
            errors["outcome"] = "Choose approve, override or reject."
        rationale = (rationale or "").strip()
        if not rationale:
            errors["rationale"] = "Say why: the rationale is what later refines the rules."
        changed: dict[str, Any] = {}
        if outcome == Outcome.OVERRIDE:
            try:
                changed = corrections_of(escalation, corrected_outputs or {}, escalation.pilot.workspace.zone)
            except DecisionError as error:
                errors.update(error.errors)
            else:
                if not changed:
                    errors["outputs"] = "An override changes at least one AI output; else approve."
        if errors:  # every problem at once, so the reviewer mends the form in one round
            raise DecisionError(errors)
        decision = Decision.objects.create(
            escalation=escalation,
            case_id=escalation.case_id,
            pilot_id=escalation.pilot_id,
            rule_id=escalation.rule_id,
            outcome=outcome,
            rationale=rationale,
            ai_outputs=escalation.case.outputs,
            corrected_outputs=changed,
            reviewer=reviewer,
            actor_label=audit.label_of(reviewer),
            decided_at=now,
            within_service_level=now <= escalation.due_at,
        )
        Escalation.objects.filter(pk=escalation.pk).update(
            decided_at=now, claimed_by=None, claim_expires_at=None
        )
        record_case_outcome(
            case_id=escalation.case_id,
            actor=reviewer,
            kind="review",
            at=now,
            settles=escalation.reason == Escalation.Reason.ESCALATED,
            corrected=outcome == Outcome.OVERRIDE,
            record=decision,
            details={
                "outcome": outcome,
                "reason": escalation.reason,
                "rationale": rationale,
                "corrected_outputs": changed,
                "decision": decision.pk,
            },
            audit_action="case.reviewed",
        )
    return decision
