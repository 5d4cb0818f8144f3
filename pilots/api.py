"""The hub's part of the API: pilots (read), cases (batch upsert, read, list), AI versions.
Composed into /api/v1/ by config/api.py; the same services as the web views."""

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring_ascii
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import BaseModel, ConfigDict, ValidationError, WrapValidator

from pilots.api_readiness import router as readiness_router
from pilots.api_support import JsonObject, Moment, Text, member_of, message_of, pilot_of, refusal_of
from pilots.models import AIVersion, Case, Pilot
from pilots.services import intake, standards
from pilots.services.intake import Arrival

router = Router(tags=["pilots"])
# The readiness endpoints (issue 8) live beside these, in api_readiness.py.
ROUTERS = [("/pilots", router), ("", readiness_router)]
MAX_BATCH = 5000
MAX_PAGE = 500
MAX_ID = 2**63 - 1
_encode = json.JSONEncoder().encode  # built once: dumps() builds one a call
_quote = encode_basestring_ascii  # a str as a JSON string, as _encode writes it


class Strict(BaseModel):
    """A request body: unknown fields refused. A plain pydantic model, not ninja's Schema: its wrap
    validator (made to read ORM objects) made a batch's validation ~9× slower (bench part f)."""

    model_config = ConfigDict(extra="forbid")


class PilotOut(Schema):
    id: int
    name: str
    business_unit: str
    stage: str
    status: str
    program_manager: str
    workflow_owner: str
    started_on: date | None
    target_date: date | None


def _pilot(p: Pilot) -> dict:
    return {
        "id": p.pk,
        "name": p.name,
        "business_unit": p.business_unit,
        "stage": p.stage,
        "status": p.status,
        "program_manager": p.program_manager.username,
        "workflow_owner": p.workflow_owner.username,
        "started_on": p.started_on,
        "target_date": p.target_date,
    }


@router.get("", response=list[PilotOut], summary="The workspace's pilots")
def list_pilots(request: HttpRequest):
    pilots = Pilot.objects.filter(workspace=request.auth.workspace).select_related(
        "program_manager", "workflow_owner"
    )
    return [_pilot(p) for p in pilots.order_by("name", "id")]


@router.get("/{pilot_id}", response=PilotOut, summary="One pilot")
def read_pilot(request: HttpRequest, pilot_id: int):
    pilot_of(request, pilot_id)
    return _pilot(Pilot.objects.select_related("program_manager", "workflow_owner").get(pk=pilot_id))


class CaseIn(Strict):
    external_id: Text = Field(min_length=1, max_length=200)
    inputs: JsonObject = Field(default_factory=dict)
    outputs: JsonObject = Field(default_factory=dict)
    received_at: Moment | None = None
    due_at: Moment | None = None
    decided_at: Moment | None = None
    corrected: bool | None = None
    touchpoints: int | None = Field(default=None, ge=0, le=2**31 - 1)
    cost: Decimal | None = Field(default=None, ge=0, lt=Decimal("1e12"))
    ai_version: Text | None = Field(default=None, max_length=80)


@dataclass(frozen=True)
class Unreadable:
    """An item of a batch that does not fit CaseIn: reported as rejected with its field errors, while
    the batch's other items are stored (issue 7: valid items are stored even when others are rejected)."""

    external_id: str
    problems: list[tuple[str, str]]  # (field, message)


def _item_or_unreadable(value: Any, handler) -> Any:
    try:
        return handler(value)
    except ValidationError as error:
        given = value.get("external_id") if isinstance(value, dict) else None
        external_id = given.strip()[:200] if isinstance(given, str) and "\x00" not in given else ""
        problems = [(".".join(map(str, e["loc"])) or "case", message_of(e)) for e in error.errors()]
        return Unreadable(external_id=external_id, problems=problems)


# The documented item schema stays CaseIn; an item that does not fit it becomes an Unreadable.
BatchItem = Annotated[CaseIn, WrapValidator(_item_or_unreadable)]


