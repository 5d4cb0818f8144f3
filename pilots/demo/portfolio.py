"""The demo portfolio's trend: its past weeks rebuilt from what the seed recorded (which stage each pilot
was in at the end of each week, walked from its gate decisions), then this week recorded in full.

Readiness and value are not rebuilt for past weeks — the checks read "the last 30 days" from today — so
their lines start this week, as they would on a real installation; only the pilots per stage go back.
"""

from datetime import datetime, time, timedelta

from django.utils import timezone

from pilots.models import GateDecision, Outcome, Pilot, PortfolioWeek, Stage, Workspace
from pilots.services import portfolio

WEEKS = 12


def backfill(workspace: Workspace, *, weeks: int = WEEKS, now: datetime | None = None) -> int:
    now = now or timezone.now()
    this_week = portfolio.week_of(workspace, now)
    pilots = list(Pilot.objects.filter(workspace=workspace).values_list("id", "created_at"))
    moves: dict[int, list] = {}
    for pilot_id, at, outcome, recycle_to, to_stage in (
        GateDecision.objects.filter(pilot__workspace=workspace)
        .exclude(outcome=Outcome.HOLD)
        .order_by("decided_at", "id")
        .values_list("pilot_id", "decided_at", "outcome", "recycle_to", "request__to_stage")
    ):
        moves.setdefault(pilot_id, []).append((at, outcome, recycle_to or to_stage))
    for back in range(weeks, 0, -1):
        monday = this_week - timedelta(weeks=back)
        end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=workspace.zone)
        stages: dict[str, int] = {}
        for pilot_id, created in pilots:
            stage = _stage_at(created, moves.get(pilot_id, []), end)
            if stage is not None:
                stages[stage] = stages.get(stage, 0) + 1
        PortfolioWeek.objects.update_or_create(
            workspace=workspace,
            week=monday,
            defaults={"pilots": sum(stages.values()), "stages": stages, "recorded_at": end},
        )
    portfolio.record_week(workspace=workspace, now=now)
    return weeks + 1


def _stage_at(created: datetime, moves: list, end: datetime) -> str | None:
    """The pilot's stage at `end` (None: not registered yet, or stopped by then)."""
    if created >= end:
        return None
    stage = Stage.PROPOSED
    for at, outcome, into in moves:
        if at >= end:
            break
        if outcome == Outcome.STOP:
            return None
        stage = into
    return stage


__all__ = ["backfill"]
