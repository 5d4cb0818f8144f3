"""Value delivered per month by a business metric (issue 9's arithmetic, kept with the metrics it reads):

- cycle time saved = (baseline − current) × cases per month, in hours;
- errors avoided = (baseline − current error rate) × cases per month;
- touchpoints removed = (baseline − current) × cases per month;
- external spend reduced = baseline − current (spend is stated per month already).

"Cases per month" is the pilot's decided cases over the last 30 days. Each figure carries the sum that
produced it, so a leader can check it, and what the target would deliver at the same volume.
A "higher is better" metric counts current − baseline instead. Pure arithmetic: no queries.
"""

from dataclasses import dataclass

from metrics.charts import number, quantity
from metrics.models import Direction, Kind

LABELS = {
    Kind.CYCLE_TIME: "Cycle time saved",
    Kind.ERROR_RATE: "Errors avoided",
    Kind.TOUCHPOINTS: "Touchpoints removed",
    Kind.EXTERNAL_SPEND: "External spend reduced",
}
HOURS_PER = {"minute": 1 / 60, "min": 1 / 60, "hour": 1.0, "hr": 1.0, "h": 1.0, "day": 24.0, "week": 168.0}


def _hours_per_unit(unit: str) -> float | None:
    word = unit.strip().lower().split(" ")[0].split("/")[0].rstrip("s")
    return HOURS_PER.get(word)


def _rate_share(unit: str) -> float:
    """An error rate in % is a share × 100; anything else is read as the share itself."""
    return 0.01 if unit.strip().lower() in {"%", "percent", "per cent"} else 1.0


@dataclass(frozen=True)
class Value:
    kind: str
    label: str
    unit: str  # hours, errors, touchpoints, or the workspace's currency
    per_month: float | None  # None: no current figure yet
    target_per_month: float
    how: str

    def as_dict(self) -> dict:
        # Written out: dataclasses.asdict deep-copies every field (a fifth of a second per 16,000 values).
        return {
            "kind": self.kind,
            "label": self.label,
            "unit": self.unit,
            "per_month": self.per_month,
            "target_per_month": self.target_per_month,
            "how": self.how,
        }


def delivered(
    *,
    kind: str,
    unit: str,
    direction: str,
    baseline: float,
    target: float,
    current: float | None,
    cases_per_month: int,
    currency: str,
) -> Value | None:
    """The metric's value per month, or None for a kind (or unit) that has no such figure."""
    sign = 1 if direction == Direction.LOWER else -1

    def gain(to: float) -> float:
        return sign * (baseline - to)

    if kind == Kind.EXTERNAL_SPEND:
        per = None if current is None else gain(current)
        how = (
            f"{number(baseline)} − {number(current)} {currency} per month"
            if current is not None
            else "no current figure yet"
        )
        return Value(kind, LABELS[kind], currency, per, gain(target), how)
    if kind == Kind.CYCLE_TIME:
        factor = _hours_per_unit(unit)
        if factor is None:
            return None
        out_unit = "hours"
    elif kind == Kind.ERROR_RATE:
        factor, out_unit = _rate_share(unit), "errors"
    elif kind == Kind.TOUCHPOINTS:
        factor, out_unit = 1.0, "touchpoints"
    else:
        return None
    per = None if current is None else gain(current) * cases_per_month * factor
    if current is None:
        how = "no current figure yet"
    else:
        scale = "" if factor == 1 else f" × {number(factor)}"
        how = (
            f"({quantity(baseline, unit)} − {quantity(current, unit)}) × {cases_per_month:,} cases per month"
            f"{scale} = {number(per)} {out_unit}"
        )
    return Value(kind, LABELS[kind], out_unit, per, gain(target) * cases_per_month * factor, how)
