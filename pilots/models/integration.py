"""How ProdReady plugs into other systems (issue 7): API keys, idempotency records of API writes, and
webhook endpoints with their delivery log. They live in the hub (DESIGN.md "Architecture")."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from pilots.models.workspaces import Workspace


class ApiKey(models.Model):
    """A workspace's key for the API. The secret is shown once and stored only as its SHA-256 (a key is
    32 random bytes: a fast hash is enough, and lets every request be checked in microseconds)."""

    class Access(models.TextChoices):
        READ = "read", "Read only"
        READ_WRITE = "read_write", "Read and write"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12, unique=True)  # shown in lists, finds the key
    hashed = models.CharField(max_length=64)
    access = models.CharField(max_length=10, choices=Access.choices, default=Access.READ)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["workspace", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"API key “{self.name}” ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def may_write(self) -> bool:
        return self.access == self.Access.READ_WRITE


class IdempotencyRecord(models.Model):
    """The first response to a write with this Idempotency-Key, replayed for a repeat with the same
    body. Kept at least 24 hours."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="idempotency_records")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)  # method, path and body
    state = models.CharField(max_length=7, choices=State.choices, default=State.RUNNING)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="one_record_per_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class WebhookEndpoint(models.Model):
    """Where a workspace wants its events delivered, signed with the endpoint's secret."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=64)
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    paused_at = models.DateTimeField(null=True, blank=True)  # after too many failures in a row
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workspace", "url", "id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=60)
    payload = models.JSONField()
    state = models.CharField(max_length=9, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"]),
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="pending_deliveries"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.state})"
