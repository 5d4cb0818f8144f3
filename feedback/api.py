"""Step 4's part of the API: corrections of what the pilot's AI produced, recorded by the system around
the pilot on behalf of the member who corrected it. The same service as the case page
(feedback.services.corrections.record_correction); composed into /api/v1/ by config/api.py."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from feedback.models import Correction
from feedback.services.corrections import record_correction
from pilots import access
from pilots.api_support import Scalar, Text, field_error, member_of, pilot_of, refusal_of
from pilots.models import Case

router = Router(tags=["corrections"])
ROUTERS = [("/pilots", router)]
MAX_PAGE = 500
MAX_ID = 2**63 - 1


class CorrectionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    external_id: Text = Field(min_length=1, max_length=200, description="The case's external id")
    field: Text = Field(
        min_length=1, max_length=63, description="The AI output corrected, as the standard names it"
    )
    corrected_value: Scalar = Field(description="The right value, of the output's type")
    reason: Text = Field(min_length=1, max_length=40, description="A reason code of the pilot's taxonomy")
    note: Text = Field(default="", max_length=5000)
    by: Text = Field(min_length=1, max_length=150, description="The user name of the member who corrected it")


class CorrectionOut(Schema):
    id: int
    external_id: str
    field: str
    ai_value: Any
    corrected_value: Any
    reason: str
    note: str
    by: str | None
    at: datetime
    decision: int | None = Field(description="The review decision it came from (an override), if any")
    incorporated_into: str = Field(
        description="ai_version, standard, rules or regression_set; empty if not yet"
    )


class CorrectionPage(Schema):
    items: list[CorrectionOut]
    next_cursor: int | None = Field(description="pass as `cursor` for the next page; null on the last page")


class CorrectionFilters(Schema):
    cursor: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="`next_cursor` of the previous page"
    )
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)
    incorporated: bool | None = None


def _correction(correction: Correction) -> dict:
    return {
        "id": correction.pk,
        "external_id": correction.case.external_id,
        "field": correction.field,
        "ai_value": correction.ai_value,
        "corrected_value": correction.corrected_value,
        "reason": correction.reason.code,
        "note": correction.note,
        "by": correction.by.username if correction.by_id else None,
        "at": correction.at,
        "decision": correction.decision_id,
        "incorporated_into": correction.incorporated_into,
    }


@router.post(
    "/{pilot_id}/corrections",
    response={201: CorrectionOut},
    summary="Record a correction of one AI output of a case",
    description=(
        "The value must fit the output's type in the case's input standard and differ from the AI's; the "
        "reason must be a code of the pilot's taxonomy. `by` must be a member who may record corrections "
        "(403 otherwise)."
    ),
)
def create_correction(request: HttpRequest, pilot_id: int, body: CorrectionIn):
    pilot = pilot_of(request, pilot_id)
    member = member_of(request, body.by, field="by")
    if not access.grants(member.membership, "record_correction", pilot):
        raise field_error(403, ["body", "by"], f"“{body.by}” may not record corrections on this pilot.")
    case = (
        Case.objects.select_related("ai_version")
        .filter(pilot=pilot, external_id=body.external_id.strip())
        .first()
    )
    if case is None:
        raise field_error(404, ["body", "external_id"], f"The pilot has no case “{body.external_id}”.")
    case.pilot = pilot
    try:
        correction = record_correction(
            case=case,
            field=body.field,
            corrected_value=body.corrected_value,
            reason_code=body.reason,
            note=body.note,
            actor=member,
        )
    except ValidationError as error:
        raise refusal_of(error) from error
    return Status(201, _correction(correction))


@router.get(
    "/{pilot_id}/corrections", response=CorrectionPage, summary="The pilot's corrections, newest first"
)
def list_corrections(request: HttpRequest, pilot_id: int, filters: Query[CorrectionFilters]):
    pilot = pilot_of(request, pilot_id)
    corrections = (
        Correction.objects.filter(pilot=pilot).select_related("case", "reason", "by").order_by("-id")
    )
    if filters.cursor is not None:
        corrections = corrections.filter(id__lt=filters.cursor)
    if filters.incorporated is not None:
        corrections = (
            corrections.exclude(incorporated_into="")
            if filters.incorporated
            else corrections.filter(incorporated_into="")
        )
    page = list(corrections[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    return {"items": [_correction(c) for c in page], "next_cursor": page[-1].pk if more else None}
