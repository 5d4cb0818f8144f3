"""The hub's figures in every readiness snapshot (issue 8), for the pilot page and the portfolio
dashboard: case volume, the gate record (last decision, a request waiting on its owner, conditions),
the days spent in each stage, and where the readiness stood two weeks ago. One query per kind of fact,
for the whole batch."""

from datetime import timedelta

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from pilots.checks import case_counts, case_facts, figures, pilot_facts
from pilots.models import (
    STAGE_ORDER,
    GateCondition,
    GateDecision,
    GateRequest,
    Outcome,
    Pilot,
    ReadinessHistory,
    Stage,
    Status,
)

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


def stage_days(pilot_ids: list[int], now) -> dict[int, dict[str, int]]:
    """pilot id → {stage: whole days spent in it} for the stages before production, walked from the gate
    decisions: a go or conditional go moves the pilot into the gate's stage, a recycle back to the stage it
    names, a stop ends the clock; the stage it is in now counts to `now` (on hold too: it waits there)."""
    moves: dict[int, list] = {}
    for pilot_id, at, outcome, recycle_to, to_stage in (
        GateDecision.objects.filter(pilot_id__any_of=pilot_ids)
        .exclude(outcome=Outcome.HOLD)
        .order_by("pilot_id", "decided_at", "id")
        .values_list("pilot_id", "decided_at", "outcome", "recycle_to", "request__to_stage")
    ):
        moves.setdefault(pilot_id, []).append((at, outcome, recycle_to or to_stage))
    out = {}
    for pilot_id, created, status in Pilot.objects.filter(id__any_of=pilot_ids).values_list(
        "id", "created_at", "status"
    ):
        spent = dict.fromkeys(STAGE_ORDER[:-1], 0.0)
        stage, since, end = Stage.PROPOSED, created, now
        for at, outcome, into in moves.get(pilot_id, []):
            if outcome == Outcome.STOP:
                end = at
                break
            if stage in spent:
                spent[stage] += max((at - since).total_seconds(), 0)
            stage, since = into, at
        if stage in spent and (status != Status.STOPPED or end != now):
            spent[stage] += max((end - since).total_seconds(), 0)
        out[pilot_id] = {
            s: int(seconds // 86400) for s, seconds in spent.items() if seconds > 0 or s == stage
        }
    return out


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
    # Whom an overdue condition waits for: the owner of the one due first.
    condition_owner = {}
    for pilot_id, owner_id in (
        GateCondition.objects.filter(pilot_id__any_of=pilot_ids, closed_at=None, due_on__lt=today)
        .order_by("pilot_id", "-due_on", "-id")
        .values_list("pilot_id", "owner_id")
    ):
        condition_owner[pilot_id] = owner_id
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
    days = stage_days(pilot_ids, timezone.now())
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
            "overdue_condition_owner_id": condition_owner.get(pilot_id),
            "stage_days": days.get(pilot_id, {}),
            "score_14_days_ago": earlier.get(pilot_id),
        }
    return out
