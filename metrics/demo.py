"""Step 1's part of `seed_demo` and `generate_load`.

`seed`: for every demo pilot that has started, one to three business metrics stated in business terms
(baseline at the pilot's start, target at its target date, owned by its program manager). Metrics of
pilots whose own system records outcomes are computed from their decided cases; the others are measured
by hand, every Friday, on the demo clock — after a few weeks of baseline figures imported from a
spreadsheet when the metric was defined — so that some end on track, some at risk and some off track.
An early pilot gets a vanity metric, so the demo shows the guard's warning.

`generate_load`: two computed metrics (cycle time and error rate) for every generated pilot that has
started, written in bulk, so the bench can time computing them.
"""

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from metrics import compute
from metrics.attainment import AT_RISK, OFF_TRACK, ON_TRACK, elapsed
from metrics.models import Direction, Kind, Measurement, Method, Metric
from metrics.services import MetricDetails, define_metric, import_measurements, record_measurement
from pilots.demo import PILOTS, DemoContext, LoadContext, demo_clock
from pilots.models import GateDecision, Outcome, Pilot, Stage

COMPUTED = Method.FROM_CASES
# How far along the way from baseline to target a hand-measured metric is, as a share of the time gone.
COURSES = {ON_TRACK: 1.2, AT_RISK: 0.8, OFF_TRACK: 0.1}
NOISE = 0.04  # week-to-week wobble of a hand-measured figure, as a share of the baseline-to-target span
HISTORY_WEEKS = 13  # every hand-measured metric shows at least this many weekly figures
BASELINE_WEEKS = 4  # … of which at least this many come before the pilot (the baseline period)


@dataclass(frozen=True)
class Plan:
    name: str
    kind: str
    baseline: float
    target: float
    source: str
    unit: str = ""  # "" → the kind's default; "{currency}" is the workspace's
    direction: str = Direction.LOWER
    method: str = Method.MANUAL
    outcome: str = ""
    course: str | None = None  # hand-measured metrics: where the weekly figures head


PLANS: dict[str, tuple[Plan, ...]] = {
    "claims": (
        Plan("Claim cycle time", Kind.CYCLE_TIME, 6.5, 2.5, method=COMPUTED,
             source="Loss date to triage decision, average of the quarter before the pilot (claims system)."),
        Plan("Misrouted claims", Kind.ERROR_RATE, 14, 5, method=COMPUTED,
             source="Claims re-routed by an adjuster after triage, quarter before the pilot (1 in 7)."),
    ),
    "invoices": (
        Plan("Touchpoints per invoice", Kind.TOUCHPOINTS, 3, 0.8, unit="touchpoints per invoice",
             method=COMPUTED, source="Time-and-motion study of 200 invoices in accounts payable."),
        Plan("External spend on outsourced data entry", Kind.EXTERNAL_SPEND, 40_000, 15_000, course=AT_RISK,
             source="Data-entry contractor's invoices, average of the six months before the pilot."),
    ),
    "email": (
        Plan("Time for an email to reach the right team", Kind.CYCLE_TIME, 48, 12, unit="hours",
             method=COMPUTED, source="Shared inbox: arrival to assignment, average of the last quarter."),
        Plan("Emails sent to the wrong team", Kind.ERROR_RATE, 20, 6, method=COMPUTED,
             source="Emails re-assigned by the receiving team, last quarter."),
    ),
    "underwriting": (
        Plan("Time to write a risk note", Kind.CYCLE_TIME, 3.5, 1, unit="hours", course=ON_TRACK,
             source="Underwriters' time sheets, last quarter."),
        Plan("Quote turnaround to brokers", Kind.CYCLE_TIME, 5, 2, course=AT_RISK,
             source="Broker portal: submission to quote, last quarter."),
    ),
    "contracts": (
        Plan("Contract review cycle time", Kind.CYCLE_TIME, 3, 1, course=ON_TRACK,
             source="Legal's matter log: request to signed review, last six months."),
        Plan("External counsel spend on contract review", Kind.EXTERNAL_SPEND, 22_000, 9_000,
             course=OFF_TRACK,
             source="Outside counsel invoices coded to supplier contracts, last six months."),
    ),
    "disputes": (
        Plan("Misfiled disputes", Kind.ERROR_RATE, 16.7, 5, method=COMPUTED,
             source="Disputes re-filed under another reason code, last quarter (1 in 6)."),
        Plan("Chargeback losses from misfiled disputes", Kind.EXTERNAL_SPEND, 65_000, 30_000, course=ON_TRACK,
             source="Card scheme chargeback reports, average of the last six months."),
    ),
    "kyc": (
        Plan("Time to clear ID document checks", Kind.CYCLE_TIME, 7, 1, course=ON_TRACK,
             source="Onboarding queue: documents received to check passed, last quarter."),
    ),
    "subrogation": (
        Plan("Recoveries from liable third parties", Kind.CUSTOM, 120_000, 200_000, unit="{currency}/month",
             direction=Direction.HIGHER, course=OFF_TRACK,
             outcome="Money recovered from third parties lowers the net cost of claims.",
             source="Recoveries booked in the claims ledger, average of the last year."),
    ),
    "calls": (
        Plan("After-call work per call", Kind.CYCLE_TIME, 4, 1.5, unit="minutes", course=AT_RISK,
             source="Contact-centre platform: wrap-up time, last quarter."),
    ),
    "suppliers": (
        Plan("Touchpoints per supplier record", Kind.TOUCHPOINTS, 3, 1, unit="touchpoints per record",
             method=COMPUTED, source="Master data team: edits per new supplier record, last quarter."),
    ),
    # An idea under investigation, measured the way many pilots start: by activity. The guard flags it.
    "hr": (
        Plan("Weekly active users", Kind.CUSTOM, 0, 400, unit="users", direction=Direction.HIGHER,
             outcome="Staff find answers to HR policy questions without waiting for HR.",
             source="None yet: the assistant is not live."),
    ),
}  # fmt: skip


