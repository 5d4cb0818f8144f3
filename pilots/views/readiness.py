"""The readiness panel on the pilot page (issue 8): the score, its sections as bars, the failing checks
with their next actions, and the readiness over time — all read from the pilot's snapshot.

While a recompute is due the panel says "recomputing…" and polls; the answer that brings the new
snapshot also fires `readinessChanged`, so the stage track's checks refresh with it.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import trigger_client_event

from pilots import access, selectors
from pilots.checks import SECTIONS, status_label
from pilots.models import Pilot
from pilots.services import readiness

CHART = {"width": 600, "height": 200, "left": 40, "right": 16, "top": 16, "bottom": 30}
CHART_DAYS = 90


@dataclass(frozen=True)
class SectionRow:
    key: str
    label: str
    score: int | None
    due: int
    checks: int
    weakest: bool


def _coordinate(value: float) -> str:
    return f"{value:.1f}"


def history_chart(pilot: Pilot, *, today: date) -> dict:
    """A server-rendered SVG of the score per day over the last 90 days (a day without a recompute keeps
    the score it had), with the weakest section of each point in its tooltip."""
    first = today - timedelta(days=CHART_DAYS - 1)
    rows = selectors.readiness_history(pilot, since=first, until=today)
    width = CHART["width"] - CHART["left"] - CHART["right"]
    height = CHART["height"] - CHART["top"] - CHART["bottom"]

    def x(on: date) -> str:
        return _coordinate(CHART["left"] + width * (on - first).days / (CHART_DAYS - 1))

    def y(score: int) -> str:
        return _coordinate(CHART["top"] + height * (1 - score / 100))

    points = [
        {
            "on": row["on"],
            "score": row["score"],
            "section": SECTIONS.get(row["weakest_section"], ""),
            "x": x(row["on"]),
            "y": y(row["score"]),
        }
        for row in rows
        if row["score"] is not None
    ]
    # A step line: the score holds until the next day it was recomputed, and up to today.
    path = []
    for i, point in enumerate(points):
        path.append(f"{point['x']},{point['y']}")
        until = points[i + 1]["on"] if i + 1 < len(points) else today
        if until != point["on"]:
            path.append(f"{x(until)},{point['y']}")
    months = []
    day = first.replace(day=1)
    while day <= today:
        if day >= first:
            months.append({"x": x(day), "label": day.strftime("%b")})
        day = (day + timedelta(days=32)).replace(day=1)
    if points:
        description = (
            f"Readiness over the last {CHART_DAYS} days: {points[0]['score']} on {points[0]['on']:%Y-%m-%d}, "
            f"{points[-1]['score']} on {points[-1]['on']:%Y-%m-%d}."
        )
    else:
        description = "No readiness history yet."
    return {
        **CHART,
        "plot_right": CHART["width"] - CHART["right"],
        "plot_bottom": CHART["height"] - CHART["bottom"],
        "label_y": CHART["height"] - CHART["bottom"] + 16,
        "grid": [{"y": y(s), "label": str(s)} for s in (0, 25, 50, 75, 100)],
        "months": months,
        "points": points,
        "path": " ".join(path),
        "description": description,
    }


def readiness_context(pilot: Pilot) -> dict:
    """What the panel shows (three queries: the snapshot, the pending mark, the history)."""
    snapshot = selectors.snapshot_of(pilot)
    pending = readiness.is_pending(pilot.pk)
    sections, failing, by_section = [], [], {}
    if snapshot is not None:
        for key, label in SECTIONS.items():
            figures = snapshot.sections.get(key, {})
            sections.append(
                SectionRow(
                    key=key,
                    label=label,
                    score=figures.get("score"),
                    due=figures.get("due", 0),
                    checks=figures.get("checks", 0),
                    weakest=key == snapshot.weakest_section,
                )
            )
        results = {row["id"]: row for row in snapshot.checks}
        for row in snapshot.failing:
            found = results.get(row["id"], {})
            failing.append(
                {**row, "evidence": found.get("evidence", {}), "label": status_label(row["status"])}
            )
        for row in snapshot.checks:
            by_section.setdefault(row["section"], []).append({**row, "label": status_label(row["status"])})
    return {
        "snapshot": snapshot,
        "readiness_pending": pending or snapshot is None,
        "readiness_sections": sections,
        "readiness_failing": failing,
        "readiness_checks": [(SECTIONS[key], by_section.get(key, [])) for key in SECTIONS],
        "readiness_chart": history_chart(pilot, today=timezone.localdate()),
        "can": access.allowed_actions(pilot.workspace.membership, pilot),
        "pilot": pilot,
    }


@require_GET
def readiness_panel(request: HttpRequest, pilot_id: int) -> HttpResponse:
    pilot = access.pilot_for(request.user, pilot_id)
    context = readiness_context(pilot)
    response = TemplateResponse(request, "pilots/pilot_detail.html#readiness-panel", context)
    if request.GET.get("was") == "pending" and not context["readiness_pending"]:
        # The recompute this panel waited for has landed: whatever shows checks refreshes with it.
        trigger_client_event(response, "readinessChanged")
    return response
