"""Step 3 — build exception paths: routing rules (versioned decision tables), escalations waiting for a
reviewer, reviewers' decisions, and the refinement suggestions drawn from those decisions."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from pilots.models import Case, Pilot


class Action(models.TextChoices):
    AUTOMATE = "automate", "Automate"
    ESCALATE = "escalate", "Escalate to a reviewer"
    REJECT = "reject", "Reject"


# The route a case gets from each action (Case.Route values).
ROUTE_OF = {Action.AUTOMATE: "automated", Action.ESCALATE: "escalated", Action.REJECT: "rejected"}


class RuleTable(models.Model):
    """One published version of a pilot's routing rules. Never edited: a change publishes the next
    version, and every case records the version and the rule that routed it."""

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="rule_tables")
    version = models.PositiveIntegerField()
    standard_version = models.PositiveIntegerField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["pilot", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["pilot", "version"], name="one_rule_table_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.pilot} rules v{self.version}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("Published rules are not edited; publish a new version.")
        super().save(*args, **kwargs)


class RoutingRule(models.Model):
    """One row of a decision table: an AND of clauses, and what happens to a case that meets them.
    The last row of a table has no clauses: the default."""

    table = models.ForeignKey(RuleTable, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveSmallIntegerField()  # 1-based, first match wins
    name = models.CharField(max_length=80, blank=True)
    clauses = models.JSONField(default=list)  # [{"field": "inputs.amount", "op": "gt", "value": 10000}]
    action = models.CharField(max_length=8, choices=Action.choices)
    sample_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    service_level_hours = models.PositiveIntegerField(null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The same condition and action keep one signature across versions, so evidence carries over.
    signature = models.CharField(max_length=32)
    # What cases record as the clause that routed them (Case.rule_clause).
    label = models.CharField(max_length=200)

    class Meta:
        ordering = ["table", "position"]
        constraints = [models.UniqueConstraint(fields=["table", "position"], name="one_rule_per_position")]

    def __str__(self) -> str:
        return self.label

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("Published rules are not edited; publish a new version.")
        super().save(*args, **kwargs)

    @property
    def is_default(self) -> bool:
        return not self.clauses

    @property
    def route(self) -> str:
        return ROUTE_OF[self.action]


class Escalation(models.Model):
    """A case waiting for a person: escalated by its rule, or an automated case sampled for audit."""

    class Reason(models.TextChoices):
        ESCALATED = "escalated", "Escalated by a rule"
        SAMPLED = "sampled", "Sampled for audit"

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="escalation")
    # Every escalation of a batch updates each of the table's indexes, so there are no more than its
    # reads need: the pilot's rows come from (pilot, created_at); reviewer and claimed_by are looked up
    # by a user (never for NULL), so their indexes leave out the rows without one, i.e. nearly all.
    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="escalations", db_index=False)
    rule = models.ForeignKey(RoutingRule, on_delete=models.PROTECT, related_name="escalations")
    reason = models.CharField(max_length=9, choices=Reason.choices)
    # A named reviewer from the rule; otherwise the pilot's reviewer pool serves.
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    received_at = models.DateTimeField()
    due_at = models.DateTimeField()
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    late_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [
            models.Index(
                fields=["pilot", "received_at"], condition=Q(decided_at=None), name="open_escalations"
            ),
            models.Index(fields=["due_at"], condition=Q(decided_at=None), name="open_escalations_due"),
            models.Index(fields=["pilot", "created_at"]),
            models.Index(fields=["reviewer"], condition=Q(reviewer__isnull=False), name="escalations_named"),
            models.Index(
                fields=["claimed_by"], condition=Q(claimed_by__isnull=False), name="escalations_held"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.case_id}"


class Outcome(models.TextChoices):
    APPROVE = "approve", "Approve"
    OVERRIDE = "override", "Override"
    REJECT = "reject", "Reject"


class Decision(models.Model):
    """A reviewer's decision on an escalation: immutable, one per escalation. An override keeps the
    corrected output values (step 4 turns them into corrections pointing here)."""

    escalation = models.OneToOneField(Escalation, on_delete=models.CASCADE, related_name="decision")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="review_decisions")
    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="review_decisions")
    rule = models.ForeignKey(RoutingRule, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    rationale = models.TextField()
    ai_outputs = models.JSONField(default=dict)
    corrected_outputs = models.JSONField(default=dict)  # only the fields the reviewer changed
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    decided_at = models.DateTimeField()
    within_service_level = models.BooleanField()

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["pilot", "decided_at"])]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} case {self.case_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("A decision is not edited.")
        super().save(*args, **kwargs)


class Suggestion(models.Model):
    """Advice drawn from reviewers' decisions on one rule: automate it, or escalate it."""

    class Kind(models.TextChoices):
        AUTOMATE = "automate", "Consider automating"
        ESCALATE = "escalate", "Consider escalating"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        APPLIED = "applied", "Applied"
        DISMISSED = "dismissed", "Dismissed"

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="rule_suggestions")
    rule = models.ForeignKey(RoutingRule, on_delete=models.CASCADE, related_name="suggestions")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    window_days = models.PositiveIntegerField()
    volume = models.PositiveIntegerField()  # cases the rule routed in the window
    reviewed = models.PositiveIntegerField()  # of which decided by a person
    hits = models.PositiveIntegerField()  # approved unchanged (automate) / overridden or rejected (escalate)
    rate = models.FloatField()
    lower_bound = models.FloatField()
    median_hours_to_decide = models.FloatField(null=True, blank=True)
    state = models.CharField(max_length=9, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    applied_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pilot", "rule", "kind"],
                condition=Q(state="open"),
                name="one_open_suggestion_per_rule",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.rule}"
