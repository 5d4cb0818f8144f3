"""Read-only admin: every change goes through services so nothing escapes the audit trail."""

from django.contrib import admin

from pilots.models import (
    Attestation,
    AuditEvent,
    GateCondition,
    GateDecision,
    GateRequest,
    Membership,
    Pilot,
    Workspace,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Workspace)
class WorkspaceAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "timezone", "currency", "created_at"]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = [
        "user",
        "workspace",
        "is_admin",
        "is_program_manager",
        "is_workflow_owner",
        "is_reviewer",
        "is_leader",
    ]
    list_filter = ["workspace"]


@admin.register(Pilot)
class PilotAdmin(ReadOnlyAdmin):
    list_display = ["name", "workspace", "stage", "status", "program_manager", "workflow_owner"]
    list_filter = ["workspace", "stage", "status"]
    search_fields = ["name"]


@admin.register(GateRequest)
class GateRequestAdmin(ReadOnlyAdmin):
    list_display = ["pilot", "from_stage", "to_stage", "state", "requested_by", "created_at"]


@admin.register(GateDecision)
class GateDecisionAdmin(ReadOnlyAdmin):
    list_display = ["request", "outcome", "decided_by", "decided_at"]


@admin.register(GateCondition)
class GateConditionAdmin(ReadOnlyAdmin):
    list_display = ["pilot", "text", "owner", "due_on", "closed_at"]


@admin.register(Attestation)
class AttestationAdmin(ReadOnlyAdmin):
    list_display = ["pilot", "check_id", "attested_by", "expires_on"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "workspace", "actor_label", "action", "object_repr"]
    list_filter = ["workspace", "action"]
