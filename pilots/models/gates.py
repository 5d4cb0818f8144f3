from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from pilots.models.pilots import Pilot, Stage


class GateRequest(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        WITHDRAWN = "withdrawn", "Withdrawn"
        DECIDED = "decided", "Decided"

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="gate_requests")
    from_stage = models.CharField(max_length=32, choices=Stage.choices)
    to_stage = models.CharField("gate", max_length=32, choices=Stage.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Claimed by the notification task so that a redelivered task sends no second email.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pilot"], condition=Q(state="pending"), name="one_pending_gate_request_per_pilot"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pilot}: gate {self.get_to_stage_display()}"


class Outcome(models.TextChoices):
    GO = "go", "Go"
    CONDITIONAL_GO = "conditional_go", "Conditional go"
    HOLD = "hold", "Hold"
    RECYCLE = "recycle", "Recycle"
    STOP = "stop", "Stop"


class GateDecision(models.Model):
    """Immutable once written: it keeps the evidence the workflow owner saw."""

    request = models.OneToOneField(GateRequest, on_delete=models.PROTECT, related_name="decision")
    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="gate_decisions")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(blank=True)
    recycle_to = models.CharField(max_length=32, choices=Stage.choices, blank=True)
    evidence = models.JSONField(default=dict)
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="recycle", recycle_to__gt="")
                | (~Q(outcome="recycle") & Q(recycle_to="")),
                name="recycle_names_its_stage",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} on {self.request}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("A gate decision is immutable once recorded.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("A gate decision cannot be deleted.")


class GateCondition(models.Model):
    """An open item attached to a conditional go, open until someone closes it."""

    decision = models.ForeignKey(GateDecision, on_delete=models.PROTECT, related_name="conditions")
    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="conditions")
    text = models.TextField()
    check_id = models.CharField(max_length=80, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gate_conditions"
    )
    due_on = models.DateField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closing_note = models.TextField(blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["pilot", "closed_at"])]

    def __str__(self) -> str:
        return self.text

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Attestation(models.Model):
    """A person vouches for an attestable check the data does not (yet) verify: it scores 0.5, never 1."""

    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="attestations")
    check_id = models.CharField(max_length=80)
    attested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField()
    evidence_url = models.URLField(max_length=500)
    expires_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["pilot", "check_id", "expires_on"])]

    def __str__(self) -> str:
        return f"{self.check_id} attested for {self.pilot}"