class BatchIn(Strict):
    cases: list[BatchItem] = Field(min_length=1, max_length=MAX_BATCH)
    on_behalf_of: Text | None = Field(
        default=None, max_length=150, description="A member's user name, when the key acts for one."
    )


class ProblemOut(BaseModel):  # plain pydantic: built from dicts, fast
    field: str
    kind: str
    message: str


class ItemOut(BaseModel):  # plain pydantic: built from dicts, fast
    external_id: str
    outcome: str = Field(description="created, unchanged, updated, conflict or rejected")
    problems: list[ProblemOut] = []
    route: str = ""


class BatchOut(BaseModel):  # plain pydantic: built from dicts, fast
    counts: dict[str, int]
    items: list[ItemOut]


def _item_json(external_id: str, outcome: str, problems: list[dict], route: str) -> str:
    """One ItemOut as JSON text, exactly as json.dumps would write its dict, at a quarter of the cost
    (a 1,000-case response is mostly these): only the problems need the encoder."""
    return (
        f'{{"external_id": {_quote(external_id)}, "outcome": {_quote(outcome)}, '
        f'"problems": {_encode(problems) if problems else "[]"}, "route": {_quote(route)}}}'
    )


def _arrival(item: CaseIn) -> Arrival:
    given = item.__dict__  # the validated fields (getattr on a pydantic model is slower)
    outcome = {name: given[name] for name in intake.OUTCOME_COLUMNS if given[name] is not None}
    return Arrival(
        external_id=item.external_id,
        inputs=item.inputs,
        outputs=item.outputs,
        received_at=item.received_at,
        due_at=item.due_at,
        outcome=outcome,
    )


@router.post(
    "/{pilot_id}/cases/batch",
    response=BatchOut,
    summary="Create or update up to 5,000 cases",
    description=(
        "Each case is validated against the pilot's input standard, routed by its rules and upserted by "
        "external_id: a decided case is never overwritten (a changed re-send is a conflict), an identical "
        "re-send is unchanged. Cases with problems are stored with them. Source: api."
    ),
)
def upsert_cases(request: HttpRequest, pilot_id: int, batch: BatchIn):
    pilot = pilot_of(request, pilot_id)
    actor = member_of(request, batch.on_behalf_of, field="on_behalf_of")
    readable = [item for item in batch.cases if isinstance(item, CaseIn)]
    result = intake.BatchResult()
    if readable:
        result = intake.ingest(
            pilot=pilot, arrivals=[_arrival(c) for c in readable], source="api", actor=actor
        )
    problems = {d.external_id: d.problems for d in result.with_problems}
    rejected = {draft.arrival.external_id: reason for draft, reason in result.rejected}
    outcomes, routes = result.outcomes, result.routes
    items = []
    for item in batch.cases:
        if isinstance(item, Unreadable):
            result.counts["rejected"] += 1
            found = [{"field": f, "kind": "invalid", "message": m} for f, m in item.problems]
            items.append(_item_json(item.external_id, "rejected", found, ""))
        elif item.external_id in rejected:
            found = [{"field": "external_id", "kind": "invalid", "message": rejected[item.external_id]}]
            items.append(_item_json(item.external_id, "rejected", found, ""))
        else:
            external_id = item.external_id.strip()
            found = problems.get(external_id)
            items.append(_item_json(
                external_id,
                outcomes.get(external_id, "rejected"),
                [{"field": f, "kind": k, "message": m} for f, k, m in found] if found else [],
                routes.get(external_id, ""),
            ))  # fmt: skip
    # Rendered here rather than by ninja, which would first validate each item against BatchOut (the
    # documented shape, built above from our own values; the schemathesis run checks the two agree):
    # a tenth of a 1,000-case request.
    text = f'{{"counts": {_encode(dict(result.counts))}, "items": [{", ".join(items)}]}}'
    return HttpResponse(text, content_type="application/json; charset=utf-8")


class CaseOut(Schema):
    id: int
    external_id: str
    source: str
    received_at: datetime
    event_at: datetime | None
    due_at: datetime | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    standard_version: int | None
    problems: list[ProblemOut]
    ai_version: str | None
    route: str
    rule_version: int | None
    rule_clause: str
    decided_at: datetime | None
    corrected: bool
    touchpoints: int
    cost: Decimal | None


