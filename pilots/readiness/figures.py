"""The hub's figures in every readiness snapshot (issue 8), for the pilot page and the portfolio
dashboard: case volume, the gate record (last decision, a request waiting on its owner, conditions),
and where the readiness stood two weeks ago. One query per kind of fact, for the whole batch."""

from datetime import timedelta

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from pilots.checks import case_counts, case_facts, figures, pilot_facts
from pilots.models import GateCondition, GateDecision, GateRequest, ReadinessHistory

MONTH = timedelta(days=30)
TREND_DAYS = 14  # "readiness fell in the last 14 days" compares with this many days ago


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


@case_counts
def _volume(now) -> dict:
    return {
        "cases": Count("id"),
        "received_30d": Count("id", filter=Q(received_at__gte=now - MONTH)),
        "decided_30d": Count("id", filter=Q(decided_at__gte=now - MONTH)),
    }


def case_volume(pilot_ids: list[int]) -> dict[int, dict]:
    """pilot id → {"cases", "received_30d", "decided_30d", …} (pilots without cases are left out). The
    metrics' value figures read it too: "cases per month" is decided_30d."""
    return case_facts(pilot_ids)


@figures("pilots")
def hub_figures(pilot_ids: list[int]) -> dict[int, dict]:
    today = timezone.localdate()
    volume = case_volume(pilot_ids)
    last_decision = dict(
        GateDecision.objects.filter(pilot_id__any_of=pilot_ids)
        .values("pilot_id")
        .annotate(last=Max("decided_at"))
        .values_list("pilot_id", "last")
        .order_by()
    )
    pending = {
        row["pilot_id"]: row
        for row in GateRequest.objects.filter(
            pilot_id__any_of=pilot_ids, state=GateRequest.State.PENDING
        ).values("pilot_id", "id", "to_stage", "created_at", "requested_by_id")
    }
    conditions = {
        row["pilot_id"]: row
        for row in GateCondition.objects.filter(pilot_id__any_of=pilot_ids, closed_at=None)
        .values("pilot_id")
        .annotate(
            open=Count("id"),
            overdue=Count("id", filter=Q(due_on__lt=today)),
            first_due=Min("due_on"),
        )
        .order_by()
    }
    # The score two weeks ago: the latest history row in the week up to that day.
    then = today - timedelta(days=TREND_DAYS)
    earlier: dict[int, int | None] = {}
    for pilot_id, score in (
        ReadinessHistory.objects.filter(
            pilot_id__any_of=pilot_ids, on__lte=then, on__gt=then - timedelta(days=7)
        )
        .order_by("pilot_id", "on")
        .values_list("pilot_id", "score")
    ):
        earlier[pilot_id] = score
    stages = {pilot_id: row["stage_entered_at"] for pilot_id, row in pilot_facts(pilot_ids).items()}
    out = {}
    for pilot_id in pilot_ids:
        counts = volume.get(pilot_id, {})
        waiting = pending.get(pilot_id)
        open_items = conditions.get(pilot_id, {})
        out[pilot_id] = {
            "cases": counts.get("cases", 0),
            "received_30d": counts.get("received_30d", 0),
            "decided_30d": counts.get("decided_30d", 0),
            "stage_entered_at": _iso(stages.get(pilot_id)),
            "last_gate_decision_at": _iso(last_decision.get(pilot_id)),
            "pending_request": {
                "id": waiting["id"],
                "gate": waiting["to_stage"],
                "since": waiting["created_at"].isoformat(),
                "requested_by_id": waiting["requested_by_id"],
            }
            if waiting
            else None,
            "open_conditions": open_items.get("open", 0),
            "overdue_conditions": open_items.get("overdue", 0),
            "first_condition_due": _iso(open_items.get("first_due")),
            "score_14_days_ago": earlier.get(pilot_id),
        }
    return out
