"""Readiness in the API (issue 8): every pilot's score, one pilot's snapshot with the evidence and next
action of each check, and its history. Read from the snapshots, like every screen."""

from datetime import date, datetime, timedelta
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from pilots import selectors
from pilots.api_support import pilot_of
from pilots.models import ReadinessSnapshot
from pilots.services import readiness

router = Router(tags=["readiness"])
MAX_PAGE = 500
MAX_ID = 2**63 - 1
Section = Literal["value", "edge_cases", "ownership", "integration", "trust", "learning"]


class SectionOut(Schema):
    score: int | None = Field(
        description="0–100, the share of points of the section's due checks; null: not yet due"
    )
    points: float
    due: int
    checks: int


class EvidenceOut(Schema):
    text: str
    links: list[list[str]] = Field(description="[label, url] pairs")


class CheckOut(Schema):
    id: str
    section: Section
    title: str
    gate: str
    attestable: bool
    status: float | Literal["not_due"] = Field(description="1 verified, 0.5 attested, 0 missing, or not_due")
    evidence: EvidenceOut
    next_action: str


class ReadinessOut(Schema):
    pilot_id: int
    score: int | None = Field(description="the weakest due section's score, 0–100; null until computed")
    weakest_section: Section | Literal[""]
    sections: dict[str, SectionOut]
    checks: list[CheckOut]
    stage: str
    status: str
    computed_at: datetime | None
    recomputing: bool = Field(description="a change is waiting to be scored: poll again in a second")


class ReadinessRow(Schema):
    pilot_id: int
    name: str
    score: int | None
    weakest_section: Section | Literal[""]
    stage: str
    status: str
    computed_at: datetime


class ReadinessPage(Schema):
    items: list[ReadinessRow]
    next_cursor: int | None = Field(description="pass as `cursor` for the next page; null on the last page")


class PageFilters(Schema):
    cursor: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="`next_cursor` of the previous page"
    )
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)


class HistoryFilters(Schema):
    days: int = Field(default=90, ge=1, le=3660, description="how many days back, today included")


class HistoryOut(Schema):
    on: date
    score: int | None
    weakest_section: Section | Literal[""]
    sections: dict[str, int | None]


@router.get("/readiness", response=ReadinessPage, summary="Every pilot's readiness score, by cursor")
def list_readiness(request: HttpRequest, filters: Query[PageFilters]):
    rows = (
        ReadinessSnapshot.objects.filter(workspace=request.auth.workspace)
        .order_by("pilot_id")
        .values("pilot_id", "pilot__name", "score", "weakest_section", "stage", "status", "computed_at")
    )
    if filters.cursor is not None:
        rows = rows.filter(pilot_id__gt=filters.cursor)
    page = list(rows[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    return {
        "items": [{**row, "name": row["pilot__name"]} for row in page],
        "next_cursor": page[-1]["pilot_id"] if more else None,
    }


@router.get("/pilots/{pilot_id}/readiness", response=ReadinessOut, summary="A pilot's readiness, explained")
def read_readiness(request: HttpRequest, pilot_id: int):
    pilot = pilot_of(request, pilot_id)
    snapshot = selectors.snapshot_of(pilot)
    recomputing = readiness.is_pending(pilot.pk)
    if snapshot is None:
        return {
            "pilot_id": pilot.pk, "score": None, "weakest_section": "", "sections": {}, "checks": [],
            "stage": pilot.stage, "status": pilot.status, "computed_at": None, "recomputing": True,
        }  # fmt: skip
    return {
        "pilot_id": pilot.pk,
        "score": snapshot.score,
        "weakest_section": snapshot.weakest_section,
        "sections": snapshot.sections,
        "checks": snapshot.checks,
        "stage": snapshot.stage,
        "status": snapshot.status,
        "computed_at": snapshot.computed_at,
        "recomputing": recomputing,
    }


@router.get(
    "/pilots/{pilot_id}/readiness/history", response=list[HistoryOut], summary="A pilot's readiness per day"
)
def readiness_history(request: HttpRequest, pilot_id: int, filters: Query[HistoryFilters]):
    pilot = pilot_of(request, pilot_id)
    since = timezone.localdate(timezone=pilot.workspace.zone) - timedelta(days=filters.days - 1)
    return selectors.readiness_history(pilot, since=since)
