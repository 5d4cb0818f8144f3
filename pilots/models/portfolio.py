"""The portfolio's week (issue 9): what the dashboard showed for the whole workspace at the end of each
ISO week, so a leader sees the trend, and the weekly digest that went out with it."""

from django.db import models

from pilots.models.workspaces import Workspace


class PortfolioWeek(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="portfolio_weeks")
    week = models.DateField()  # the Monday of the ISO week, in the workspace's timezone
    pilots = models.PositiveIntegerField()
    stages = models.JSONField(default=dict)  # stage → pilots in it (stopped ones left out)
    median_score = models.FloatField(null=True)
    value = models.JSONField(default=dict)  # kind (hours, errors, touchpoints, spend) → per month
    recorded_at = models.DateTimeField()
    # Claimed by the digest task, so a redelivered task sends no second email.
    digest_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["workspace", "week"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "week"], name="one_portfolio_row_per_week")
        ]

    def __str__(self) -> str:
        return f"{self.workspace} in the week of {self.week}"
