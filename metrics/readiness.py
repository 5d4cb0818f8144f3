"""Value: the metrics.* checks of DESIGN.md's table."""

from collections import defaultdict
from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from metrics.attainment import ON_TRACK
from metrics.models import BUSINESS_KINDS, Measurement, Method, Metric
from metrics.value import delivered
from pilots.checks import MISSING, VERIFIED, Evidence, Result, check, figures, pilot_facts, pilot_url, shared
from pilots.readiness.figures import case_volume


def amount(value: float, unit: str) -> str:
    return f"{value:g}{unit}" if unit == "%" else f"{value:g} {unit}"


def _link(pilot_id: int) -> tuple[str, str]:
    return ("Metrics", pilot_url("metric_list", pilot_id))


@shared
def _metrics(pilot_ids: list[int]) -> dict[int, list[Metric]]:
    found: dict[int, list[Metric]] = defaultdict(list)
    for metric in Metric.objects.filter(pilot_id__any_of=pilot_ids).order_by("id"):
        found[metric.pilot_id].append(metric)
    return found


def latest_values(metric_ids: list[int]) -> dict[int, tuple]:
    """metric id → (value, on) of its latest measurement, in one query."""
    latest: dict[int, tuple] = {}
    rows = Measurement.objects.filter(metric_id__any_of=metric_ids).order_by("metric_id", "on", "id")
    for metric_id, value, on in rows.values_list("metric_id", "value", "on"):
        latest[metric_id] = (value, on)
    return latest


@check(
    id="metrics.business_metric",
    section="value",
    title="A business metric with baseline and target",
    gate="standardize_inputs",
    attestable=True,
)
def business_metric(pilot_ids: list[int]) -> dict[int, Result]:
    metrics = _metrics(pilot_ids)
    results = {}
    for pilot_id in pilot_ids:
        business = [m for m in metrics.get(pilot_id, []) if m.kind in BUSINESS_KINDS]
        computed = [m for m in business if m.method == Method.FROM_CASES]
        if computed:
            m = computed[0]
            results[pilot_id] = Result(
                VERIFIED,
                Evidence(
                    f"{m.name}: from {amount(m.baseline, m.unit)} to {amount(m.target, m.unit)} "
                    f"by {m.target_date:%Y-%m-%d}, "
                    "computed from the pilot's cases.",
                    (_link(pilot_id),),
                ),
            )
        elif business:
            results[pilot_id] = Result(
                MISSING,
                Evidence(f"{business[0].name} is measured by hand.", (_link(pilot_id),)),
                "Compute a business metric from the cases (cycle time, error rate, touchpoints or spend).",
            )
        else:
            results[pilot_id] = Result(
                MISSING,
                Evidence(
                    "No cycle time, error rate, touchpoints or spend metric is defined.", (_link(pilot_id),)
                ),
                "Define success in business terms: a metric with its baseline and target.",
            )
    return results


@check(
    id="metrics.recent_measurement",
    section="value",
    title="Measured in the last 30 days",
    gate="exception_paths",
    attestable=True,
)
def recent_measurement(pilot_ids: list[int]) -> dict[int, Result]:
    since = timezone.localdate() - timedelta(days=30)
    recent = dict(
        Measurement.objects.filter(metric__pilot_id__any_of=pilot_ids, on__gte=since)
        .values_list("metric__pilot_id", "on")
        .order_by("on")
    )
    results = {}
    for pilot_id in pilot_ids:
        if pilot_id in recent:
            results[pilot_id] = Result(
                VERIFIED, Evidence(f"Latest measurement on {recent[pilot_id]:%Y-%m-%d}.")
            )
        else:
            results[pilot_id] = Result(
                MISSING,
                Evidence("No measurement in the last 30 days.", (_link(pilot_id),)),
                "Record this month's figures, or compute a metric from the pilot's cases.",
            )
    return results


