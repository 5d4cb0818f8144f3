from django.conf import settings
from django.db import models
from django.utils import timezone

from pilots.models.workspaces import Workspace


class Stage(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    DEFINE_SUCCESS = "define_success", "Define success"
    STANDARDIZE_INPUTS = "standardize_inputs", "Standardize inputs"
    EXCEPTION_PATHS = "exception_paths", "Exception paths"
    FEEDBACK_LOOPS = "feedback_loops", "Feedback loops"
    PRODUCTION = "production", "Production"


STAGE_ORDER: list[str] = list(Stage.values)


def stage_index(stage: str) -> int:
    return STAGE_ORDER.index(stage)


def next_stage(stage: str) -> str | None:
    """The stage after `stage`; also the name of the next gate (gates are named by the stage they open)."""
    index = stage_index(stage)
    return STAGE_ORDER[index + 1] if index + 1 < len(STAGE_ORDER) else None


def _now():
    # Looked up at call time, so the demo seed's clock (pilots.demo) applies to it too.
    return timezone.now()


class Status(models.TextChoices):
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    STOPPED = "stopped", "Stopped"


class PilotQuerySet(models.QuerySet):
    def in_workspace(self, workspace: Workspace) -> "PilotQuerySet":
        return self.filter(workspace=workspace)


class Pilot(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="pilots")
    name = models.CharField(max_length=200)
    problem = models.TextField("problem statement")
    workflow = models.CharField("workflow it changes", max_length=200)
    business_unit = models.CharField(max_length=120, blank=True)
    program_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="managed_pilots"
    )
    workflow_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_pilots"
    )
    # Named reviewers; when none are named every member with the reviewer role serves (a live default).
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="reviewed_pilots")
    stage = models.CharField(max_length=32, choices=Stage.choices, default=Stage.PROPOSED)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    integration_points = models.JSONField(default=list, blank=True)
    started_on = models.DateField(null=True, blank=True)
    target_date = models.DateField(null=True, blank=True)
    accountability_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accountability_accepted_at = models.DateTimeField(null=True, blank=True)
    # Step 2: the share of conforming cases over 30 days that counts as standardized (inputs.conformance).
    conformance_threshold = models.FloatField(default=0.95)
    # Step 4: the correction rate (corrected ÷ decided cases) this pilot may live with: "flat but good
    # enough" for feedback.learning_verdict, without reading step 1's metrics.
    acceptable_correction_rate = models.FloatField(default=0.05)
    stage_entered_at = models.DateTimeField(default=_now)
    copied_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="copies"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PilotQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["workspace", "stage"]),
            models.Index(fields=["workspace", "status"]),
            models.Index(fields=["workspace", "business_unit"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def next_gate(self) -> str | None:
        """The gate this pilot would pass next, or None in production."""
        return next_stage(self.stage)

    @property
    def accountability_accepted(self) -> bool:
        return self.accountability_accepted_by_id is not None and (
            self.accountability_accepted_by_id == self.workflow_owner_id
        )
