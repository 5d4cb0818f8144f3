"""The exceptions.* checks (DESIGN.md checks table), on data built through the services: each goes from
missing to verified with its evidence and next action, and answers a batch of pilots in fixed queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exceptions.models import Escalation
from exceptions.router import sample_bucket
from exceptions.services import queue, rules
from pilots import checks
from pilots.services import intake, standards
from pilots.services.intake import Arrival
from tests import factories

SPEC = {
    "inputs": [
        {"name": "amount", "type": "number", "required": True},
        {"name": "channel", "type": "enum", "allowed": ["web", "phone"], "required": True},
    ],
    "outputs": [{"name": "category", "type": "enum", "allowed": ["glass", "theft"]}],
}
MISSING_RULE = {
    "name": "Missing",
    "clauses": [{"field": "problems.missing", "op": "is_true"}],
    "action": "reject",
}
INVALID_RULE = {
    "name": "Invalid",
    "clauses": [{"field": "problems.invalid", "op": "is_true"}],
    "action": "escalate",
    "service_level_hours": "24",
}
LATE_RULE = {
    "name": "Late",
    "clauses": [{"field": "problems.late", "op": "is_true"}],
    "action": "escalate",
    "service_level_hours": "24",
}
LARGE_RULE = {
    "name": "Large",
    "clauses": [{"field": "inputs.amount", "op": "gt", "value": "10000"}],
    "action": "escalate",
    "service_level_hours": "24",
}
SAMPLED_DEFAULT = {"clauses": [], "action": "automate", "sample_percent": "5"}
COVERING = [MISSING_RULE, INVALID_RULE, LATE_RULE, LARGE_RULE, SAMPLED_DEFAULT]


def result(pilot, check_id):
    return checks.evaluate([pilot.pk], gate="production")[pilot.pk][check_id]


def with_rules(team, table, pilot=None):
    pilot = pilot or team.pilot
    standards.publish_standard(pilot=pilot, actor=team.pm, spec=SPEC)
    return rules.publish_rules(pilot=pilot, rules=table, actor=team.pm).table


def arrive(team, *external_ids, pilot=None, received=None, **inputs):
    values = {"amount": "100", "channel": "web"} | inputs
    intake.ingest(
        pilot=pilot or team.pilot,
        arrivals=[
            Arrival(
                external_id=x,
                inputs={k: v for k, v in values.items() if v is not None},
                outputs={"category": "glass"},
                received_at=received or timezone.now() - timedelta(hours=1),
            )
            for x in external_ids
        ],
        source="upload",
        actor=team.pm,
    )


def rules_link(pilot):
    return ("Routing rules", f"/pilots/{pilot.pk}/rules/")


def test_the_checks_are_registered_as_the_design_says():
    found = {
        c.id: (c.section, c.gate, c.attestable) for c in checks.all_checks() if c.id.startswith("exceptions.")
    }
    assert found == {
        "exceptions.rules_cover_problems": ("edge_cases", "feedback_loops", False),
        "exceptions.audit_sampling": ("trust", "feedback_loops", False),
        "exceptions.decisions_logged": ("trust", "production", False),
        "exceptions.within_service_level": ("trust", "production", False),
    }


# --- exceptions.rules_cover_problems ---


def test_rules_cover_problems_without_rules(team):
    found = result(team.pilot, "exceptions.rules_cover_problems")
    assert found.status == checks.MISSING
    assert found.evidence.text == "No routing rules yet."
    assert found.evidence.links == (rules_link(team.pilot),)
    assert found.next_action == "Write the pilot's routing rules."


def test_rules_cover_problems_names_the_problems_no_rule_takes_out_of_automation(team):
    # Automating late cases does not cover them: only escalating or rejecting does.
    automate_late = {**LATE_RULE, "action": "automate", "service_level_hours": None}
    with_rules(team, [MISSING_RULE, automate_late, SAMPLED_DEFAULT])
    found = result(team.pilot, "exceptions.rules_cover_problems")
    assert found.status == checks.MISSING
    assert found.evidence.text == "No rule escalates or rejects cases with invalid, late inputs."
    assert found.next_action == "Add rules that escalate (or reject) cases whose inputs are invalid or late."


def test_rules_cover_problems_needs_such_cases_routed(team):
    with_rules(team, COVERING)
    arrive(team, "fine")
    found = result(team.pilot, "exceptions.rules_cover_problems")
    assert found.status == checks.MISSING
    assert found.evidence.text == (
        "The rules cover missing, invalid and late inputs, but no such case was routed in 30 days."
    )
    assert found.next_action.startswith("Route real cases through the rules")


def test_rules_cover_problems_verified_once_problem_cases_are_routed(team):
    with_rules(team, COVERING)
    arrive(team, "no-channel", channel=None)  # missing → rejected
    arrive(team, "bad-amount", amount="n/a")  # invalid → escalated
    arrive(
        team, "old", "older", channel=None, received=timezone.now() - timedelta(days=31)
    )  # outside 30 days
    found = result(team.pilot, "exceptions.rules_cover_problems")
    assert found.status == checks.VERIFIED
    assert (
        found.evidence.text
        == "Rules escalate or reject missing, invalid and late inputs: 2 case(s) in 30 days."
    )
    assert found.next_action == ""


def test_rules_cover_problems_reports_problem_cases_that_were_automated(team):
    small_first = {"clauses": [{"field": "inputs.amount", "op": "lt", "value": "10"}], "action": "automate"}
    with_rules(team, [small_first, *COVERING])
    arrive(team, "small-no-channel", amount="5", channel=None)  # automated before the missing rule
    arrive(team, "no-channel", channel=None)
    found = result(team.pilot, "exceptions.rules_cover_problems")
    assert found.status == checks.VERIFIED
    assert found.evidence.text.endswith("1 case(s) in 30 days; 1 such case(s) were automated.")


# --- exceptions.audit_sampling ---


def test_audit_sampling_without_an_automating_rule(team):
    assert result(team.pilot, "exceptions.audit_sampling").evidence.text == "No rule automates cases yet."
    with_rules(team, [LARGE_RULE, {"clauses": [], "action": "reject"}])
    found = result(team.pilot, "exceptions.audit_sampling")
    assert found.status == checks.MISSING
    assert found.evidence.text == "No rule automates cases yet."
    assert found.next_action == "Automate the routine cases, with a share sampled for audit."


def test_audit_sampling_needs_every_automating_rule_to_sample(team):
    small = {"clauses": [{"field": "inputs.amount", "op": "lt", "value": "10"}], "action": "automate"}
    with_rules(team, [{**small, "sample_percent": "2.5"}, {"clauses": [], "action": "automate"}])
    found = result(team.pilot, "exceptions.audit_sampling")
    assert found.status == checks.MISSING
    assert found.evidence.text == (
        "1 automating rule(s) sample nothing for audit: #2 every other case (default)."
    )
    assert found.evidence.links == (rules_link(team.pilot),)
    assert found.next_action == "Set an audit sampling percentage on every rule that automates."
    rules.publish_rules(
        pilot=team.pilot,
        rules=[{**small, "sample_percent": "2.5"}, {**SAMPLED_DEFAULT, "sample_percent": "10"}],
        actor=team.pm,
    )
    found = result(team.pilot, "exceptions.audit_sampling")
    assert found.status == checks.VERIFIED
    assert found.evidence.text == "Every automating rule samples cases for audit (2.5%, 10%)."


# --- exceptions.decisions_logged ---


def decide(team, *external_ids: str, hours: float = 1) -> None:
    """A reviewer approves these cases' escalations, `hours` after each arrived."""
    for escalation in Escalation.objects.filter(case__external_id__in=external_ids).order_by("id"):
        queue.decide(
            escalation_id=escalation.pk,
            reviewer=team.reviewer,
            outcome="approve",
            rationale="Checked.",
            now=escalation.received_at + timedelta(hours=hours),
        )