@check(
    id="metrics.measured_from_cases",
    section="value",
    title="A business metric computed from cases",
    gate="production",
)
def measured_from_cases(pilot_ids: list[int]) -> dict[int, Result]:
    counts = dict(
        Measurement.objects.filter(metric__pilot_id__any_of=pilot_ids, source=Measurement.Source.COMPUTED)
        .values("metric__pilot_id")
        .annotate(n=Count("id"))
        .values_list("metric__pilot_id", "n")
    )
    results = {}
    for pilot_id in pilot_ids:
        if counts.get(pilot_id):
            results[pilot_id] = Result(
                VERIFIED, Evidence(f"{counts[pilot_id]} weekly figure(s) computed from cases.")
            )
        else:
            results[pilot_id] = Result(
                MISSING,
                Evidence("No metric has been computed from the pilot's cases yet.", (_link(pilot_id),)),
                "Set a business metric's method to “computed from cases” and send decided cases.",
            )
    return results


@check(id="metrics.on_track", section="value", title="Business metrics on track", gate="production")
def on_track(pilot_ids: list[int]) -> dict[int, Result]:
    metrics = _metrics(pilot_ids)
    business = {pid: [m for m in ms if m.kind in BUSINESS_KINDS] for pid, ms in metrics.items()}
    latest = latest_values([m.id for ms in business.values() for m in ms])
    today = timezone.localdate()
    results = {}
    for pilot_id in pilot_ids:
        measured = [m for m in business.get(pilot_id, []) if m.id in latest]
        if not measured:
            results[pilot_id] = Result(
                MISSING,
                Evidence("No business metric has a measurement."),
                "Measure the pilot's business metrics.",
            )
            continue
        behind = []
        for m in measured:
            a = m.attainment(latest[m.id][0], today=today)
            if a.status != ON_TRACK:
                behind.append(
                    f"{m.name} at {a.progress:.0%} of the way with {a.expected:.0%} of the time gone"
                )
        if behind:
            results[pilot_id] = Result(
                MISSING,
                Evidence("; ".join(behind) + ".", (_link(pilot_id),)),
                "Find what holds the metric back, or revisit the target with the owner.",
            )
        else:
            results[pilot_id] = Result(
                VERIFIED, Evidence(f"All {len(measured)} measured business metric(s) on track.")
            )
    return results


@figures("metrics")
def metric_figures(pilot_ids: list[int]) -> dict[int, dict]:
    """Each metric's attainment and the value it delivers per month, and which one is the headline."""
    metrics = _metrics(pilot_ids)
    latest = latest_values([m.id for ms in metrics.values() for m in ms])
    volume = case_volume(pilot_ids)
    currency = {pilot_id: row["workspace__currency"] for pilot_id, row in pilot_facts(pilot_ids).items()}
    today = timezone.localdate()
    out = {}
    for pilot_id in pilot_ids:
        rows, values = [], []
        per_month = volume.get(pilot_id, {}).get("decided_30d", 0)
        for m in sorted(metrics.get(pilot_id, []), key=lambda m: (*m.headline_rank, m.id)):
            current, current_on = latest.get(m.id, (None, None))
            a = m.attainment(current, today=today)
            rows.append(
                {
                    "id": m.id,
                    "name": m.name,
                    "kind": m.kind,
                    "unit": m.unit,
                    "direction": m.direction,
                    "baseline": m.baseline,
                    "target": m.target,
                    "target_date": m.target_date.isoformat(),
                    "current": current,
                    "current_on": current_on.isoformat() if current_on else None,
                    "status": a.status,
                    "progress": a.progress,
                    "expected": a.expected,
                }
            )
            value = delivered(
                kind=m.kind,
                unit=m.unit,
                direction=m.direction,
                baseline=m.baseline,
                target=m.target,
                current=current,
                cases_per_month=per_month,
                currency=currency.get(pilot_id, ""),
            )
            if value is not None:
                values.append({"metric_id": m.id, "metric": m.name, **value.as_dict()})
        out[pilot_id] = {
            "headline_id": rows[0]["id"] if rows else None,
            "metrics": rows,
            "value": values,
            "cases_per_month": per_month,
        }
    return out
