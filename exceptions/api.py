"""Step 3's part of the API: reviewer decisions on escalated (or audit-sampled) cases, recorded by the
system around the pilot on behalf of the member who decided. The same service as the review queue
(exceptions.services.queue.decide); composed into /api/v1/ by config/api.py."""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from exceptions.access import may_review
from exceptions.models import Decision, Escalation
from exceptions.services import queue
from pilots.api_support import JsonObject, Refused, Text, field_error, member_of, pilot_of
from pilots.models import Case

router = Router(tags=["decisions"])
ROUTERS = [("/pilots", router)]
MAX_PAGE = 500
MAX_ID = 2**63 - 1


class DecisionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    external_id: Text = Field(min_length=1, max_length=200, description="The case's external id")
    outcome: Literal["approve", "override", "reject"]
    rationale: Text = Field(max_length=5000, description="Why: what later refines the rules")
    corrected_outputs: JsonObject = Field(
        default_factory=dict, description="For an override: the AI outputs the reviewer changed, by name"
    )
    reviewer: Text = Field(
        min_length=1, max_length=150, description="The user name of the member who decided"
    )


class DecisionOut(Schema):
    id: int
    external_id: str
    outcome: str
    rationale: str
    corrected_outputs: dict[str, Any]
    reviewer: str | None
    decided_at: datetime
    within_service_level: bool


class DecisionPage(Schema):
    items: list[DecisionOut]
    next_cursor: int | None = Field(description="pass as `cursor` for the next page; null on the last page")


class DecisionFilters(Schema):
    cursor: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="`next_cursor` of the previous page"
    )
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)
    outcome: Literal["approve", "override", "reject"] | None = None


def _decision(decision: Decision) -> dict:
    return {
        "id": decision.pk,
        "external_id": decision.case.external_id,
        "outcome": decision.outcome,
        "rationale": decision.rationale,
        "corrected_outputs": decision.corrected_outputs,
        "reviewer": decision.reviewer.username if decision.reviewer_id else None,
        "decided_at": decision.decided_at,
        "within_service_level": decision.within_service_level,
    }


def _loc(field: str) -> list[str]:
    """A DecisionError's field as the API body names it ("outputs.category" → corrected_outputs)."""
    if field == "outputs" or field.startswith("outputs."):
        return ["body", "corrected_outputs", *field.split(".")[1:]]
    return ["body", field]


@router.post(
    "/{pilot_id}/decisions",
    response={201: DecisionOut},
    summary="Record a reviewer's decision on a case waiting for review",
    description=(
        "Approve keeps the AI output, override records the corrected outputs (at least one must change), "
        "reject turns the case down; each needs a rationale. `reviewer` must be allowed to review the case "
        "(403 otherwise). 404: the case is not waiting for review; 409: decided already, or another "
        "reviewer holds it."
    ),
)
def record_decision(request: HttpRequest, pilot_id: int, body: DecisionIn):
    pilot = pilot_of(request, pilot_id)
    reviewer = member_of(request, body.reviewer, field="reviewer")
    case = Case.objects.filter(pilot=pilot, external_id=body.external_id.strip()).first()
    if case is None:
        raise field_error(404, ["body", "external_id"], f"The pilot has no case “{body.external_id}”.")
    escalation = Escalation.objects.filter(case=case).first()
    if escalation is None:
        raise field_error(
            404, ["body", "external_id"], f"Case “{body.external_id}” is not waiting for review."
        )
    if escalation.decided_at is not None:
        raise Refused(409, "This case was decided already.")
    if not may_review(reviewer.membership, pilot, escalation):
        raise field_error(403, ["body", "reviewer"], f"“{body.reviewer}” may not review this case.")
    try:
        decision = queue.decide(
            escalation_id=escalation.pk,
            reviewer=reviewer,
            outcome=body.outcome,
            rationale=body.rationale,
            corrected_outputs=body.corrected_outputs,
        )
    except queue.ReviewRefused as refusal:
        raise Refused(409, str(refusal)) from refusal
    except queue.DecisionError as error:
        errors = [{"loc": _loc(field), "msg": message} for field, message in error.errors.items()]
        raise Refused(422, str(error), errors) from error
    decision.case = case
    return Status(201, _decision(decision))


@router.get(
    "/{pilot_id}/decisions", response=DecisionPage, summary="The pilot's reviewer decisions, newest first"
)
def list_decisions(request: HttpRequest, pilot_id: int, filters: Query[DecisionFilters]):
    pilot = pilot_of(request, pilot_id)
    decisions = Decision.objects.filter(pilot=pilot).select_related("case", "reviewer").order_by("-id")
    if filters.cursor is not None:
        decisions = decisions.filter(id__lt=filters.cursor)
    if filters.outcome is not None:
        decisions = decisions.filter(outcome=filters.outcome)
    page = list(decisions[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    return {"items": [_decision(d) for d in page], "next_cursor": page[-1].pk if more else None}
