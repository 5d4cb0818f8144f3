"""Step 3 end to end through the services: publish rules, ingest, the queue, a decision, the log."""

from datetime import UTC, datetime, timedelta

import pytest

from exceptions import selectors
from exceptions.models import Decision, Escalation
from exceptions.rules import RuleTableError
from exceptions.services import queue, routing, rules
from pilots.models import AuditEvent, Case, Membership
from pilots.services import intake, standards
from pilots.services.intake import Arrival

SPEC = {
    "inputs": [
        {"name": "amount", "type": "number", "required": True, "min": 0},
        {"name": "channel", "type": "enum", "allowed": ["web", "phone"], "required": True},
    ],
    "outputs": [
        {"name": "category", "type": "enum", "allowed": ["glass", "theft"]},
        {"name": "confidence", "type": "number"},
    ],
}
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
TABLE = [
    {"name": "Broken input", "clauses": [{"field": "problems.missing", "op": "is_true"}], "action": "reject"},
    {
        "name": "Large",
        "clauses": [{"field": "inputs.amount", "op": "gt", "value": "10000"}],
        "action": "escalate",
        "service_level_hours": "24",
    },
    {"clauses": [], "action": "automate", "sample_percent": "0"},
]


@pytest.fixture
def ready(team):
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)
    return rules.publish_rules(pilot=team.pilot, rules=TABLE, actor=team.pm).table


def arrival(external_id, amount="100", **outputs):
    return Arrival(
        external_id=external_id,
        inputs={"amount": amount, "channel": "web"} if amount is not None else {"channel": "web"},
        outputs={"category": "glass", "confidence": 0.9} | outputs,
        received_at=NOW.isoformat(),
    )


def ingest(team, arrivals):
    return intake.ingest(pilot=team.pilot, arrivals=arrivals, source="upload", actor=team.pm)


def test_arriving_cases_are_routed_and_escalations_opened(team, ready):
    result = ingest(team, [arrival("small"), arrival("big", amount="20000"), arrival("broken", amount=None)])
    assert result.counts["created"] == 3
    cases = {c.external_id: c for c in Case.objects.all()}
    assert cases["small"].route == "automated" and cases["small"].decided_at == NOW
    assert cases["big"].route == "escalated" and cases["big"].decided_at is None
    assert cases["broken"].route == "rejected" and cases["broken"].decided_at == NOW
    assert cases["big"].rule_version == 1 and cases["big"].rule_clause == "#2 Large: inputs.amount > 10000"
    escalation = Escalation.objects.get()
    assert escalation.case == cases["big"] and escalation.due_at == NOW + timedelta(hours=24)
    # The same batch again changes nothing, and in particular does not report decided cases as conflicts.
    again = ingest(team, [arrival("small"), arrival("big", amount="20000"), arrival("broken", amount=None)])
    assert again.counts["unchanged"] == 3
    assert Escalation.objects.count() == 1


def test_a_changed_undecided_case_is_rerouted(team, ready):
    ingest(team, [arrival("c1", amount="20000")])
    ingest(team, [arrival("c1", amount="50")])
    case = Case.objects.get()
    assert case.route == "automated" and case.decided_at == NOW
    assert not Escalation.objects.exists()


def test_a_reviewer_decides_an_escalation(team, ready):
    ingest(team, [arrival("big", amount="20000")])
    membership = Membership.objects.get(user=team.reviewer, workspace=team.workspace)
    waiting = list(selectors.queue(membership, team.workspace, selectors.QueueFilters()))
    assert [e.case.external_id for e in waiting] == ["big"]
    escalation = waiting[0]
    queue.claim(escalation_id=escalation.pk, user=team.reviewer)
    with pytest.raises(queue.ReviewRefused, match="working on this case"):
        queue.claim(escalation_id=escalation.pk, user=team.owner)
    decision = queue.decide(
        escalation_id=escalation.pk,
        reviewer=team.reviewer,
        outcome="override",
        rationale="It was theft.",
        corrected_outputs={"category": "theft", "confidence": ""},
    )
    assert decision.corrected_outputs == {"category": "theft"}
    case = Case.objects.get()
    assert case.decided_at is not None and case.corrected and case.touchpoints == 1
    assert AuditEvent.objects.filter(action="case.reviewed").count() == 1
    with pytest.raises(queue.ReviewRefused, match="decided already"):
        queue.decide(escalation_id=escalation.pk, reviewer=team.reviewer, outcome="approve", rationale="x")
    assert Decision.objects.count() == 1
    assert not list(selectors.queue(membership, team.workspace, selectors.QueueFilters()))
    log = list(selectors.decision_log(team.pilot, selectors.LogFilters()))
    assert sorted(row["log_kind"] for row in log) == ["review", "routing"]
    reviews = list(selectors.decision_log(team.pilot, selectors.LogFilters(kind="review")))
    assert [(r["log_outcome"], r["log_actor"], r["log_rationale"]) for r in reviews] == [
        ("override", "Reviewer", "It was theft.")
    ]


def test_an_override_must_change_something(team, ready):
    ingest(team, [arrival("big", amount="20000")])
    escalation = Escalation.objects.get()
    with pytest.raises(queue.DecisionError):
        queue.decide(
            escalation_id=escalation.pk,
            reviewer=team.reviewer,
            outcome="override",
            rationale="same",
            corrected_outputs={"category": "glass"},
        )
    assert not Decision.objects.exists() and Case.objects.get().decided_at is None


def test_a_table_naming_an_unknown_field_is_refused(team, ready):
    bad = [
        {"clauses": [{"field": "inputs.colour", "op": "eq", "value": "red"}], "action": "reject"},
        TABLE[-1],
    ]
    with pytest.raises(RuleTableError) as error:
        rules.publish_rules(pilot=team.pilot, rules=bad, actor=team.pm)
    assert "rules[0].clauses[0].field" in error.value.errors


def test_backfill_routes_cases_that_arrived_before_the_rules(team):
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)
    ingest(team, [arrival("early", amount="20000"), arrival("small")])
    assert set(Case.objects.values_list("route", flat=True)) == {""}
    rules.publish_rules(pilot=team.pilot, rules=TABLE, actor=team.pm)
    assert routing.route_stored_cases(pilot_id=team.pilot.pk, actor=team.pm) == 2
    assert routing.route_stored_cases(pilot_id=team.pilot.pk, actor=team.pm) == 0
    assert Escalation.objects.get().case.external_id == "early"
