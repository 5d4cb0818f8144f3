"""Reads of readiness snapshots (issue 8), for lists that show a pilot's score beside its other facts."""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ObjectDoesNotExist

from pilots.checks import SECTIONS
from pilots.models import Pilot, ReadinessHistory, ReadinessSnapshot

__all__ = ["HEADLINE_LABELS", "ReadinessSummary", "readiness_history", "readiness_summary", "snapshot_of"]

HEADLINE_LABELS = {
    "on_track": "On track",
    "at_risk": "At risk",
    "off_track": "Off track",
    "no_data": "No measurement yet",
}


@dataclass(frozen=True)
class ReadinessSummary:
    score: int | None
    weakest: str  # the section's label
    headline_name: str
    headline_status: str  # on_track, at_risk, off_track, no_data, or "" without a metric
    headline_progress: float | None

    @property
    def headline_label(self) -> str:
        return HEADLINE_LABELS.get(self.headline_status, "")


def snapshot_of(pilot: Pilot) -> ReadinessSnapshot | None:
    """The pilot's snapshot if it was loaded with it (select_related("readiness")) or exists."""
    try:
        return pilot.readiness
    except ObjectDoesNotExist:
        return None


def readiness_history(pilot: Pilot, *, since: date, until: date | None = None) -> list[dict]:
    """The pilot's daily readiness rows from `since` (to `until`), oldest first."""
    rows = ReadinessHistory.objects.filter(pilot=pilot, on__gte=since)
    if until is not None:
        rows = rows.filter(on__lte=until)
    return list(rows.order_by("on").values("on", "score", "weakest_section", "sections"))


def readiness_summary(snapshot: ReadinessSnapshot | None) -> ReadinessSummary | None:
    if snapshot is None:
        return None
    metrics = snapshot.figures.get("metrics", {}).get("metrics", [])
    headline = metrics[0] if metrics else None
    return ReadinessSummary(
        score=snapshot.score,
        weakest=SECTIONS.get(snapshot.weakest_section, ""),
        headline_name=headline["name"] if headline else "",
        headline_status=headline["status"] if headline else "",
        headline_progress=headline["progress"] if headline else None,
    )