def seed(ctx: DemoContext) -> DemoContext:
    """Metrics and their history for the demo pilots (skipped when the demo pilots have metrics already)."""
    pilots = _demo_pilots(ctx)
    if Metric.objects.filter(pilot__in=pilots.values()).exists():
        ctx.log.append("the demo pilots have metrics already; no metric changed")
        return ctx
    zone = ctx.workspace.zone
    today = timezone.now().astimezone(zone).date()
    ends = _measuring_ends(pilots.values(), zone)
    metrics = []
    for key, plans in PLANS.items():
        pilot = pilots.get(key)
        if pilot is None:
            continue
        for plan in plans:
            metric = _define(pilot, plan, ctx.workspace.currency, zone)
            metrics.append(metric)
            if plan.course:
                _measure(metric, plan, zone=zone, today=today, end=ends.get(pilot.pk, today))
    figures = compute.recompute([p.pk for p in pilots.values()])
    manual = [m for m in metrics if m.method == Method.MANUAL]
    entered = Measurement.objects.filter(metric__in=manual).count()
    ctx.log.append(
        f"{len(metrics)} business metrics on {len({m.pilot_id for m in metrics})} pilots: "
        f"{len(metrics) - len(manual)} computed from cases ({figures} weekly figures), "
        f"{len(manual)} measured by hand ({entered} measurements); "
        f"{sum(bool(m.vanity_warning) for m in metrics)} flagged by the vanity guard"
    )
    return ctx


def _demo_pilots(ctx: DemoContext) -> dict[str, Pilot]:
    """The seeded pilots by key (a repeated seed hands over its pilots by name, so look them up by name)."""
    names = {name: key for key, name, *_rest in PILOTS}
    found = Pilot.objects.filter(workspace=ctx.workspace, name__in=names).select_related(
        "workspace", "program_manager"
    )
    return {names[p.name]: p for p in found}


def _measuring_ends(pilots, zone: ZoneInfo) -> dict[int, date]:
    """Pilots put on hold or stopped are no longer measured after that decision."""
    decisions = GateDecision.objects.filter(pilot__in=pilots, outcome__in=(Outcome.HOLD, Outcome.STOP))
    return {
        pilot_id: at.astimezone(zone).date()
        for pilot_id, at in decisions.values_list("pilot_id", "decided_at")
    }


def _define(pilot: Pilot, plan: Plan, currency: str, zone: ZoneInfo) -> Metric:
    """Defined by the program manager the day after the pilot started, baseline as of the start."""
    start = pilot.started_on or pilot.created_at.astimezone(zone).date()
    with demo_clock(_local(start + timedelta(days=1), time(10), zone)):
        return define_metric(
            pilot=pilot,
            actor=pilot.program_manager,
            details=MetricDetails(
                name=plan.name,
                kind=plan.kind,
                unit=plan.unit.format(currency=currency),
                direction=plan.direction,
                outcome=plan.outcome,
                baseline=plan.baseline,
                baseline_on=start,
                baseline_source=plan.source,
                target=plan.target,
                target_date=pilot.target_date,
                method=plan.method,
                owner=pilot.program_manager,
            ),
        )


