"""The portfolio dashboard's reads (issue 9). Every figure comes from readiness snapshots — never from cases —
in a fixed number of queries whatever the size of the workspace: one aggregate for the funnel, readiness
and value, one GROUP BY each for the weakest sections and the business units, one page of stuck pilots,
the pilots whose readiness fell, the names on those rows, and the weekly trend."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from pilots import portfolio
from pilots.aggregates import Median
from pilots.checks import SECTIONS
from pilots.models import STAGE_ORDER, PortfolioWeek, ReadinessSnapshot, Stage, Status, Workspace

__all__ = [
    "PortfolioFilters",
    "PortfolioSummary",
    "business_unit_values",
    "fallen",
    "people",
    "portfolio_rows",
    "portfolio_summary",
    "portfolio_trend",
    "snapshot_business_units",
    "stuck_page",
    "weakest_sections",
]

STAGE_LABELS = dict(Stage.choices)
SUFFIXES = [suffix for suffix, _label, _unit in portfolio.VALUE_KINDS.values()]


@dataclass(frozen=True)
class PortfolioFilters:
    business_unit: str = ""
    stage: str = ""
    status: str = ""
    owner: int | None = None  # the workflow owner's user id

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> "PortfolioFilters":
        """Filters from a query string; a value that is not one of the choices is ignored, not an error."""
        owner = query.get("owner", "")
        return cls(
            business_unit=query.get("business_unit", "").strip()[:120],
            stage=query.get("stage", "") if query.get("stage") in Stage.values else "",
            status=query.get("status", "") if query.get("status") in Status.values else "",
            owner=int(owner) if owner.isdigit() else None,
        )

    def query(self, **extra) -> str:
        values = {
            "business_unit": self.business_unit,
            "stage": self.stage,
            "status": self.status,
            "owner": self.owner or "",
        } | extra
        return urlencode({key: value for key, value in values.items() if value not in ("", None)})

    @property
    def active(self) -> bool:
        return bool(self.business_unit or self.stage or self.status or self.owner)

    def without(self, name: str) -> "PortfolioFilters":
        return replace(self, **{name: None if name == "owner" else ""})


def _snapshots(workspace: Workspace, filters: PortfolioFilters) -> QuerySet[ReadinessSnapshot]:
    rows = ReadinessSnapshot.objects.filter(workspace=workspace)
    if filters.business_unit:
        rows = rows.filter(business_unit=filters.business_unit)
    if filters.stage:
        rows = rows.filter(stage=filters.stage)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.owner:
        rows = rows.filter(workflow_owner_id=filters.owner)
    return rows


LIVE = ~Q(status=Status.STOPPED)


@dataclass
class PortfolioSummary:
    pilots: int
    at_stage: dict[str, int]  # stage → pilots there now, stopped ones left out
    stopped: int
    on_hold: int
    reached: dict[str, int]  # stage → pilots that got at least that far (stopped ones included)
    median_days: dict[str, float | None]
    median_score: float | None
    scored: int
    unscored: int
    bands: list[tuple[str, int]]
    fell: int
    value: dict[str, dict] = field(default_factory=dict)  # suffix → {per_month, target, pilots, …}

    @property
    def funnel(self) -> list[dict]:
        """Each stage: pilots there now, how many got at least that far, and the conversion from the stage
        before (of those that reached it, the share that reached this one)."""
        rows, before = [], None
        for stage in STAGE_ORDER:
            reached = self.reached[stage]
            rows.append(
                {
                    "stage": stage,
                    "label": STAGE_LABELS[stage],
                    "now": self.at_stage[stage],
                    "reached": reached,
                    "conversion": _share(reached, before) if before is not None else None,
                    "median_days": self.median_days.get(stage),
                    "width": _share(reached, self.pilots) or 0,
                }
            )
            before = reached
        return rows

    @property
    def comparison(self) -> dict:
        """The portfolio's investigation → pilot → production rates beside the study's. The study counts
        organisations (shares of all it surveyed); here every registered pilot is an investigation."""
        ideas = self.pilots
        started = self.reached[Stage.DEFINE_SUCCESS]
        production = self.reached[Stage.PRODUCTION]
        study = portfolio.STUDY
        return {
            "ideas": ideas,
            "started": started,
            "production": production,
            "started_share": _share(started, ideas),
            "production_share": _share(production, ideas),
            "production_of_started": _share(production, started),
            "study": study,
            "study_started_share": _share(study["piloted"], study["investigated"]),
            "study_production_share": _share(study["production"], study["investigated"]),
            "study_production_of_started": _share(study["production"], study["piloted"]),
        }


def _share(part: float | None, whole: float | None) -> float | None:
    return round(100 * part / whole, 1) if whole and part is not None else None


def portfolio_summary(workspace: Workspace, filters: PortfolioFilters) -> PortfolioSummary:
    """The funnel, the readiness distribution and the value delivered, in one aggregate query."""
    aggregates = {"pilots": Count("pk"), "stopped": Count("pk", filter=~LIVE)}
    aggregates["on_hold"] = Count("pk", filter=Q(status=Status.ON_HOLD))
    for stage in STAGE_ORDER:
        aggregates[f"all_{stage}"] = Count("pk", filter=Q(stage=stage))
        aggregates[f"now_{stage}"] = Count("pk", filter=Q(stage=stage) & LIVE)
    for stage in portfolio.PRE_PRODUCTION:
        aggregates[f"median_days_{stage}"] = Median(f"days_{stage}")
    aggregates["median_score"] = Median("score", filter=LIVE)
    aggregates["unscored"] = Count("pk", filter=LIVE & Q(score=None))
    for low, high in portfolio.SCORE_BANDS:
        aggregates[f"band_{low}"] = Count("pk", filter=LIVE & Q(score__gte=low, score__lte=high))
    aggregates["fell"] = Count("pk", filter=LIVE & Q(score__lt=F("score_14_days_ago")))
    for suffix in SUFFIXES:
        aggregates[f"sum_value_{suffix}"] = Sum(f"value_{suffix}", filter=LIVE)
        aggregates[f"sum_target_{suffix}"] = Sum(f"target_{suffix}", filter=LIVE)
        aggregates[f"measured_{suffix}"] = Count(f"value_{suffix}", filter=LIVE)
        aggregates[f"tracked_{suffix}"] = Count(f"target_{suffix}", filter=LIVE)
    got = _snapshots(workspace, filters).aggregate(**aggregates)
    reached, running = {}, 0
    for stage in reversed(STAGE_ORDER):
        running += got[f"all_{stage}"]
        reached[stage] = running
    scored = got["pilots"] - got["stopped"] - got["unscored"]
    return PortfolioSummary(
        pilots=got["pilots"],
        at_stage={stage: got[f"now_{stage}"] for stage in STAGE_ORDER},
        stopped=got["stopped"],
        on_hold=got["on_hold"],
        reached=reached,
        median_days={stage: got[f"median_days_{stage}"] for stage in portfolio.PRE_PRODUCTION},
        median_score=got["median_score"],
        scored=scored,
        unscored=got["unscored"],
        bands=[(f"{low}–{high}", got[f"band_{low}"]) for low, high in portfolio.SCORE_BANDS],
        fell=got["fell"],
        value={suffix: _value(got, suffix, workspace) for suffix in SUFFIXES},
    )


def _value(got: dict, suffix: str, workspace: Workspace) -> dict:
    kind = next(k for k, (s, _l, _u) in portfolio.VALUE_KINDS.items() if s == suffix)
    _suffix, label, unit = portfolio.VALUE_KINDS[kind]
    per_month, target = got[f"sum_value_{suffix}"], got[f"sum_target_{suffix}"]
    return {
        "label": label,
        "unit": unit or workspace.currency,
        "per_month": per_month,
        "target": target,
        "share": _share(per_month, target) if target and target > 0 else None,
        "measured": got[f"measured_{suffix}"],
        "tracked": got[f"tracked_{suffix}"],
        "how": portfolio.VALUE_HOW[suffix],
    }


def weakest_sections(workspace: Workspace, filters: PortfolioFilters) -> list[dict]:
    """The sections that hold pilots back, most pilots first (a pilot is held where it is weakest)."""
    rows = (
        _snapshots(workspace, filters)
        .filter(LIVE)
        .exclude(weakest_section="")
        .values("weakest_section")
        .annotate(pilots=Count("pk"))
        .order_by("-pilots", "weakest_section")
    )
    found = [dict(row, label=SECTIONS.get(row["weakest_section"], row["weakest_section"])) for row in rows]
    largest = max((row["pilots"] for row in found), default=0)
    return [dict(row, width=_share(row["pilots"], largest) or 0) for row in found]


def business_unit_values(workspace: Workspace, filters: PortfolioFilters) -> list[dict]:
    """Value delivered per month and what the targets would deliver, per business unit."""
    sums = {}
    for suffix in SUFFIXES:
        sums[f"value_{suffix}"] = Sum(f"value_{suffix}")
        sums[f"target_{suffix}"] = Sum(f"target_{suffix}")
    rows = (
        _snapshots(workspace, filters)
        .filter(LIVE)
        .values("business_unit")
        .annotate(pilots=Count("pk"), **sums)
        .order_by("business_unit")
    )
    return [dict(row, name=row["business_unit"] or "No business unit") for row in rows]


def _stuck_filter(now: datetime) -> Q:
    quiet = now - timedelta(days=portfolio.stuck_days())
    return LIVE & (
        Q(status=Status.ON_HOLD)
        | Q(pending_request_since__lt=now - timedelta(days=portfolio.waiting_days()))
        | (
            Q(status=Status.ACTIVE)
            & ~Q(stage=Stage.PRODUCTION)
            & (Q(last_gate_decision_at__lt=quiet) | Q(last_gate_decision_at=None, stage_entered_at__lt=quiet))
        )
        | Q(overdue_conditions__gt=0)
        | Q(overdue_escalations__gt=0)
    )


ROW_FIELDS = (
    "pilot_id", "stage", "status", "business_unit", "program_manager_id", "workflow_owner_id", "score",
    "weakest_section", "stage_entered_at", "last_gate_decision_at", "pending_request_since",
    "overdue_conditions", "overdue_escalations", "score_14_days_ago",
    *(f"value_{suffix}" for suffix in SUFFIXES), *(f"target_{suffix}" for suffix in SUFFIXES),
)  # fmt: skip


def _rows(snapshots: QuerySet[ReadinessSnapshot]) -> QuerySet:
    return snapshots.values(
        *ROW_FIELDS,
        name=F("pilot__name"),
        condition_owner_id=F("figures__pilots__overdue_condition_owner_id"),
    )


def stuck_page(
    workspace: Workspace,
    filters: PortfolioFilters,
    *,
    now: datetime,
    number: str | int | None,
    per_page: int = 20,
) -> Page:
    """Stuck pilots, the longest held up first; each row carries its reasons and who can unblock it."""
    rows = (
        _rows(_snapshots(workspace, filters).filter(_stuck_filter(now)))
        .annotate(held_since=Coalesce("pending_request_since", "last_gate_decision_at", "stage_entered_at"))
        .order_by(F("held_since").asc(nulls_last=True), "pilot_id")
    )
    page = Paginator(rows, per_page).get_page(number)
    page.object_list = [dict(row, reasons=portfolio.stuck_reasons(row, now=now)) for row in page.object_list]
    return page


def fallen(workspace: Workspace, filters: PortfolioFilters, *, limit: int = 10) -> list[dict]:
    """Pilots whose readiness is lower than 14 days ago, the largest fall first."""
    rows = (
        _rows(_snapshots(workspace, filters).filter(LIVE, score__lt=F("score_14_days_ago")))
        .annotate(drop=F("score_14_days_ago") - F("score"))
        .order_by("-drop", "pilot_id")[:limit]
    )
    return [dict(row, weakest=SECTIONS.get(row["weakest_section"], "")) for row in rows]


def people(user_ids: set[int | None]) -> dict[int, str]:
    """user id → the name to show, for the ids on a page (one query)."""
    found = (
        get_user_model()
        .objects.filter(id__in={i for i in user_ids if i})
        .values_list("id", "first_name", "last_name", "username")
    )
    return {pk: f"{first} {last}".strip() or username for pk, first, last, username in found}


def portfolio_trend(workspace: Workspace, *, weeks: int = 26) -> list[PortfolioWeek]:
    """The workspace's last `weeks` weekly records, oldest first (the whole workspace: no filters)."""
    return list(reversed(PortfolioWeek.objects.filter(workspace=workspace).order_by("-week")[:weeks]))


def snapshot_business_units(workspace: Workspace) -> list[str]:
    return list(
        ReadinessSnapshot.objects.filter(workspace=workspace)
        .exclude(business_unit="")
        .order_by("business_unit")
        .values_list("business_unit", flat=True)
        .distinct()
    )


def portfolio_rows(workspace: Workspace, filters: PortfolioFilters):
    """Every filtered pilot's row for the export, in name order, streamed in chunks."""
    return _rows(_snapshots(workspace, filters)).order_by("pilot__name", "pilot_id").iterator(chunk_size=2000)
