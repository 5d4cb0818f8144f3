"""Recording a case's outcome (DESIGN.md "Contracts: Case"): the one way a step writes onto a case.

A reviewer's decision, a correction: each calls `record_case_outcome`, which locks the case, applies the
contract's rules — decided_at is set once and never moved, a correction or override sets `corrected`,
each human action adds a touchpoint — writes one audit event, and runs every app's discovered
`outcomes.py` hook inside the same transaction (step 4 turns an override into corrections there).
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction

from pilots.discovery import app_modules
from pilots.models import Case
from pilots.services import audit


@dataclass(frozen=True)
class CaseOutcome:
    """What the hooks receive: the case as updated, and what the step recorded."""

    case: Case
    actor: Any
    kind: str  # "review", "correction", …: the step's name for the action
    at: datetime
    settled: bool  # this outcome set the case's decided_at
    corrected: bool
    record: Any = None  # the step's own row (e.g. exceptions.Decision)
    details: dict = field(default_factory=dict)


@transaction.atomic
def record_case_outcome(
    *,
    case_id: int,
    actor: Any,
    kind: str,
    at: datetime,
    settles: bool,
    corrected: bool = False,
    touchpoints: int = 1,
    record: Any = None,
    details: dict | None = None,
    audit_action: str = "case.outcome_recorded",
) -> Case:
    """Apply an outcome to the case; `settles` asks to set decided_at (kept if the case has one)."""
    case = Case.objects.select_for_update().select_related("pilot__workspace").get(pk=case_id)
    before = {"decided_at": case.decided_at, "corrected": case.corrected, "touchpoints": case.touchpoints}
    settled = settles and case.decided_at is None
    if settled:
        case.decided_at = at
    case.corrected = case.corrected or corrected
    case.touchpoints += touchpoints
    case.save(update_fields=["decided_at", "corrected", "touchpoints", "updated_at"])
    after = {"decided_at": case.decided_at, "corrected": case.corrected, "touchpoints": case.touchpoints}
    audit.record(
        workspace=case.pilot.workspace,
        actor=actor,
        action=audit_action,
        obj=case,
        pilot=case.pilot,
        before=before,
        after={**after, "kind": kind, **(details or {})},
    )
    outcome = CaseOutcome(
        case=case,
        actor=actor,
        kind=kind,
        at=at,
        settled=settled,
        corrected=corrected,
        record=record,
        details=details or {},
    )
    for module in app_modules("outcomes"):
        module.outcome_recorded(outcome=outcome)
    return case