def _measure(metric: Metric, plan: Plan, *, zone: ZoneInfo, today: date, end: date) -> None:
    """The baseline weeks, imported with the definition; then a figure every Friday up to `end`, each
    entered that afternoon. The last figure lands exactly on the course, so the status is as planned."""
    rng = random.Random(f"demo-metric-{metric.pilot.name}-{metric.name}")
    start, span = metric.baseline_on, metric.target - metric.baseline
    fridays = _fridays(start, min(end, today - timedelta(days=1)))  # entered at 16:00: never later than now
    before = [
        start - timedelta(weeks=n) for n in range(max(BASELINE_WEEKS, HISTORY_WEEKS - len(fridays)), 0, -1)
    ]
    rows = "".join(
        f"{on.isoformat()},{_value(metric, plan.baseline + span * rng.gauss(0, NOISE))},Baseline period\n"
        for on in before
    )
    with demo_clock(_local(start + timedelta(days=1), time(10, 30), zone)):
        import_measurements(metric=metric, actor=metric.owner, text="date,value,note\n" + rows)
    factor = COURSES[plan.course]
    for n, friday in enumerate(fridays):
        last = n == len(fridays) - 1
        if last:  # judged against today's share of time gone, with no wobble
            share = factor * elapsed(start=start, end=metric.target_date, today=today)
        else:
            share = factor * elapsed(start=start, end=metric.target_date, today=friday) + rng.gauss(0, NOISE)
        with demo_clock(_local(friday, time(16), zone)):
            record_measurement(
                metric=metric,
                actor=metric.owner,
                value=_value(metric, plan.baseline + span * share),
                on=friday,
            )


def _fridays(start: date, end: date) -> list[date]:
    first = start + timedelta(days=(4 - start.weekday()) % 7 or 7)
    return [first + timedelta(weeks=n) for n in range((end - first).days // 7 + 1)] if first <= end else []


def _value(metric: Metric, value: float) -> float:
    """Rounded as people report it, and within what the metric's unit allows."""
    value = max(0.0, min(value, 100.0) if metric.unit == "%" else value)
    if value >= 1000:
        return round(value, -2)
    return round(value, 1) if value >= 10 or metric.unit == "%" else round(value, 2)


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


# ---------------------------------------------------------------------------------------------------
# generate_load: two computed metrics per started pilot, in bulk.

METRIC_FIELDS = [
    "pilot_id", "name", "kind", "unit", "direction", "outcome", "baseline", "baseline_on", "baseline_source",
    "target", "target_date", "method", "owner_id", "vanity_warning", "created_at", "updated_at",
]  # fmt: skip
# name, kind, unit, and the range the baseline is drawn from (the target is 30–50% of it)
LOAD_METRICS = (("Cycle time", Kind.CYCLE_TIME, "days", 3, 8), ("Error rate", Kind.ERROR_RATE, "%", 8, 20))


def generate_load(ctx: LoadContext) -> None:
    """Cycle time and error rate, computed from cases, for each of the generated pilots that has started."""
    if not ctx.pilot_ids:
        return
    rng = random.Random(f"metrics-{ctx.seed}")
    now = timezone.now()
    # Read before writing: on PostgreSQL the connection is busy with the COPY while the rows are made.
    pilots = list(
        Pilot.objects.filter(workspace=ctx.workspace, pk__gte=min(ctx.pilot_ids), pk__lte=max(ctx.pilot_ids))
        .exclude(stage=Stage.PROPOSED)
        .order_by("pk")
        .values_list("pk", "started_on", "target_date", "program_manager_id")
    )

    def rows():
        for pilot_id, started_on, target_date, owner_id in pilots:
            start = started_on or now.date()
            end = max(target_date or start, start + timedelta(days=1))
            for name, kind, unit, low, high in LOAD_METRICS:
                baseline = round(rng.uniform(low, high), 1)
                target = round(baseline * rng.uniform(0.3, 0.5), 1)
                yield (pilot_id, name, kind, unit, Direction.LOWER, "", baseline, start, "Generated load.",
                       target, end, COMPUTED, owner_id, "", now, now)  # fmt: skip

    ctx.counts["metrics"] = ctx.write(Metric, METRIC_FIELDS, rows())
    ctx.say(f"{ctx.counts['metrics']:,} metrics computed from cases (cycle time and error rate)")
