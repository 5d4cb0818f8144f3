"""Rule refinement: what reviewers' decisions say about each rule, and the advice drawn from it.

Per rule of the current table, over a window: how many cases it routed, how many a person decided,
how often the AI output was approved unchanged or overridden, and how long decisions took. Evidence
follows a rule across versions by its signature (same condition, same action). Advice carries a 95%
Wilson lower bound, so a handful of decisions never produces confident advice:

- an escalating rule whose cases are approved unchanged with a lower bound ≥ 90%: consider automating
  (with audit sampling, so the rule stays watched);
- an automating rule whose audit samples are overridden or rejected with a lower bound ≥ 5%: consider
  escalating.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import median

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from exceptions.models import Action, Decision, Outcome, RoutingRule, RuleTable, Suggestion
from exceptions.rules import RuleTableError
from exceptions.services.rules import publish_rules, table_as_rules
from exceptions.stats import wilson_lower
from pilots.models import Case, Pilot
from pilots.services import audit

WINDOW_DAYS = 90
AUTOMATE_AT = 0.90
ESCALATE_AT = 0.05
SAMPLE_AFTER_AUTOMATING = Decimal(10)
HOURS_AFTER_ESCALATING = 24


class SuggestionRefused(Exception):
    pass


@dataclass
class RuleStats:
    rule: RoutingRule
    volume: int = 0
    reviewed: int = 0
    outcomes: Counter = field(default_factory=Counter)
    hours: list[float] = field(default_factory=list)

    @property
    def approved(self) -> int:
        return self.outcomes[Outcome.APPROVE]

    @property
    def overridden(self) -> int:
        return self.outcomes[Outcome.OVERRIDE] + self.outcomes[Outcome.REJECT]

    def rate(self, hits: int) -> float | None:
        return hits / self.reviewed if self.reviewed else None

    @property
    def approve_rate(self) -> float | None:
        return self.rate(self.approved)

    @property
    def override_rate(self) -> float | None:
        return self.rate(self.overridden)

    @property
    def median_hours(self) -> float | None:
        return median(self.hours) if self.hours else None


def rule_stats(
    pilot: Pilot, *, window_days: int = WINDOW_DAYS, now: datetime | None = None
) -> list[RuleStats]:
    """The current table's rules with their evidence over the window (a fixed number of queries)."""
    now = now or timezone.now()
    since = now - timedelta(days=window_days)
    table = RuleTable.objects.filter(pilot=pilot).order_by("-version").first()
    if table is None:
        return []
    current = list(table.rules.order_by("position"))
    stats = {rule.signature: RuleStats(rule) for rule in current}
    by_label = {
        (version, label): signature
        for version, label, signature in RoutingRule.objects.filter(table__pilot=pilot).values_list(
            "table__version", "label", "signature"
        )
    }
    routed = (
        Case.objects.filter(pilot=pilot, received_at__gte=since)
        .exclude(route="")
        .values_list("rule_version", "rule_clause")
        .annotate(n=Count("id"))
        .order_by()
    )
    for version, label, n in routed:
        signature = by_label.get((version, label))
        if signature in stats:
            stats[signature].volume += n
    decisions = Decision.objects.filter(pilot=pilot, decided_at__gte=since).values_list(
        "rule__signature", "outcome", "decided_at", "escalation__received_at"
    )
    for signature, outcome, decided_at, received_at in decisions:
        if signature in stats:
            entry = stats[signature]
            entry.reviewed += 1
            entry.outcomes[outcome] += 1
            entry.hours.append((decided_at - received_at).total_seconds() / 3600)
    return [stats[rule.signature] for rule in current]


def advice(entry: RuleStats) -> tuple[str, int, float, float] | None:
    """(kind, hits, rate, lower bound) when the evidence is strong enough to suggest a change."""
    if not entry.reviewed:
        return None
    if entry.rule.action == Action.ESCALATE:
        lower = wilson_lower(entry.approved, entry.reviewed)
        if lower >= AUTOMATE_AT:
            return Suggestion.Kind.AUTOMATE, entry.approved, entry.approve_rate, lower
    elif entry.rule.action == Action.AUTOMATE:
        lower = wilson_lower(entry.overridden, entry.reviewed)
        if lower >= ESCALATE_AT:
            return Suggestion.Kind.ESCALATE, entry.overridden, entry.override_rate, lower
    return None


