"""Read-only admin for step 3: changes go through the services, so nothing escapes the audit trail."""

from django.contrib import admin

from exceptions.models import Decision, Escalation, RoutingRule, RuleTable, Suggestion
from pilots.admin import ReadOnlyAdmin


class RoutingRuleInline(admin.TabularInline):
    model = RoutingRule
    extra = 0
    can_delete = False
    fields = ["position", "name", "label", "action", "sample_percent", "service_level_hours", "reviewer"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RuleTable)
class RuleTableAdmin(ReadOnlyAdmin):
    list_display = ["pilot", "version", "standard_version", "published_by", "published_at"]
    list_select_related = ["pilot", "published_by"]
    inlines = [RoutingRuleInline]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["case", "pilot", "reason", "received_at", "due_at", "claimed_by", "decided_at"]
    list_filter = ["reason"]
    list_select_related = ["case", "pilot", "claimed_by"]
    raw_id_fields = ["case"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["case", "pilot", "outcome", "actor_label", "decided_at", "within_service_level"]
    list_filter = ["outcome", "within_service_level"]
    list_select_related = ["case", "pilot"]
    raw_id_fields = ["case", "escalation"]


@admin.register(Suggestion)
class SuggestionAdmin(ReadOnlyAdmin):
    list_display = ["pilot", "rule", "kind", "reviewed", "rate", "lower_bound", "state"]
    list_filter = ["kind", "state"]
    list_select_related = ["pilot", "rule"]
