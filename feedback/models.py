"""Step 4 — add feedback loops: every correction a person makes to what the pilot's AI produced, why,
and where it was incorporated (a new AI version, the input standard, the routing rules, or the
regression set the AI team tests the next version against)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from exceptions.models import Decision, RuleTable
from pilots.models import AIVersion, Case, InputStandard, Pilot

DEFAULT_REASONS = [
    ("wrong_extraction", "Wrong extraction"),
    ("missing_context", "Missing context"),
    ("policy_changed", "Policy changed"),
    ("input_defect", "Input defect"),
    ("other", "Other"),
]
OVERRIDE_REASON = "other"  # what an override from the review queue starts as, until someone classifies it


class ReasonCode(models.Model):
    """One entry of a pilot's taxonomy of why the AI was corrected (editable per pilot)."""

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="reason_codes")
    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=80)
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["pilot", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["pilot", "code"], name="one_reason_code_per_pilot")]

    def __str__(self) -> str:
        return self.label


class Target(models.TextChoices):
    AI_VERSION = "ai_version", "A new AI version"
    STANDARD = "standard", "The input standard"
    RULES = "rules", "The routing rules"
    REGRESSION_SET = "regression_set", "The regression set"


class Correction(models.Model):
    """A person's correction of one AI output of one case. One that came from a reviewer's override
    points at that decision (unique per decision and field)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="corrections")
    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="corrections")
    decision = models.ForeignKey(
        Decision, on_delete=models.CASCADE, null=True, blank=True, related_name="corrections"
    )
    field = models.CharField(max_length=63)  # the AI output's name
    ai_value = models.JSONField(null=True, blank=True)
    corrected_value = models.JSONField()
    reason = models.ForeignKey(ReasonCode, on_delete=models.PROTECT, related_name="corrections")
    note = models.TextField(blank=True)
    # The AI version that produced the value (the case's, when the correction was made).
    ai_version = models.ForeignKey(
        AIVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    at = models.DateTimeField()
    # Where it was incorporated (one of the targets), by whom and when.
    incorporated_into = models.CharField(max_length=14, choices=Target.choices, blank=True)
    into_ai_version = models.ForeignKey(
        AIVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="incorporated_corrections"
    )
    into_standard = models.ForeignKey(
        InputStandard,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incorporated_corrections",
    )
    into_rules = models.ForeignKey(
        RuleTable, on_delete=models.PROTECT, null=True, blank=True, related_name="incorporated_corrections"
    )
    incorporated_at = models.DateTimeField(null=True, blank=True)
    incorporated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "field"],
                condition=Q(decision__isnull=False),
                name="one_correction_per_decision_field",
            )
        ]
        indexes = [
            models.Index(fields=["pilot", "at"]),
            models.Index(fields=["pilot", "incorporated_into", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.field}: {self.ai_value!r} → {self.corrected_value!r}"

    @property
    def incorporated(self) -> bool:
        return bool(self.incorporated_into)

    @property
    def incorporated_target(self):
        return {
            Target.AI_VERSION: self.into_ai_version,
            Target.STANDARD: self.into_standard,
            Target.RULES: self.into_rules,
        }.get(self.incorporated_into)
