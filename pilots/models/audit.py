from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from pilots.models.pilots import Pilot
from pilots.models.workspaces import Workspace


class AuditEvent(models.Model):
    """Append-only record of every write. Written by services only."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="audit_events")
    pilot = models.ForeignKey(
        Pilot, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    # A write through the API names its key (the actor, if any, is the member it acted for).
    api_key = models.ForeignKey(
        "pilots.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "-at"]),
            models.Index(fields=["pilot", "-at"]),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit events are append-only.")