def test_decisions_logged_counts_reviewer_decisions_up_to_twenty(team):
    with_rules(team, COVERING)
    found = result(team.pilot, "exceptions.decisions_logged")
    assert (found.status, found.evidence.text) == (checks.MISSING, "0 reviewer decision(s) logged.")
    assert found.next_action == "Have reviewers decide 20 more escalated case(s)."
    assert found.evidence.links == (("Decision log", f"/pilots/{team.pilot.pk}/decisions/"),)
    big = [f"big-{i}" for i in range(20)]
    arrive(team, *big, amount="20000")
    decide(team, *big[:19])
    found = result(team.pilot, "exceptions.decisions_logged")
    assert (found.status, found.evidence.text) == (checks.MISSING, "19 reviewer decision(s) logged.")
    assert found.next_action == "Have reviewers decide 1 more escalated case(s)."
    decide(team, big[19])
    found = result(team.pilot, "exceptions.decisions_logged")
    assert (found.status, found.evidence.text) == (checks.VERIFIED, "20 reviewer decision(s) logged.")


# --- exceptions.within_service_level ---


def test_within_service_level_without_escalations_that_came_due(team):
    with_rules(team, COVERING)
    arrive(team, "fresh", amount="20000")  # open, due in 23 hours: not counted yet
    found = result(team.pilot, "exceptions.within_service_level")
    assert (found.status, found.evidence.text) == (checks.MISSING, "No escalation came due in 30 days.")
    assert found.next_action == "Route and decide escalations."