@transaction.atomic
def refresh_suggestions(*, pilot_id: int, now: datetime | None = None) -> list[Suggestion]:
    """Bring the pilot's open suggestions up to date with the evidence. Idempotent: an open suggestion is
    updated in place, one for a rule no longer current (or whose evidence faded) is withdrawn, and advice
    a program manager dismissed for a rule is not offered again for that rule."""
    now = now or timezone.now()
    pilot = Pilot.objects.select_for_update().get(pk=pilot_id)
    found: dict[tuple[int, str], Suggestion] = {}
    for entry in rule_stats(pilot, now=now):
        given = advice(entry)
        if given is None:
            continue
        kind, hits, rate, lower = given
        # Resolved advice is not offered again for the rule — in any later version that keeps the rule's
        # condition and action (its signature), e.g. after an unrelated rule was edited.
        if (
            Suggestion.objects.filter(pilot=pilot, rule__signature=entry.rule.signature, kind=kind)
            .exclude(state=Suggestion.State.OPEN)
            .exists()
        ):
            continue
        suggestion, _ = Suggestion.objects.update_or_create(
            pilot=pilot,
            rule=entry.rule,
            kind=kind,
            state=Suggestion.State.OPEN,
            defaults={
                "window_days": WINDOW_DAYS,
                "volume": entry.volume,
                "reviewed": entry.reviewed,
                "hits": hits,
                "rate": rate,
                "lower_bound": lower,
                "median_hours_to_decide": entry.median_hours,
                "updated_at": now,
            },
            create_defaults={
                "window_days": WINDOW_DAYS,
                "volume": entry.volume,
                "reviewed": entry.reviewed,
                "hits": hits,
                "rate": rate,
                "lower_bound": lower,
                "median_hours_to_decide": entry.median_hours,
                "created_at": now,
                "updated_at": now,
            },
        )
        found[(entry.rule.pk, kind)] = suggestion
    stale = Suggestion.objects.filter(pilot=pilot, state=Suggestion.State.OPEN)
    for suggestion in stale:
        if (suggestion.rule_id, suggestion.kind) not in found:
            suggestion.delete()
    return list(found.values())


def suggestion_text(suggestion: Suggestion) -> str:
    """The advice as a program manager reads it, with its evidence."""
    rule = suggestion.rule
    condition = rule.label.split(" ", 1)[1] if " " in rule.label else rule.label
    if suggestion.kind == Suggestion.Kind.AUTOMATE:
        return (
            f"Rule “{condition}” escalated {suggestion.volume} cases; reviewers approved the AI output "
            f"unchanged in {suggestion.hits} of {suggestion.reviewed} ({suggestion.rate:.0%}, lower bound "
            f"{suggestion.lower_bound:.0%}): consider automating it, with audit sampling."
        )
    return (
        f"Cases automated by rule “{condition}” and sampled for audit were overridden or rejected in "
        f"{suggestion.hits} of {suggestion.reviewed} ({suggestion.rate:.0%}, lower bound "
        f"{suggestion.lower_bound:.0%}): consider escalating them."
    )


@transaction.atomic
def apply_suggestion(*, suggestion_id: int, actor) -> RuleTable:
    """Publish the next rule version with the suggested change; the suggestion is marked applied."""
    suggestion = (
        Suggestion.objects.select_for_update()
        .select_related("rule", "pilot__workspace")
        .get(pk=suggestion_id)
    )
    if suggestion.state != Suggestion.State.OPEN:
        raise SuggestionRefused(f"This suggestion was {suggestion.get_state_display().lower()} already.")
    pilot = suggestion.pilot
    current = RuleTable.objects.filter(pilot=pilot).order_by("-version").first()
    rows = list(current.rules.order_by("position"))
    rules = table_as_rules(current)
    index = next((i for i, row in enumerate(rows) if row.signature == suggestion.rule.signature), None)
    if index is None:
        raise SuggestionRefused("The rules changed since this suggestion: the rule it names is gone.")
    rule = rules[index]
    if suggestion.kind == Suggestion.Kind.AUTOMATE:
        rule.update(action=Action.AUTOMATE, sample_percent=SAMPLE_AFTER_AUTOMATING, reviewer=None)
    else:
        rule.update(
            action=Action.ESCALATE,
            sample_percent=Decimal(0),
            service_level_hours=rule["service_level_hours"] or HOURS_AFTER_ESCALATING,
        )
    try:
        published = publish_rules(
            pilot=pilot,
            rules=rules,
            actor=actor,
            note=f"Applied suggestion: {suggestion.get_kind_display().lower()}",
        )
    except RuleTableError as error:
        # e.g. the standard changed since, and the table names a field it no longer declares
        raise SuggestionRefused(f"The rules cannot be republished as they are: {error}") from error
    suggestion.state = Suggestion.State.APPLIED
    suggestion.resolved_by = actor
    suggestion.resolved_at = timezone.now()
    suggestion.applied_version = published.table.version
    suggestion.save(update_fields=["state", "resolved_by", "resolved_at", "applied_version"])
    audit.record(
        workspace=pilot.workspace,
        actor=actor,
        action="rules.suggestion_applied",
        obj=suggestion,
        pilot=pilot,
        after={"text": suggestion_text(suggestion), "version": published.table.version},
    )
    return published.table


@transaction.atomic
def dismiss_suggestion(*, suggestion_id: int, actor) -> Suggestion:
    suggestion = (
        Suggestion.objects.select_for_update()
        .select_related("rule", "pilot__workspace")
        .get(pk=suggestion_id)
    )
    if suggestion.state != Suggestion.State.OPEN:
        raise SuggestionRefused(f"This suggestion was {suggestion.get_state_display().lower()} already.")
    suggestion.state = Suggestion.State.DISMISSED
    suggestion.resolved_by = actor
    suggestion.resolved_at = timezone.now()
    suggestion.save(update_fields=["state", "resolved_by", "resolved_at"])
    audit.record(
        workspace=suggestion.pilot.workspace,
        actor=actor,
        action="rules.suggestion_dismissed",
        obj=suggestion,
        pilot=suggestion.pilot,
        after={"text": suggestion_text(suggestion)},
    )
    return suggestion
