"""How far a metric has moved from its baseline toward its target, and whether that is on time.

progress = (current − baseline) / (target − baseline): 0 at the baseline, 1 at the target, beyond 1
past it, negative when worse — the same formula serves both directions, since the sign of
(target − baseline) carries the direction. The status compares progress with the share of time
elapsed from the baseline date to the target date.
"""

from dataclasses import dataclass
from datetime import date

ON_TRACK, AT_RISK, OFF_TRACK, NO_DATA = "on_track", "at_risk", "off_track", "no_data"
LABELS = {ON_TRACK: "On track", AT_RISK: "At risk", OFF_TRACK: "Off track", NO_DATA: "No measurement yet"}
AT_RISK_MARGIN = 0.25  # within a quarter of the expected progress counts as at risk, not off track


def progress(*, baseline: float, target: float, current: float) -> float:
    if target == baseline:
        raise ValueError("the target equals the baseline")
    return (current - baseline) / (target - baseline)


def elapsed(*, start: date, end: date, today: date) -> float:
    """Share of the time from the baseline date to the target date that has passed, within 0..1."""
    if end <= start:
        return 1.0
    return min(1.0, max(0.0, (today - start).days / (end - start).days))


@dataclass(frozen=True)
class Attainment:
    progress: float | None
    expected: float
    status: str

    @property
    def label(self) -> str:
        return LABELS[self.status]


def attainment(
    *, baseline: float, target: float, current: float | None, start: date, end: date, today: date
) -> Attainment:
    expected = elapsed(start=start, end=end, today=today)
    if current is None:
        return Attainment(None, expected, NO_DATA)
    reached = progress(baseline=baseline, target=target, current=current)
    if reached >= expected:
        status = ON_TRACK
    elif reached >= expected - AT_RISK_MARGIN:
        status = AT_RISK
    else:
        status = OFF_TRACK
    return Attainment(reached, expected, status)