def test_within_service_level_verified_at_ninety_percent(team):
    with_rules(team, COVERING)
    three_days_ago = timezone.now() - timedelta(days=3)
    big = [f"big-{i}" for i in range(10)]
    arrive(team, *big, amount="20000", received=three_days_ago)
    decide(team, *big[:9], hours=2)  # big-9 still waits, past due: a miss
    # Audit samples (open and past their 72 hours) and escalations older than 30 days do not count.
    sampled = [x for x in (f"sample-{i}" for i in range(1000)) if sample_bucket(team.pilot.pk, x) < 500][:3]
    arrive(team, *sampled, received=three_days_ago - timedelta(hours=1))
    assert Escalation.objects.filter(reason="sampled").count() == 3
    arrive(team, "long-ago", amount="20000", received=timezone.now() - timedelta(days=40))
    found = result(team.pilot, "exceptions.within_service_level")
    assert found.status == checks.VERIFIED
    assert found.evidence.text == "9 of 10 escalations in 30 days decided within their service level (90%)."


def test_within_service_level_missing_below_ninety_percent(team):
    with_rules(team, COVERING)
    three_days_ago = timezone.now() - timedelta(days=3)
    big = [f"big-{i}" for i in range(8)]
    arrive(team, *big, "slow", "waiting", amount="20000", received=three_days_ago)
    decide(team, *big, hours=2)
    decide(team, "slow", hours=30)  # 6 hours past its 24-hour service level; "waiting" is past due
    found = result(team.pilot, "exceptions.within_service_level")
    assert found.status == checks.MISSING
    assert found.evidence.text == "8 of 10 escalations in 30 days decided within their service level (80%)."
    assert found.next_action == "Decide escalations within their service level (or set a realistic one)."
    assert found.evidence.links == (("Review decisions", f"/pilots/{team.pilot.pk}/decisions/?kind=review"),)


# --- a batch of pilots in a fixed number of queries ---


EXCEPTION_CHECKS = (
    "exceptions.rules_cover_problems",
    "exceptions.audit_sampling",
    "exceptions.decisions_logged",
    "exceptions.within_service_level",
)


def busy_pilot(team, n: int):
    pilot = factories.PilotFactory(
        workspace=team.workspace, program_manager=team.pm, workflow_owner=team.owner
    )
    with_rules(team, COVERING, pilot=pilot)
    received = timezone.now() - timedelta(days=2)
    arrive(team, f"p{n}-big", f"p{n}-big2", pilot=pilot, amount="20000", received=received)
    arrive(team, f"p{n}-gap", pilot=pilot, channel=None, received=received)
    escalation = Escalation.objects.filter(pilot=pilot).order_by("id").first()
    queue.decide(
        escalation_id=escalation.pk,
        reviewer=team.reviewer,
        outcome="approve",
        rationale="ok",
        now=escalation.received_at + timedelta(hours=1),
    )
    return pilot


@pytest.mark.parametrize("check_id", EXCEPTION_CHECKS)
def test_a_check_answers_one_or_five_pilots_in_the_same_number_of_queries(team, check_id):
    pilots = [busy_pilot(team, n) for n in range(5)]
    evaluate = checks.get(check_id).evaluate
    with CaptureQueriesContext(connection) as one:
        single = evaluate([pilots[0].pk])
    with CaptureQueriesContext(connection) as five:
        batch = evaluate([p.pk for p in pilots])
    assert len(one) == len(five) > 0
    assert set(batch) == {p.pk for p in pilots}
    assert batch[pilots[0].pk] == single[pilots[0].pk]
