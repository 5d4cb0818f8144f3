"""Rule refinement through the services (exceptions.services.refinement): each rule's evidence, advice
only when the 95% Wilson lower bound clears its threshold, idempotent refresh, dismissing and applying."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exceptions.models import Escalation, RuleTable, Suggestion
from exceptions.services import queue, refinement, rules
from pilots.models import AuditEvent, Case
from pilots.services import intake, standards
from pilots.services.intake import Arrival

SPEC = {
    "inputs": [{"name": "amount", "type": "number", "required": True}],
    "outputs": [{"name": "category", "type": "enum", "allowed": ["glass", "theft"]}],
}
LARGE = {
    "name": "Large",
    "clauses": [{"field": "inputs.amount", "op": "gt", "value": "10000"}],
    "action": "escalate",
    "service_level_hours": "24",
}
# Every automated case is sampled, so the default rule's audit evidence builds quickly.
DEFAULT = {"clauses": [], "action": "automate", "sample_percent": "100"}
NOW = timezone.now().replace(microsecond=0)
RECEIVED = NOW - timedelta(days=2)


@pytest.fixture
def ready(team):
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)
    return rules.publish_rules(pilot=team.pilot, rules=[LARGE, DEFAULT], actor=team.pm).table


def arrive(team, prefix: str, n: int, amount: str, received=RECEIVED) -> list[Escalation]:
    """`n` cases arrive; returns the escalations they opened (escalated if large, else sampled)."""
    intake.ingest(
        pilot=team.pilot,
        arrivals=[
            Arrival(
                external_id=f"{prefix}-{i}",
                inputs={"amount": amount},
                outputs={"category": "glass"},
                received_at=received.isoformat(),
            )
            for i in range(n)
        ],
        source="upload",
        actor=team.pm,
    )
    return list(Escalation.objects.filter(case__external_id__startswith=f"{prefix}-").order_by("id"))


def review(team, escalations, outcome: str, hours: float = 1) -> None:
    for escalation in escalations:
        queue.decide(
            escalation_id=escalation.pk,
            reviewer=team.reviewer,
            outcome=outcome,
            rationale="Checked.",
            corrected_outputs={"category": "theft"} if outcome == "override" else {},
            now=escalation.received_at + timedelta(hours=hours),
        )


def refresh(team) -> list[Suggestion]:
    return refinement.refresh_suggestions(pilot_id=team.pilot.pk, now=NOW)


# --- the evidence per rule ---


def test_rule_stats_count_volume_reviews_outcomes_and_time_to_decide(team, ready):
    large = arrive(team, "big", 4, "20000")
    review(team, large[:1], "approve", hours=1)
    review(team, large[1:2], "approve", hours=3)
    review(team, large[2:3], "override", hours=8)  # large[3] still waits
    small = arrive(team, "small", 6, "100")
    review(team, small[:3], "approve", hours=2)
    review(team, small[3:4], "reject", hours=2)
    # Outside the 90-day window: neither routed volume nor decisions count.
    old = arrive(team, "old", 2, "20000", received=NOW - timedelta(days=120))
    review(team, old, "override")

    found = refinement.rule_stats(team.pilot, now=NOW)
    assert [entry.rule.position for entry in found] == [1, 2]
    escalating, automating = found
    assert (escalating.volume, escalating.reviewed, escalating.approved, escalating.overridden) == (
        4,
        3,
        2,
        1,
    )
    assert escalating.approve_rate == pytest.approx(2 / 3) and escalating.override_rate == pytest.approx(
        1 / 3
    )
    assert escalating.median_hours == pytest.approx(3)
    assert (automating.volume, automating.reviewed, automating.approved, automating.overridden) == (
        6,
        4,
        3,
        1,
    )
    assert automating.median_hours == pytest.approx(2)


def test_a_rule_without_decisions_has_no_rates(team, ready):
    arrive(team, "big", 2, "20000")
    entry = refinement.rule_stats(team.pilot, now=NOW)[0]
    assert (entry.volume, entry.reviewed, entry.approve_rate, entry.median_hours) == (2, 0, None, None)
    assert refinement.advice(entry) is None


def test_evidence_follows_a_rule_across_versions(team, ready):
    review(team, arrive(team, "v1", 3, "20000"), "approve")
    # Version 2 changes only the default's sampling: both rules keep their condition and action.
    rules.publish_rules(pilot=team.pilot, rules=[LARGE, {**DEFAULT, "sample_percent": "50"}], actor=team.pm)
    review(team, arrive(team, "v2", 2, "20000"), "approve")
    escalating = refinement.rule_stats(team.pilot, now=NOW)[0]
    assert escalating.rule.table.version == 2
    assert (escalating.volume, escalating.reviewed, escalating.approved) == (5, 5, 5)


def test_rule_stats_take_a_fixed_number_of_queries(team, ready):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            refinement.rule_stats(team.pilot, now=NOW)
        return len(ctx)

    review(team, arrive(team, "a", 2, "20000"), "approve")
    few = queries()
    review(team, arrive(team, "b", 30, "20000"), "approve")
    review(team, arrive(team, "c", 30, "100"), "override")
    assert queries() == few


def test_no_rules_no_stats(team):
    assert refinement.rule_stats(team.pilot) == []
    assert refinement.refresh_suggestions(pilot_id=team.pilot.pk) == []


# --- advice only when the lower bound clears the threshold ---


def test_ten_approvals_of_ten_are_not_enough_to_suggest_automating(team, ready):
    review(team, arrive(team, "big", 10, "20000"), "approve")
    assert refresh(team) == []
    assert not Suggestion.objects.exists()


def test_sixty_approvals_of_sixty_suggest_automating(team, ready):
    review(team, arrive(team, "big", 60, "20000"), "approve", hours=5)
    [suggestion] = refresh(team)
    assert suggestion.kind == "automate" and suggestion.state == "open"
    assert suggestion.rule == ready.rules.get(position=1)
    assert (suggestion.volume, suggestion.reviewed, suggestion.hits, suggestion.rate) == (60, 60, 60, 1.0)
    assert suggestion.lower_bound == pytest.approx(0.9398, abs=5e-5)  # 60 / (60 + 1.96²)
    assert suggestion.median_hours_to_decide == pytest.approx(5)
    assert suggestion.window_days == 90
    assert refinement.suggestion_text(suggestion) == (
        "Rule “Large: inputs.amount > 10000” escalated 60 cases; reviewers approved the AI output unchanged "
        "in 60 of 60 (100%, lower bound 94%): consider automating it, with audit sampling."
    )


def test_an_automating_rule_whose_samples_are_overridden_twelve_in_a_hundred_suggests_escalating(team, ready):
    samples = arrive(team, "small", 100, "100")
    review(team, samples[:12], "override")
    review(team, samples[12:], "approve")
    [suggestion] = refresh(team)
    assert suggestion.kind == "escalate" and suggestion.rule == ready.rules.get(position=2)
    assert (suggestion.reviewed, suggestion.hits, suggestion.rate) == (100, 12, 0.12)
    assert suggestion.lower_bound == pytest.approx(0.0700, abs=5e-5)
    assert refinement.suggestion_text(suggestion) == (
        "Cases automated by rule “every other case (default)” and sampled for audit were overridden or "
        "rejected in 12 of 100 (12%, lower bound 7%): consider escalating them."
    )


def test_one_override_in_twenty_samples_suggests_nothing(team, ready):
    samples = arrive(team, "small", 20, "100")
    review(team, samples[:1], "reject")
    review(team, samples[1:], "approve")
    assert refresh(team) == []


# --- refresh ---


def test_refresh_is_idempotent_and_updates_an_open_suggestion_in_place(team, ready):
    review(team, arrive(team, "big", 60, "20000"), "approve")
    [first] = refresh(team)
    [again] = refresh(team)
    assert again.pk == first.pk and Suggestion.objects.count() == 1
    assert (again.reviewed, again.lower_bound) == (first.reviewed, first.lower_bound)
    review(team, arrive(team, "more", 10, "20000"), "approve")
    [updated] = refresh(team)
    assert updated.pk == first.pk and (updated.volume, updated.reviewed) == (70, 70)
    assert Suggestion.objects.count() == 1


def test_a_suggestion_whose_evidence_faded_is_withdrawn(team, ready):
    review(team, arrive(team, "big", 60, "20000"), "approve")
    assert len(refresh(team)) == 1
    review(team, arrive(team, "bad", 10, "20000"), "override")  # 60 of 70: lower bound ≈ 75%
    assert refresh(team) == []
    assert not Suggestion.objects.exists()


def test_a_dismissed_suggestion_does_not_come_back_for_that_rule(team, ready):
    review(team, arrive(team, "big", 60, "20000"), "approve")
    [suggestion] = refresh(team)
    dismissed = refinement.dismiss_suggestion(suggestion_id=suggestion.pk, actor=team.pm)
    assert dismissed.state == "dismissed" and dismissed.resolved_by == team.pm
    assert refresh(team) == []
    # Nor when an unrelated rule changes: the rule keeps its condition and action in the new version.
    rules.publish_rules(pilot=team.pilot, rules=[LARGE, {**DEFAULT, "sample_percent": "20"}], actor=team.pm)
    review(team, arrive(team, "more", 10, "20000"), "approve")
    assert refresh(team) == []
    assert list(Suggestion.objects.values_list("state", flat=True)) == ["dismissed"]
    event = AuditEvent.objects.get(action="rules.suggestion_dismissed")
    assert event.actor == team.pm and "consider automating" in event.after["text"]
    with pytest.raises(refinement.SuggestionRefused, match="dismissed already"):
        refinement.dismiss_suggestion(suggestion_id=suggestion.pk, actor=team.pm)
    with pytest.raises(refinement.SuggestionRefused, match="dismissed already"):
        refinement.apply_suggestion(suggestion_id=suggestion.pk, actor=team.pm)


# --- applying ---


def test_applying_an_automate_suggestion_publishes_the_next_version(team, ready):
    review(team, arrive(team, "big", 60, "20000"), "approve")
    [suggestion] = refresh(team)
    table = refinement.apply_suggestion(suggestion_id=suggestion.pk, actor=team.pm)
    assert table.version == 2 and table.note == "Applied suggestion: consider automating"
    changed, default = table.rules.order_by("position")
    assert (changed.action, changed.sample_percent, changed.reviewer_id) == ("automate", 10, None)
    assert changed.clauses == ready.rules.get(position=1).clauses
    assert (default.action, default.sample_percent) == ("automate", 100)
    suggestion.refresh_from_db()
    assert (suggestion.state, suggestion.applied_version, suggestion.resolved_by) == ("applied", 2, team.pm)
    assert suggestion.resolved_at is not None
    event = AuditEvent.objects.get(action="rules.suggestion_applied")
    assert event.actor == team.pm and event.after["version"] == 2
    assert AuditEvent.objects.filter(action="rules.published").count() == 2
    # New cases follow the new version: a large case is automated now (or sampled for audit).
    arrive(team, "after", 1, "20000")
    case = Case.objects.get(external_id="after-0")
    assert case.rule_version == 2 and case.route in ("automated", "sampled") and case.decided_at == RECEIVED


def test_applying_an_escalate_suggestion_escalates_the_rule_with_a_service_level(team, ready):
    samples = arrive(team, "small", 100, "100")
    review(team, samples[:12], "override")
    review(team, samples[12:], "approve")
    [suggestion] = refresh(team)
    table = refinement.apply_suggestion(suggestion_id=suggestion.pk, actor=team.pm)
    default = table.rules.get(position=2)
    assert (default.action, default.sample_percent, default.service_level_hours) == ("escalate", 0, 24)
    assert default.is_default


def test_applying_twice_is_refused(team, ready):
    review(team, arrive(team, "big", 60, "20000"), "approve")
    [suggestion] = refresh(team)
    refinement.apply_suggestion(suggestion_id=suggestion.pk, actor=team.pm)
    with pytest.raises(refinement.SuggestionRefused, match="applied already"):
        refinement.apply_suggestion(suggestion_id=suggestion.pk, actor=team.pm)
    with pytest.raises(refinement.SuggestionRefused, match="applied already"):
        refinement.dismiss_suggestion(suggestion_id=suggestion.pk, actor=team.pm)
    assert RuleTable.objects.filter(pilot=team.pilot).count() == 2
    assert AuditEvent.objects.filter(action="rules.suggestion_applied").count() == 1


def test_a_suggestion_for_a_rule_that_is_gone_is_refused(team, ready):
    review(team, arrive(team, "big", 60, "20000"), "approve")
    [suggestion] = refresh(team)
    # The program manager rewrote the rule's condition by hand meanwhile.
    rules.publish_rules(
        pilot=team.pilot,
        rules=[{**LARGE, "clauses": [{"field": "inputs.amount", "op": "gt", "value": "5000"}]}, DEFAULT],
        actor=team.pm,
    )
    with pytest.raises(refinement.SuggestionRefused, match="the rule it names is gone"):
        refinement.apply_suggestion(suggestion_id=suggestion.pk, actor=team.pm)
    assert RuleTable.objects.filter(pilot=team.pilot).count() == 2
    suggestion.refresh_from_db()
    assert suggestion.state == "open"
