"""Every write of step 1: defining metrics, recording and importing measurements; each is audited."""

import csv
import io
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from metrics import vanity
from metrics.models import BUSINESS_KINDS, Direction, Kind, Measurement, Method, Metric
from pilots.models import Membership, Pilot
from pilots.services import audit

DEFAULT_UNITS = {
    Kind.CYCLE_TIME: "days",
    Kind.ERROR_RATE: "%",
    Kind.TOUCHPOINTS: "touchpoints per case",
}
FIELDS = [
    "name", "kind", "unit", "direction", "outcome", "baseline", "baseline_on", "baseline_source", "target",
    "target_date", "method", "owner",
]  # fmt: skip
MAX_IMPORT_ROWS = 5000


def default_unit(kind: str, currency: str) -> str:
    return f"{currency}/month" if kind == Kind.EXTERNAL_SPEND else DEFAULT_UNITS.get(kind, "")


@dataclass
class MetricDetails:
    name: str
    kind: str
    baseline: float
    baseline_on: date
    target: float
    target_date: date
    owner: object
    unit: str = ""
    direction: str = Direction.LOWER
    outcome: str = ""
    baseline_source: str = ""
    method: str = Method.MANUAL


def is_percentage(unit: str) -> bool:
    return unit.strip() in {"%", "percent", "per cent"}


def check_value(metric_unit: str, value: float, *, field: str) -> None:
    if value != value or value in (float("inf"), float("-inf")):
        raise ValidationError({field: "Give a number."})
    if is_percentage(metric_unit) and not 0 <= value <= 100:
        raise ValidationError({field: f"A percentage is between 0 and 100, not {value:g}."})
    if value < 0:
        raise ValidationError({field: f"This metric cannot be negative ({value:g})."})


def _validate(pilot: Pilot, details: MetricDetails) -> None:
    errors: dict[str, str] = {}
    details.name = details.name.strip()
    details.unit = details.unit.strip() or default_unit(details.kind, pilot.workspace.currency)
    details.outcome = details.outcome.strip()
    if not details.name:
        errors["name"] = "Name the metric."
    if details.kind not in Kind.values:
        errors["kind"] = "Choose a kind."
    if details.direction not in Direction.values:
        errors["direction"] = "Choose whether lower or higher is better."
    if details.kind == Kind.CUSTOM and not details.outcome:
        errors["outcome"] = (
            "A custom metric states the business outcome it moves (time, errors, effort or money)."
        )
    if details.kind == Kind.CUSTOM and not details.unit:
        errors["unit"] = "Give the unit the metric is counted in (e.g. complaints per 1,000 claims)."
    if details.method == Method.FROM_CASES and details.kind not in BUSINESS_KINDS:
        errors["method"] = (
            "Only cycle time, error rate, touchpoints and external spend can be computed from cases."
        )
    for field in ("baseline", "target"):
        try:
            check_value(details.unit, getattr(details, field), field=field)
        except ValidationError as error:
            errors[field] = error.messages[0]
    if "baseline" not in errors and "target" not in errors:
        if details.target == details.baseline:
            errors["target"] = "The target equals the baseline: say what the pilot should change."
        elif details.direction == Direction.LOWER and details.target > details.baseline:
            errors["target"] = "Lower is better, so the target must be below the baseline."
        elif details.direction == Direction.HIGHER and details.target < details.baseline:
            errors["target"] = "Higher is better, so the target must be above the baseline."
    if details.target_date <= details.baseline_on:
        errors["target_date"] = "The target date must come after the baseline date."
    if not Membership.objects.filter(workspace_id=pilot.workspace_id, user=details.owner).exists():
        errors["owner"] = f"{details.owner} is not a member of this workspace."
    if (
        Metric.objects.filter(pilot=pilot, name__iexact=details.name)
        .exclude(pk=getattr(details, "pk", None))
        .exists()
    ):
        errors["name"] = f"The pilot already has a metric called “{details.name}”."
    if errors:
        raise ValidationError(errors)


def _apply(metric: Metric, details: MetricDetails) -> None:
    for name in FIELDS:
        setattr(metric, name, getattr(details, name))
    metric.vanity_warning = vanity.warning_for(name=details.name, unit=details.unit, kind=details.kind)


@transaction.atomic
def define_metric(*, pilot: Pilot, actor, details: MetricDetails) -> Metric:
    _validate(pilot, details)
    metric = Metric(pilot=pilot)
    _apply(metric, details)
    metric.save()
    audit.record(
        workspace=pilot.workspace,
        actor=actor,
        action="metric.defined",
        obj=metric,
        pilot=pilot,
        after=audit.snapshot(metric, FIELDS),
    )
    return metric


