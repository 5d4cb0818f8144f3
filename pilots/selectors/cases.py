"""Reads of cases: the filtered list, and conformance per ISO week in the workspace's time zone."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from pilots.models import CONFORMING, AIVersion, Case, CaseUpload, InputStandard, Pilot

__all__ = [
    "CaseFilters",
    "PROBLEM_KINDS",
    "Week",
    "ai_versions_of",
    "case_list",
    "conformance_by_week",
    "conformance_summary",
    "standards_of",
    "top_failing_fields",
    "uploads_of",
]

PROBLEM_KINDS = list(Case.PROBLEM_FLAGS)


@dataclass
class CaseFilters:
    problem: str = ""  # a problem kind, or "" for any
    conforms: str = ""  # "yes", "no" or ""
    source: str = ""
    version: str = ""  # standard version
    ai_version: str = ""
    received_from: str = ""  # ISO date
    received_to: str = ""
    decided_from: str = ""  # ISO date: the cases behind a metric's weekly figure
    decided_to: str = ""
    q: str = ""  # external id starts with
    upload: str = ""  # the upload that last wrote the case


def case_list(pilot: Pilot, filters: CaseFilters) -> QuerySet[Case]:
    cases = Case.objects.filter(pilot=pilot).select_related("ai_version").defer("inputs", "outputs")
    if filters.problem in Case.PROBLEM_FLAGS:
        cases = cases.filter(**{Case.PROBLEM_FLAGS[filters.problem]: True})
    if filters.conforms == "yes":
        cases = cases.filter(CONFORMING)
    elif filters.conforms == "no":
        cases = cases.exclude(CONFORMING)
    if filters.source in Case.Source.values:
        cases = cases.filter(source=filters.source)
    if filters.version.isdigit():
        cases = cases.filter(standard_version=int(filters.version))
    if filters.ai_version.isdigit():
        cases = cases.filter(ai_version_id=int(filters.ai_version))
    zone = pilot.workspace.zone
    bounds = (
        (filters.received_from, "received_at", "gte"),
        (filters.received_to, "received_at", "lt"),
        (filters.decided_from, "decided_at", "gte"),
        (filters.decided_to, "decided_at", "lt"),
    )
    for bound, field, lookup in bounds:
        try:
            day = date.fromisoformat(bound) if bound else None
        except ValueError:
            day = None
        if day is not None:
            if lookup == "lt":
                day += timedelta(days=1)  # "to" includes its whole day
            start = timezone.make_aware(datetime.combine(day, time.min), zone)
            cases = cases.filter(**{f"{field}__{lookup}": start})
    if filters.upload.isdigit():
        cases = cases.filter(upload_id=int(filters.upload))
    if filters.q:
        cases = cases.filter(external_id__istartswith=filters.q)
    return cases.order_by("-received_at", "-id")


def standards_of(pilot: Pilot) -> QuerySet[InputStandard]:
    return InputStandard.objects.filter(pilot=pilot).select_related("published_by").order_by("-version")


def ai_versions_of(pilot: Pilot) -> QuerySet[AIVersion]:
    return AIVersion.objects.filter(pilot=pilot).order_by("-released_on", "-id")


def uploads_of(pilot: Pilot) -> QuerySet[CaseUpload]:
    return CaseUpload.objects.filter(pilot=pilot).select_related("uploaded_by").order_by("-created_at")


def _kind_counts() -> dict:
    return {kind: Count("id", filter=Q(**{flag: True})) for kind, flag in Case.PROBLEM_FLAGS.items()}


@dataclass
class Week:
    start: object  # the Monday, in the workspace's time zone
    total: int
    conforming: int
    kinds: dict[str, int]

    @property
    def share(self) -> float | None:
        return self.conforming / self.total if self.total else None


def conformance_by_week(pilot: Pilot, *, weeks: int = 12) -> list[Week]:
    """Share of conforming cases and counts per problem kind, per ISO week of arrival (this week and the
    `weeks - 1` before it, whole weeks from Monday 00:00 in the workspace's time zone)."""
    zone = pilot.workspace.zone
    today = timezone.localtime(timezone.now(), zone).date()
    monday = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    since = timezone.make_aware(datetime.combine(monday, time.min), zone)
    rows = (
        Case.objects.filter(pilot=pilot, received_at__gte=since)
        .annotate(week=TruncWeek("received_at", tzinfo=zone))
        .values("week")
        .annotate(total=Count("id"), conforming=Count("id", filter=CONFORMING), **_kind_counts())
        .order_by("week")
    )
    return [
        Week(
            start=timezone.localtime(row["week"], zone).date()
            if timezone.is_aware(row["week"])
            else row["week"].date(),
            total=row["total"],
            conforming=row["conforming"],
            kinds={kind: row[kind] for kind in PROBLEM_KINDS},
        )
        for row in rows
    ]


def conformance_summary(pilot: Pilot, *, days: int = 30) -> dict:
    since = timezone.now() - timedelta(days=days)
    row = Case.objects.filter(pilot=pilot, received_at__gte=since).aggregate(
        total=Count("id"), conforming=Count("id", filter=CONFORMING), **_kind_counts()
    )
    total = row["total"] or 0
    return {
        "days": days,
        "total": total,
        "conforming": row["conforming"] or 0,
        "share": (row["conforming"] / total) if total else None,
        "kinds": {kind: row[kind] or 0 for kind in PROBLEM_KINDS},
    }


def top_failing_fields(
    pilot: Pilot, *, days: int = 30, sample: int = 5000, limit: int = 8
) -> list[tuple[str, int]]:
    """The fields most often at fault, over the latest `sample` non-conforming cases of the window."""
    since = timezone.now() - timedelta(days=days)
    counter: Counter = Counter()
    problems = (
        Case.objects.filter(pilot=pilot, received_at__gte=since)
        .exclude(CONFORMING)
        .order_by("-received_at")
        .values_list("problems", flat=True)[:sample]
    )
    for items in problems:
        for problem in items:
            counter[f"{problem['field']} ({problem['kind'].replace('_', ' ')})"] += 1
    return counter.most_common(limit)
