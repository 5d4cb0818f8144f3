"""The portfolio's vocabulary (issue 9), shared by the snapshot that stores its facts, the dashboard that
reads them, the weekly record and the digest: which figures become snapshot columns, what "stuck" means,
the value kinds and the industry comparison. Pure: no queries.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from pilots.models import STAGE_ORDER, Stage

# Value delivered per month: the metric kind → the snapshot's column suffix, its label and unit.
VALUE_KINDS = {
    "cycle_time": ("hours", "Cycle time saved", "hours"),
    "error_rate": ("errors", "Errors avoided", "errors"),
    "touchpoints": ("touchpoints", "Touchpoints removed", "touchpoints"),
    "external_spend": ("spend", "External spend reduced", ""),  # the workspace's currency
}
VALUE_HOW = {
    "hours": "(baseline − current cycle time) × cases per month, in hours",
    "errors": "(baseline − current error rate) × cases per month",
    "touchpoints": "(baseline − current touchpoints per case) × cases per month",
    "spend": "baseline − current external spend per month",
}
PRE_PRODUCTION = STAGE_ORDER[:-1]  # the stages a pilot spends days in before it is done

# The 2025 "GenAI Divide" study (MIT NANDA), task-specific enterprise AI tools: shares of organisations.
STUDY = {
    "name": "The GenAI Divide: State of AI in Business 2025 (MIT NANDA)",
    "investigated": 60,
    "piloted": 20,
    "production": 5,
}

SCORE_BANDS = [(0, 19), (20, 39), (40, 59), (60, 79), (80, 100)]


def stuck_days() -> int:
    """No gate decision for this many days makes a pilot stuck (PORTFOLIO_STUCK_DAYS)."""
    return settings.PORTFOLIO_STUCK_DAYS


def waiting_days() -> int:
    """A gate request waiting on its owner this many days makes a pilot stuck (PORTFOLIO_WAITING_DAYS)."""
    return settings.PORTFOLIO_WAITING_DAYS


def snapshot_columns(figures: dict) -> dict:
    """The snapshot's dashboard columns, from the figures the apps contributed (see ReadinessSnapshot).
    A pilot with two metrics of one kind counts the one that ranks first, so nothing is counted twice."""
    hub = figures.get("pilots", {})
    columns: dict = {}
    for kind, (suffix, _label, _unit) in VALUE_KINDS.items():
        value = next((v for v in figures.get("metrics", {}).get("value", []) if v["kind"] == kind), None)
        columns[f"value_{suffix}"] = value["per_month"] if value else None
        columns[f"target_{suffix}"] = value["target_per_month"] if value else None
    days = hub.get("stage_days", {})
    for stage in PRE_PRODUCTION:
        columns[f"days_{stage}"] = days.get(stage)
    pending = hub.get("pending_request")
    columns |= {
        "stage_entered_at": _when(hub.get("stage_entered_at")),
        "last_gate_decision_at": _when(hub.get("last_gate_decision_at")),
        "pending_request_since": _when(pending["since"]) if pending else None,
        "overdue_conditions": hub.get("overdue_conditions", 0),
        "overdue_escalations": figures.get("exceptions", {}).get("overdue_escalations", 0),
        "score_14_days_ago": hub.get("score_14_days_ago"),
    }
    return columns


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class Stuck:
    """Why a pilot is stuck and who can unblock it (a user id and what they would do)."""

    reason: str
    since: datetime | None
    who_id: int | None
    action: str


def stuck_reasons(row: dict, *, now: datetime) -> list[Stuck]:
    """The stuck rules over one snapshot row (its columns, plus figures.pilots for the condition owner)."""
    reasons = []
    pm, owner = row["program_manager_id"], row["workflow_owner_id"]
    if row["status"] == "on_hold":
        reasons.append(Stuck("On hold", row["last_gate_decision_at"], owner, "resume it or stop it"))
    waiting = row["pending_request_since"]
    request_late = bool(waiting and waiting < now - timedelta(days=waiting_days()))
    if request_late:
        reasons.append(
            Stuck(f"Gate request waiting over {waiting_days()} days", waiting, owner, "decide the gate")
        )
    quiet = row["last_gate_decision_at"] or row["stage_entered_at"]
    if (
        row["status"] == "active"
        and row["stage"] != Stage.PRODUCTION
        and quiet
        and quiet < now - timedelta(days=stuck_days())
        and not request_late  # the late request says it already: the owner's decision is what is missing
    ):
        who, action = (owner, "decide the gate") if waiting else (pm, "request the next gate")
        reasons.append(Stuck(f"No gate decision in {stuck_days()} days", quiet, who, action))
    if row["overdue_conditions"]:
        who = row.get("condition_owner_id") or owner
        n = row["overdue_conditions"]
        reasons.append(
            Stuck(f"{n} overdue condition{'s' if n != 1 else ''}", None, who, "close the conditions")
        )
    if row["overdue_escalations"]:
        n = row["overdue_escalations"]
        reasons.append(
            Stuck(
                f"{n} escalation{'s' if n != 1 else ''} past service level", None, owner, "review the queue"
            )
        )
    return reasons
