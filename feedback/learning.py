"""Whether the pilot learns: the correction rate (DESIGN.md: corrected ÷ decided cases) per ISO week and
per AI version, each with its 95% Wilson interval, and a verdict that claims a change only when the
intervals say so.

The verdict compares the last two AI versions that have enough decided cases, or — with fewer than two
such versions — the first and the last quarter of the window. "Improving" needs the later interval to lie
wholly below the earlier one, "worse" wholly above; overlapping intervals are "flat"; fewer than
MIN_CASES decided cases on either side is "not enough data".
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from exceptions.stats import wilson_interval
from feedback.models import Correction
from pilots.checks import case_counts, case_facts_by_version
from pilots.models import AIVersion, Case, Pilot

WINDOW_WEEKS = 26
MIN_CASES = 30
IMPROVING, FLAT, WORSE, NOT_ENOUGH = "improving", "flat", "worse", "not_enough_data"
VERDICT_LABELS = {IMPROVING: "Improving", FLAT: "Flat", WORSE: "Worse", NOT_ENOUGH: "Not enough data"}


@dataclass(frozen=True)
class Rate:
    label: str
    decided: int
    corrected: int

    @property
    def rate(self) -> float | None:
        return self.corrected / self.decided if self.decided else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.corrected, self.decided)

    @property
    def enough(self) -> bool:
        return self.decided >= MIN_CASES


@dataclass(frozen=True)
class Week(Rate):
    start: date = date.min


@dataclass(frozen=True)
class VersionRate(Rate):
    version_id: int | None = None
    released_on: date | None = None


@dataclass(frozen=True)
class Verdict:
    kind: str
    basis: str  # "versions" or "quarters" (or "" without data)
    earlier: Rate | None
    later: Rate | None

    @property
    def label(self) -> str:
        return VERDICT_LABELS[self.kind]

    def explanation(self) -> str:
        if self.earlier is None or self.later is None:
            return f"Fewer than {MIN_CASES} decided cases to compare."

        def shown(r: Rate) -> str:
            low, high = r.interval
            return f"{r.label}: {r.rate:.1%} of {r.decided} (95% interval {low:.1%}–{high:.1%})"

        if self.kind == NOT_ENOUGH:
            return (
                f"Each side needs at least {MIN_CASES} decided cases — "
                f"{shown(self.earlier)}; {shown(self.later)}."
            )
        verb = {IMPROVING: "lies wholly below", WORSE: "lies wholly above", FLAT: "overlaps"}[self.kind]
        return f"{shown(self.later)} {verb} {shown(self.earlier)}."


def judge(earlier: Rate, later: Rate, basis: str) -> Verdict:
    if not (earlier.enough and later.enough):
        return Verdict(NOT_ENOUGH, basis, earlier, later)
    (e_low, e_high), (l_low, l_high) = earlier.interval, later.interval
    if l_high < e_low:
        return Verdict(IMPROVING, basis, earlier, later)
    if l_low > e_high:
        return Verdict(WORSE, basis, earlier, later)
    return Verdict(FLAT, basis, earlier, later)


def _decided(pilot_ids: list[int], since: datetime):
    return Case.objects.filter(pilot_id__any_of=pilot_ids, decided_at__gte=since, decided_at__isnull=False)


def window_start(pilot: Pilot, now: datetime | None = None) -> datetime:
    """Monday 00:00 (the workspace's time) WINDOW_WEEKS weeks before this week."""
    return _window_start(pilot.workspace.zone, now or timezone.now())


def _window_start(zone: ZoneInfo, now: datetime) -> datetime:
    today = timezone.localtime(now, zone).date()
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=WINDOW_WEEKS - 1)
    return datetime.combine(monday, datetime.min.time(), tzinfo=zone)


def weekly(pilot: Pilot, now: datetime | None = None) -> list[Week]:
    since = window_start(pilot, now)
    rows = (
        _decided([pilot.pk], since)
        .annotate(week=TruncWeek("decided_at", tzinfo=pilot.workspace.zone))
        .values("week")
        .annotate(decided=Count("id"), corrected=Count("id", filter=Q(corrected=True)))
        .order_by("week")
    )
    found = {(row["week"].date() if isinstance(row["week"], datetime) else row["week"]): row for row in rows}
    weeks = []
    start = since.date()
    for i in range(WINDOW_WEEKS):
        day = start + timedelta(weeks=i)
        row = found.get(day, {"decided": 0, "corrected": 0})
        iso = day.isocalendar()
        weeks.append(Week(f"{iso.year}-W{iso.week:02d}", row["decided"], row["corrected"], start=day))
    return weeks


def by_version(pilot: Pilot) -> list[VersionRate]:
    """Every AI version of the pilot (oldest release first) with its decided and corrected cases, all time."""
    versions = list(AIVersion.objects.filter(pilot=pilot).order_by("released_on", "id"))
    counts = {
        row["ai_version_id"]: row
        for row in Case.objects.filter(pilot=pilot, decided_at__isnull=False)
        .values("ai_version_id")
        .annotate(decided=Count("id"), corrected=Count("id", filter=Q(corrected=True)))
        .order_by()
    }
    return [
        VersionRate(
            v.identifier,
            counts.get(v.pk, {}).get("decided", 0),
            counts.get(v.pk, {}).get("corrected", 0),
            version_id=v.pk,
            released_on=v.released_on,
        )
        for v in versions
    ]


def _span(weeks: list[Week]) -> str:
    """2026-W10–2026-W12, or 2026-W10 for a single week."""
    first, last = weeks[0].label, weeks[-1].label
    return first if first == last else f"{first}–{last}"


