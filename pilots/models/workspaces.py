import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from pilots.currencies import ISO_4217


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"“{value}” is not a known time zone (e.g. Europe/Berlin, America/New_York)."
        ) from None


def validate_currency(value: str) -> None:
    if value not in ISO_4217:
        raise ValidationError(f"“{value}” is not an ISO 4217 currency code (e.g. EUR, USD, GBP).")


class Role(models.TextChoices):
    ADMIN = "admin", "Workspace admin"
    PROGRAM_MANAGER = "program_manager", "Program manager"
    WORKFLOW_OWNER = "workflow_owner", "Workflow owner"
    REVIEWER = "reviewer", "Reviewer"
    LEADER = "leader", "Leader"


class Workspace(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    currency = models.CharField(max_length=3, default="EUR", validators=[validate_currency])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class MembershipQuerySet(models.QuerySet):
    def with_role(self, role: str) -> "MembershipQuerySet":
        return self.filter(**{Membership.ROLE_FIELDS[role]: True})


class Membership(models.Model):
    """A user's place in one workspace. One boolean per role keeps role queries plain on every database."""

    ROLE_FIELDS = {
        Role.ADMIN: "is_admin",
        Role.PROGRAM_MANAGER: "is_program_manager",
        Role.WORKFLOW_OWNER: "is_workflow_owner",
        Role.REVIEWER: "is_reviewer",
        Role.LEADER: "is_leader",
    }

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    is_admin = models.BooleanField(default=False)
    is_program_manager = models.BooleanField(default=False)
    is_workflow_owner = models.BooleanField(default=False)
    is_reviewer = models.BooleanField(default=False)
    is_leader = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Claimed by the welcome-email task so a redelivered task sends once.
    welcomed_at = models.DateTimeField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "user"], name="one_membership_per_user_and_workspace"
            ),
            models.CheckConstraint(
                condition=Q(is_admin=True)
                | Q(is_program_manager=True)
                | Q(is_workflow_owner=True)
                | Q(is_reviewer=True)
                | Q(is_leader=True),
                name="membership_has_a_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace}"

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(role for role, field in self.ROLE_FIELDS.items() if getattr(self, field))

    def set_roles(self, roles: "set[str] | frozenset[str] | list[str]") -> None:
        unknown = set(roles) - set(self.ROLE_FIELDS)
        if unknown:
            raise ValueError(f"unknown roles: {sorted(unknown)}")
        for role, field in self.ROLE_FIELDS.items():
            setattr(self, field, role in roles)

    def role_labels(self) -> list[str]:
        return [Role(role).label for role in Role.values if role in self.roles]
