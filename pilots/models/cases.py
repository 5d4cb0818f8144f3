"""Step 2's evidence: input standards, AI versions, and the cases a pilot's AI handled."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from pilots.models.pilots import Pilot


class InputStandard(models.Model):
    """One published version of what a well-formed case looks like. Versions are never edited:
    editing publishes the next version, and every case records the version it was checked against."""

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="standards")
    version = models.PositiveIntegerField()
    inputs = models.JSONField(default=list)
    outputs = models.JSONField(default=list)
    rules = models.JSONField(default=list)
    event_time_field = models.CharField(max_length=63, blank=True)
    max_lateness_hours = models.FloatField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pilot", "-version"]
        constraints = [models.UniqueConstraint(fields=["pilot", "version"], name="one_standard_per_version")]

    def __str__(self) -> str:
        return f"{self.pilot} standard v{self.version}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("A published standard is not edited; publish a new version.")
        super().save(*args, **kwargs)

    def spec(self) -> dict:
        return {
            "inputs": self.inputs,
            "outputs": self.outputs,
            "rules": self.rules,
            "event_time_field": self.event_time_field,
            "max_lateness_hours": self.max_lateness_hours,
        }


class AIVersion(models.Model):
    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="ai_versions")
    identifier = models.CharField(max_length=80)
    released_on = models.DateField()
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pilot", "-released_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["pilot", "identifier"], name="one_ai_version_per_identifier")
        ]

    def __str__(self) -> str:
        return self.identifier


class Case(models.Model):
    """One work item the pilot's AI handled: the unit of operational evidence (DESIGN.md, Case)."""

    class Source(models.TextChoices):
        FORM = "form", "Form"
        UPLOAD = "upload", "Upload"
        API = "api", "API"

    class Route(models.TextChoices):
        AUTOMATED = "automated", "Automated"
        ESCALATED = "escalated", "Escalated"
        REJECTED = "rejected", "Rejected"
        SAMPLED = "sampled", "Sampled for audit"

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="cases")
    external_id = models.CharField(max_length=200)
    source = models.CharField(max_length=8, choices=Source.choices)
    received_at = models.DateTimeField()
    event_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    inputs = models.JSONField(default=dict)
    outputs = models.JSONField(default=dict)
    standard_version = models.PositiveIntegerField(null=True, blank=True)
    problems = models.JSONField(default=list)
    has_missing = models.BooleanField(default=False)
    has_invalid = models.BooleanField(default=False)
    has_contradictory = models.BooleanField(default=False)
    has_late = models.BooleanField(default=False)
    has_outside_boundary = models.BooleanField(default=False)
    ai_version = models.ForeignKey(
        AIVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    route = models.CharField(max_length=10, choices=Route.choices, blank=True)
    rule_version = models.PositiveIntegerField(null=True, blank=True)
    rule_clause = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    corrected = models.BooleanField(default=False)
    touchpoints = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # A digest of everything intake stores, so a re-upload of the same row is recognised as unchanged.
    digest = models.CharField(max_length=32)
    # The upload that last wrote this case (none for the form and the API).
    upload = models.ForeignKey(
        "CaseUpload", on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    PROBLEM_FLAGS = {
        "missing": "has_missing",
        "invalid": "has_invalid",
        "contradictory": "has_contradictory",
        "late": "has_late",
        "outside_boundary": "has_outside_boundary",
    }

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["pilot", "external_id"], name="one_case_per_external_id")
        ]
        indexes = [
            models.Index(fields=["pilot", "-received_at"]),
            models.Index(fields=["pilot", "decided_at"]),
            models.Index(fields=["pilot", "source", "received_at"]),
        ]

    def __str__(self) -> str:
        return self.external_id

    @property
    def conforms(self) -> bool:
        return not self.problems


CONFORMING = Q(
    has_missing=False, has_invalid=False, has_contradictory=False, has_late=False, has_outside_boundary=False
)


class CaseUpload(models.Model):
    """A CSV file of cases, processed by a Celery job in batches; its report is kept."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="uploads")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=255)
    path = models.CharField(max_length=500)
    size = models.BigIntegerField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    bytes_done = models.BigIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)  # created / unchanged / updated / conflict / with_problems
    field_errors = models.JSONField(default=dict)  # "inputs.amount: invalid" → count
    problem_rows_path = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    standard_version = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return min(99, int(self.bytes_done * 100 / self.size)) if self.size else 0
