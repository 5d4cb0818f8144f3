"""Readiness (issue 8): one snapshot per pilot that every screen and the portfolio dashboard read, its
daily history, and the dirty marks that say a pilot's snapshot is out of date.

A write that can change a pilot's readiness marks the pilot in its own transaction (`ReadinessMark`);
after commit a debounced Celery task recomputes it, and a periodic sweep recomputes whatever is still
marked (a lost message, a broker that was down). The mark's generation tells a recompute whether the
pilot changed while it ran.
"""

from django.db import models

from pilots.models.pilots import Pilot
from pilots.models.workspaces import Workspace


class ReadinessSnapshot(models.Model):
    """Everything known about a pilot's readiness at `computed_at`: the scores and their explanation, and
    the figures each app contributes for the portfolio dashboard."""

    pilot = models.OneToOneField(Pilot, on_delete=models.CASCADE, primary_key=True, related_name="readiness")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    # 0–100: the weakest due section's share of points. None only when no check at all is due.
    score = models.PositiveSmallIntegerField(null=True)
    weakest_section = models.CharField(max_length=20, blank=True)
    # section → {"score": 0–100 or None (not yet due), "points": float, "due": int, "checks": int}
    sections = models.JSONField(default=dict)
    # Every check's result: [{id, section, title, gate, attestable, status, evidence, next_action}]
    checks = models.JSONField(default=list)
    # Due checks below 1, weakest section first: [{id, section, title, status, next_action, attestable}]
    failing = models.JSONField(default=list)
    # The figures each app's readiness module contributes, by app label ("pilots", "metrics", …).
    figures = models.JSONField(default=dict)
    # Copied from the pilot at compute time, so the dashboard filters snapshots without a join.
    stage = models.CharField(max_length=32)
    status = models.CharField(max_length=16)
    business_unit = models.CharField(max_length=120, blank=True)
    program_manager_id = models.BigIntegerField(null=True)
    workflow_owner_id = models.BigIntegerField(null=True)
    # The dashboard's facts as columns (issue 9), taken from the figures above when the snapshot is built
    # (pilots.portfolio.snapshot_columns), so the portfolio is summed, counted and filtered in SQL.
    # Value delivered per month, and what the targets would deliver, by kind (None: no such metric).
    value_hours = models.FloatField(null=True)
    value_errors = models.FloatField(null=True)
    value_touchpoints = models.FloatField(null=True)
    value_spend = models.FloatField(null=True)
    target_hours = models.FloatField(null=True)
    target_errors = models.FloatField(null=True)
    target_touchpoints = models.FloatField(null=True)
    target_spend = models.FloatField(null=True)
    # Days the pilot spent in each stage before production, the current stint to the day it was computed.
    days_proposed = models.PositiveIntegerField(null=True)
    days_define_success = models.PositiveIntegerField(null=True)
    days_standardize_inputs = models.PositiveIntegerField(null=True)
    days_exception_paths = models.PositiveIntegerField(null=True)
    days_feedback_loops = models.PositiveIntegerField(null=True)
    # What can hold a pilot up: its gate record and its queue.
    stage_entered_at = models.DateTimeField(null=True)
    last_gate_decision_at = models.DateTimeField(null=True)
    pending_request_since = models.DateTimeField(null=True)
    overdue_conditions = models.PositiveIntegerField(default=0)
    overdue_escalations = models.PositiveIntegerField(default=0)
    score_14_days_ago = models.PositiveSmallIntegerField(null=True)
    computed_at = models.DateTimeField()
    # A hash of everything above but computed_at: a recompute that finds the same content only moves
    # computed_at instead of rewriting the row.
    digest = models.CharField(max_length=32, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "score"]),
            models.Index(fields=["workspace", "stage"]),
            models.Index(fields=["workspace", "business_unit"]),
        ]

    def __str__(self) -> str:
        return f"Readiness of pilot {self.pilot_id}: {self.score}"


class ReadinessHistory(models.Model):
    """A pilot's readiness as it stood at the end of each day it was recomputed (the latest of the day)."""

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="readiness_history")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    on = models.DateField()
    score = models.PositiveSmallIntegerField(null=True)
    weakest_section = models.CharField(max_length=20, blank=True)
    sections = models.JSONField(default=dict)  # section → score 0–100 or None
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["pilot", "on"]
        constraints = [models.UniqueConstraint(fields=["pilot", "on"], name="one_readiness_row_per_day")]
        indexes = [models.Index(fields=["workspace", "on"])]

    def __str__(self) -> str:
        return f"Readiness of pilot {self.pilot_id} on {self.on}: {self.score}"


class ReadinessMark(models.Model):
    """The pilot's snapshot is out of date. `generation` changes with every mark; a recompute removes the
    mark only if no write marked the pilot again while it ran."""

    pilot = models.OneToOneField(Pilot, on_delete=models.CASCADE, primary_key=True, related_name="+")
    generation = models.BigIntegerField(default=1)
    marked_at = models.DateTimeField()
    # When a recompute task was last published for this mark (None: nobody has asked yet).
    enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Pilot {self.pilot_id} marked at {self.marked_at}"