def _case(case: Case) -> dict:
    return {
        "id": case.pk,
        "external_id": case.external_id,
        "source": case.source,
        "received_at": case.received_at,
        "event_at": case.event_at,
        "due_at": case.due_at,
        "inputs": case.inputs,
        "outputs": case.outputs,
        "standard_version": case.standard_version,
        "problems": case.problems,
        "ai_version": case.ai_version.identifier if case.ai_version_id else None,
        "route": case.route,
        "rule_version": case.rule_version,
        "rule_clause": case.rule_clause,
        "decided_at": case.decided_at,
        "corrected": case.corrected,
        "touchpoints": case.touchpoints,
        "cost": case.cost,
    }


class CaseFilters(Schema):
    cursor: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="`next_cursor` of the previous page"
    )
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)
    route: Literal["automated", "escalated", "rejected", "sampled"] | None = None
    decided: bool | None = None
    source: Literal["form", "upload", "api"] | None = None
    received_from: Moment | None = None
    received_to: Moment | None = None


class CasePage(Schema):
    items: list[CaseOut]
    next_cursor: int | None = Field(description="pass as `cursor` for the next page; null on the last page")


@router.get("/{pilot_id}/cases", response=CasePage, summary="The pilot's cases, newest first, by cursor")
def list_cases(request: HttpRequest, pilot_id: int, filters: Query[CaseFilters]):
    pilot = pilot_of(request, pilot_id)
    cases = Case.objects.filter(pilot=pilot).select_related("ai_version").order_by("-id")
    if filters.cursor is not None:
        cases = cases.filter(id__lt=filters.cursor)
    if filters.route is not None:
        cases = cases.filter(route=filters.route)
    if filters.decided is not None:
        cases = cases.filter(decided_at__isnull=not filters.decided)
    if filters.source is not None:
        cases = cases.filter(source=filters.source)
    if filters.received_from is not None:
        cases = cases.filter(received_at__gte=filters.received_from)
    if filters.received_to is not None:
        cases = cases.filter(received_at__lt=filters.received_to)
    page = list(cases[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    return {"items": [_case(c) for c in page], "next_cursor": page[-1].pk if more else None}


@router.get("/{pilot_id}/cases/{external_id}", response=CaseOut, summary="One case, by its external id")
def read_case(request: HttpRequest, pilot_id: int, external_id: str):
    pilot = pilot_of(request, pilot_id)
    case = Case.objects.select_related("ai_version").filter(pilot=pilot, external_id=external_id).first()
    if case is None:
        raise HttpError(404, "No such case.")
    return _case(case)


class AIVersionIn(Strict):
    identifier: Text = Field(min_length=1, max_length=80)
    released_on: date
    notes: Text = Field(default="", max_length=5000)
    on_behalf_of: Text | None = Field(default=None, max_length=150)


class AIVersionOut(Schema):
    id: int
    identifier: str
    released_on: date
    notes: str


@router.get("/{pilot_id}/ai-versions", response=list[AIVersionOut], summary="The pilot's AI versions")
def list_ai_versions(request: HttpRequest, pilot_id: int):
    pilot = pilot_of(request, pilot_id)
    return list(AIVersion.objects.filter(pilot=pilot).order_by("-released_on", "-id"))


@router.post("/{pilot_id}/ai-versions", response={201: AIVersionOut}, summary="Register an AI version")
def create_ai_version(request: HttpRequest, pilot_id: int, body: AIVersionIn):
    pilot = pilot_of(request, pilot_id)
    actor = member_of(request, body.on_behalf_of, field="on_behalf_of")
    try:
        version = standards.register_ai_version(
            pilot=pilot,
            actor=actor,
            identifier=body.identifier,
            released_on=body.released_on,
            notes=body.notes,
        )
    except DjangoValidationError as error:
        raise refusal_of(error) from error
    return Status(201, version)
