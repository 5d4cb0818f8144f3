"""The portfolio dashboard's reads (issue 9). Every figure comes from readiness snapshots — never from cases —
in a fixed number of queries whatever the size of the workspace: one aggregate for the funnel, readiness,
the weakest sections, the stuck count and value; one GROUP BY for the business units; one page of stuck
pilots and the pilots whose readiness fell, then the names on those rows; and the weekly trend. The scans
read the snapshot's narrow columns only (its JSON lives out of line, migration 0009); what a shown row
needs from the JSON or the pilot is read for those rows alone."""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from pilots import portfolio
from pilots.aggregates import Median
from pilots.checks import SECTIONS
from pilots.models import STAGE_ORDER, PortfolioWeek, ReadinessSnapshot, Stage, Status, Workspace

__all__ = [
    "PortfolioFilters",
    "PortfolioSummary",
    "people",
    "portfolio_rows",
    "portfolio_summary",
    "portfolio_trend",
    "snapshot_business_units",
    "watch_lists",
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
    stuck: int
    held_back: dict[str, int]  # section → live pilots for which it is the weakest
    value: dict[str, dict] = field(default_factory=dict)  # suffix → {per_month, target, pilots, …}
    units: list[dict] = field(default_factory=list)  # per business unit: pilots, value_* and target_* sums

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


def portfolio_summary(workspace: Workspace, filters: PortfolioFilters, *, now: datetime) -> PortfolioSummary:
    """The funnel, the readiness distribution, the weakest sections, how many pilots are stuck, and the
    value delivered in all and per business unit: one GROUP BY over the few combinations of stage, status,
    section, band and business unit (tens of groups, whatever the number of pilots), added up here; and
    one aggregate for the medians."""
    snapshots = _snapshots(workspace, filters)
    band = Case(
        *(When(score__gte=low, score__lte=high, then=Value(low)) for low, high in portfolio.SCORE_BANDS),
        default=None,
        output_field=IntegerField(),
    )
    sums = {"pilots": Count("pk")}
    for suffix in SUFFIXES:
        for column in (f"value_{suffix}", f"target_{suffix}"):
            sums[f"sum_{column}"] = Sum(column)
            sums[f"count_{column}"] = Count(column)
    groups = (
        snapshots.annotate(
            band=band,
            fell=Case(When(score__lt=F("score_14_days_ago"), then=True), default=False),
            stuck=Case(When(_stuck_filter(now), then=True), default=False),
        )
        .values("stage", "status", "weakest_section", "business_unit", "band", "fell", "stuck")
        .annotate(**sums)
        .order_by()
    )
    medians = {f"days_{stage}": Median(f"days_{stage}") for stage in portfolio.PRE_PRODUCTION}
    medians["score"] = Median("score", filter=LIVE)
    median = snapshots.aggregate(**medians)

    total = Counter()
    all_at, now_at, bands, held, units = Counter(), Counter(), Counter(), Counter(), {}
    value: dict[str, float | None] = {}
    for group in groups:
        pilots = group["pilots"]
        total["pilots"] += pilots
        all_at[group["stage"]] += pilots
        if group["status"] == Status.STOPPED:
            total["stopped"] += pilots
            continue
        now_at[group["stage"]] += pilots
        total["on_hold"] += pilots if group["status"] == Status.ON_HOLD else 0
        total["fell"] += pilots if group["fell"] else 0
        total["stuck"] += pilots if group["stuck"] else 0
        if group["band"] is None:
            total["unscored"] += pilots
        else:
            bands[group["band"]] += pilots
        held[group["weakest_section"]] += pilots
        unit = units.setdefault(
            group["business_unit"], {"business_unit": group["business_unit"], "pilots": 0}
        )
        unit["pilots"] += pilots
        for suffix in SUFFIXES:
            for column in (f"value_{suffix}", f"target_{suffix}"):
                total[f"count_{column}"] += group[f"count_{column}"]
                if group[f"sum_{column}"] is not None:
                    value[column] = (value.get(column) or 0) + group[f"sum_{column}"]
                    unit[column] = (unit.get(column) or 0) + group[f"sum_{column}"]
    reached, running = {}, 0
    for stage in reversed(STAGE_ORDER):
        running += all_at[stage]
        reached[stage] = running
    return PortfolioSummary(
        pilots=total["pilots"],
        at_stage={stage: now_at[stage] for stage in STAGE_ORDER},
        stopped=total["stopped"],
        on_hold=total["on_hold"],
        reached=reached,
        median_days={stage: median[f"days_{stage}"] for stage in portfolio.PRE_PRODUCTION},
        median_score=median["score"],
        scored=total["pilots"] - total["stopped"] - total["unscored"],
        unscored=total["unscored"],
        bands=[(f"{low}–{high}", bands[low]) for low, high in portfolio.SCORE_BANDS],
        fell=total["fell"],
        stuck=total["stuck"],
        held_back={section: held[section] for section in SECTIONS},
        value={suffix: _value(value, total, suffix, workspace) for suffix in SUFFIXES},
        units=[
            {
                **{f"{kind}_{suffix}": None for suffix in SUFFIXES for kind in ("value", "target")},
                **unit,
                "name": unit["business_unit"] or "No business unit",
            }
            for _name, unit in sorted(units.items())
        ],
    )


def _value(value: dict, total: Counter, suffix: str, workspace: Workspace) -> dict:
    kind = next(k for k, (s, _l, _u) in portfolio.VALUE_KINDS.items() if s == suffix)
    _suffix, label, unit = portfolio.VALUE_KINDS[kind]
    per_month, target = value.get(f"value_{suffix}"), value.get(f"target_{suffix}")
    return {
        "label": label,
        "unit": unit or workspace.currency,
        "per_month": per_month,
        "target": target,
        "share": _share(per_month, target) if target and target > 0 else None,
        "measured": total[f"count_value_{suffix}"],
        "tracked": total[f"count_target_{suffix}"],
        "how": portfolio.VALUE_HOW[suffix],
    }


def weakest_sections(summary: PortfolioSummary) -> list[dict]:
    """The sections that hold pilots back, most pilots first (a pilot is held where it is weakest)."""
    found = sorted(
        (
            {"weakest_section": section, "label": SECTIONS[section], "pilots": pilots}
            for section, pilots in summary.held_back.items()
            if pilots
        ),
        key=lambda row: (-row["pilots"], row["weakest_section"]),
    )
    largest = max((row["pilots"] for row in found), default=0)
    return [dict(row, width=_share(row["pilots"], largest) or 0) for row in found]


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
    """Every column a row shows, the pilot's name and the overdue condition's owner (from the JSON)."""
    return snapshots.values(
        *ROW_FIELDS,
        name=F("pilot__name"),
        condition_owner_id=F("figures__pilots__overdue_condition_owner_id"),
    )


def watch_lists(
    workspace: Workspace,
    filters: PortfolioFilters,
    summary: PortfolioSummary,
    *,
    now: datetime,
    number: str | int | None,
    per_page: int = 20,
    fallen_limit: int = 10,
) -> tuple[Page, list[dict]]:
    """A page of stuck pilots, the longest held up first, each with its reasons and who can unblock it;
    and the pilots whose readiness is lower than 14 days ago, the largest fall first. The two lists are
    chosen from the narrow columns; then the name and the condition owner of the rows shown, in one query."""
    stuck_rows = (
        _snapshots(workspace, filters)
        .filter(_stuck_filter(now))
        .values(*ROW_FIELDS)
        .annotate(held_since=Coalesce("pending_request_since", "last_gate_decision_at", "stage_entered_at"))
        .order_by(F("held_since").asc(nulls_last=True), "pilot_id")
    )
    paginator = Paginator(stuck_rows, per_page)
    paginator.count = summary.stuck  # counted by the summary's aggregate: no COUNT query of its own
    page = paginator.get_page(number)
    fell = list(
        _snapshots(workspace, filters)
        .filter(LIVE, score__lt=F("score_14_days_ago"))
        .values(*ROW_FIELDS)
        .annotate(drop=F("score_14_days_ago") - F("score"))
        .order_by("-drop", "pilot_id")[:fallen_limit]
    )
    stuck = list(page.object_list)
    shown = ReadinessSnapshot.objects.filter(pilot_id__in={row["pilot_id"] for row in stuck + fell})
    extras = {
        pilot_id: (name, owner_id)
        for pilot_id, name, owner_id in shown.values_list(
            "pilot_id", "pilot__name", "figures__pilots__overdue_condition_owner_id"
        )
    }
    for row in stuck + fell:
        row["name"], row["condition_owner_id"] = extras.get(row["pilot_id"], ("", None))
    page.object_list = [dict(row, reasons=portfolio.stuck_reasons(row, now=now)) for row in stuck]
    return page, [dict(row, weakest=SECTIONS.get(row["weakest_section"], "")) for row in fell]


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