def verdict(
    pilot: Pilot | None, weeks: list[Week] | None = None, versions: list[VersionRate] | None = None
) -> Verdict:
    """The learning verdict from the versions' rates, else from the weeks' (the pilot is read only for
    what is not given)."""
    versions = by_version(pilot) if versions is None else versions
    enough = [v for v in versions if v.enough]
    if len(enough) >= 2:
        return judge(enough[-2], enough[-1], "versions")
    weeks = weekly(pilot) if weeks is None else weeks
    active = [w for w in weeks if w.decided]
    if not active:
        return Verdict(NOT_ENOUGH, "", None, None)
    # The first and last quarter of the weeks that have decided cases.
    quarter = max(1, len(active) // 4)
    first, last = active[:quarter], active[-quarter:]
    if len(active) < 2:
        first, last = active, active
    earlier = Rate(_span(first), sum(w.decided for w in first), sum(w.corrected for w in first))
    later = Rate(_span(last), sum(w.decided for w in last), sum(w.corrected for w in last))
    if len(active) < 2:
        return Verdict(NOT_ENOUGH, "quarters", earlier, later)
    return judge(earlier, later, "quarters")


@case_counts
def _decided_counts(now) -> dict:
    """Every decided case and the corrected ones among them: in the readiness engine's one pass over
    the cases, by pilot and AI version."""
    decided = Q(decided_at__isnull=False)
    return {
        "learning_decided": Count("id", filter=decided),
        "learning_corrected": Count("id", filter=decided & Q(corrected=True)),
    }


def verdicts(pilot_ids: list[int]) -> dict[int, tuple[Verdict, float | None]]:
    """The verdict and the latest rate (the later side) for a batch of pilots, in a fixed number of
    queries (for the readiness check)."""
    # Only each pilot's time zone is needed: no model instances (loading 2,000 pilots with their
    # workspaces took longer than the Python work of the verdicts).
    zones = dict(Pilot.objects.filter(pk__any_of=pilot_ids).values_list("pk", "workspace__timezone"))
    versions_of: dict[int, list[tuple]] = {}  # pilot id → [(id, identifier, released_on)], oldest first
    for pilot_id, *version in (
        AIVersion.objects.filter(pilot_id__any_of=pilot_ids)
        .order_by("released_on", "id")
        .values_list("pilot_id", "id", "identifier", "released_on")
    ):
        versions_of.setdefault(pilot_id, []).append(version)
    # The versions' all-time counts come from the shared pass over the cases (by pilot and version).
    counts: dict[tuple[int, int | None], tuple[int, int]] = {}
    decided_of: dict[int, int] = {}
    for key, row in case_facts_by_version(sorted(zones)).items():
        counts[key] = (row["learning_decided"], row["learning_corrected"])
        decided_of[key[0]] = decided_of.get(key[0], 0) + row["learning_decided"]
    rates: dict[int, list[VersionRate]] = {}
    by_zone: dict[str, list[int]] = {}  # pilots that need the weeks: fewer than two versions with enough
    for pilot_id, zone_name in zones.items():
        rates[pilot_id] = [
            VersionRate(
                identifier,
                *counts.get((pilot_id, version_id), (0, 0)),
                version_id=version_id,
                released_on=released_on,
            )
            for version_id, identifier, released_on in versions_of.get(pilot_id, [])
        ]
        if decided_of.get(pilot_id) and sum(v.enough for v in rates[pilot_id]) < 2:
            by_zone.setdefault(zone_name, []).append(pilot_id)
    # The window's weekly counts (in the workspace's zone), one query per time zone.
    now = timezone.now()
    week_rows: dict[int, list[Week]] = {}
    for zone_name, group in by_zone.items():
        zone = ZoneInfo(zone_name)
        for row in (
            Case.objects.filter(pilot_id__any_of=group, decided_at__gte=_window_start(zone, now))
            .annotate(week=TruncWeek("decided_at", tzinfo=zone))
            .values("pilot_id", "week")
            .annotate(decided=Count("id"), corrected=Count("id", filter=Q(corrected=True)))
            .order_by("pilot_id", "week")
        ):
            day = row["week"].date() if isinstance(row["week"], datetime) else row["week"]
            iso = day.isocalendar()
            week_rows.setdefault(row["pilot_id"], []).append(
                Week(f"{iso.year}-W{iso.week:02d}", row["decided"], row["corrected"], start=day)
            )
    results = {}
    for pilot_id in zones:
        found = verdict(None, weeks=week_rows.get(pilot_id, []), versions=rates[pilot_id])
        results[pilot_id] = (found, found.later.rate if found.later else None)
    return results


def top_reasons(pilot: Pilot, now: datetime | None = None) -> list[tuple[str, list[tuple[date, int]], int]]:
    """Corrections per reason per month over the window: [(reason label, [(month, count)…], total)],
    most frequent reason first."""
    since = window_start(pilot, now)
    rows = (
        Correction.objects.filter(pilot=pilot, at__gte=since)
        .annotate(month=TruncMonth("at", tzinfo=pilot.workspace.zone))
        .values("reason__label", "month")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_reason: dict[str, dict] = {}
    for row in rows:
        month = row["month"].date() if isinstance(row["month"], datetime) else row["month"]
        by_reason.setdefault(row["reason__label"], {})[month] = row["n"]
    found = [(label, sorted(months.items()), sum(months.values())) for label, months in by_reason.items()]
    return sorted(found, key=lambda item: (-item[2], item[0]))