@transaction.atomic
def update_metric(*, metric: Metric, actor, details: MetricDetails) -> Metric:
    metric = Metric.objects.select_for_update().select_related("pilot__workspace").get(pk=metric.pk)
    details.pk = metric.pk
    _validate(metric.pilot, details)
    before = audit.snapshot(metric, FIELDS)
    _apply(metric, details)
    metric.save()
    after = audit.snapshot(metric, FIELDS)
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        audit.record(
            workspace=metric.pilot.workspace,
            actor=actor,
            action="metric.updated",
            obj=metric,
            pilot=metric.pilot,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return metric


def _check_date(metric: Metric, on: date, *, field: str = "on") -> None:
    today = timezone.localtime(timezone.now(), metric.pilot.workspace.zone).date()
    if on > today:
        raise ValidationError({field: f"A measurement cannot be dated in the future ({on:%Y-%m-%d})."})


@transaction.atomic
def record_measurement(*, metric: Metric, actor, value: float, on: date, note: str = "") -> Measurement:
    if metric.method == Method.FROM_CASES:
        raise ValidationError("This metric is computed from the pilot's cases; it takes no manual figures.")
    check_value(metric.unit, value, field="value")
    _check_date(metric, on)
    note = note.strip()[:300]
    same = Measurement.objects.filter(
        metric=metric, source=Measurement.Source.MANUAL, on=on, value=value, note=note
    )
    if same.exists():
        return same.first()  # Return early: a repeated post records the figure once.
    measurement = Measurement.objects.create(
        metric=metric, value=value, on=on, note=note, source=Measurement.Source.MANUAL, by=actor
    )
    audit.record(
        workspace=metric.pilot.workspace,
        actor=actor,
        action="measurement.recorded",
        obj=measurement,
        pilot=metric.pilot,
        after={"metric": metric.name, "value": value, "on": on, "note": note},
    )
    return measurement


@dataclass
class RowError:
    line: int
    message: str


def parse_measurements_csv(metric: Metric, text: str) -> tuple[list[tuple[date, float, str]], list[RowError]]:
    """Rows of (date, value, note), or every bad row with its line and reason. Nothing is stored here."""
    rows, errors = [], []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in next(reader, [])]
    if header[:2] != ["date", "value"]:
        return [], [RowError(1, "The header must be: date,value,note (note is optional).")]
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(rows) + len(errors) >= MAX_IMPORT_ROWS:
            errors.append(RowError(line, f"At most {MAX_IMPORT_ROWS} rows per import."))
            break
        try:
            on = date.fromisoformat(cells[0].strip())
        except (ValueError, IndexError):
            errors.append(RowError(line, f"“{cells[0] if cells else ''}” is not a date (YYYY-MM-DD)."))
            continue
        try:
            value = float(cells[1].strip().replace(",", ".")) if len(cells) > 1 else None
            if value is None:
                raise ValueError
            check_value(metric.unit, value, field="value")
        except ValueError:
            errors.append(RowError(line, f"“{cells[1] if len(cells) > 1 else ''}” is not a number."))
            continue
        except ValidationError as error:
            errors.append(RowError(line, " ".join(error.messages)))
            continue
        try:
            _check_date(metric, on)
        except ValidationError as error:
            errors.append(RowError(line, " ".join(error.messages)))
            continue
        rows.append((on, value, cells[2].strip()[:300] if len(cells) > 2 else ""))
    if not rows and not errors:
        errors.append(RowError(2, "The file has no measurements."))
    return rows, errors


@transaction.atomic
def import_measurements(*, metric: Metric, actor, text: str) -> int:
    """All or nothing: a file with any bad row imports nothing and lists every bad row."""
    if metric.method == Method.FROM_CASES:
        raise ValidationError("This metric is computed from the pilot's cases; it takes no imported figures.")
    rows, errors = parse_measurements_csv(metric, text)
    if errors:
        raise ValidationError([f"Line {e.line}: {e.message}" for e in errors])
    # Rows already imported (the same file sent again) are not stored twice.
    stored = set(
        Measurement.objects.filter(
            metric=metric, source=Measurement.Source.IMPORT, on__in={r[0] for r in rows}
        ).values_list("on", "value", "note")
    )
    rows = [row for row in rows if row not in stored]
    if not rows:
        return 0
    Measurement.objects.bulk_create(
        Measurement(metric=metric, value=value, on=on, note=note, source=Measurement.Source.IMPORT, by=actor)
        for on, value, note in rows
    )
    audit.record(
        workspace=metric.pilot.workspace,
        actor=actor,
        action="measurement.imported",
        obj=metric,
        pilot=metric.pilot,
        after={"rows": len(rows)},
    )
    return len(rows)
