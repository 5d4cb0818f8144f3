"""Discovered by the hub's case-outcome service (DESIGN.md "Architecture"): runs inside the transaction
that records a case's outcome. A reviewer's override becomes corrections pointing at its decision."""

from exceptions.models import Decision
from feedback.services.corrections import corrections_from_decision
from pilots.services.outcomes import CaseOutcome


def outcome_recorded(*, outcome: CaseOutcome) -> None:
    if outcome.kind == "review" and isinstance(outcome.record, Decision):
        corrections_from_decision(outcome.record)
