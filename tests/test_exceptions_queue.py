"""Working the review queue through the services (exceptions.services.queue): claims and their expiry,
release, and decisions — their effect on the case per DESIGN.md "Contracts: Case", the audit trail, the
hub's outcome hooks in the same transaction, and two reviewers deciding one case at once."""

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import connection

from exceptions.models import Decision, Escalation
from exceptions.services import queue, rules
from pilots.models import AuditEvent, Case
from pilots.services import intake, outcomes, standards
from pilots.services.intake import Arrival

SPEC = {
    "inputs": [{"name": "amount", "type": "number", "required": True}],
    "outputs": [
        {"name": "category", "type": "enum", "allowed": ["glass", "theft"]},
        {"name": "confidence", "type": "number"},
        {"name": "fraud", "type": "boolean"},
    ],
}
TABLE = [
    {
        "name": "Large",
        "clauses": [{"field": "inputs.amount", "op": "gt", "value": "10000"}],
        "action": "escalate",
        "service_level_hours": "24",
    },
    # Every automated case is sampled for audit, so the tests have sampled cases at hand.
    {"clauses": [], "action": "automate", "sample_percent": "100"},
]
RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SOON = RECEIVED + timedelta(hours=1)
AI_OUTPUTS = {"category": "glass", "confidence": 0.9, "fraud": False}


@pytest.fixture
def ready(team):
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)
    rules.publish_rules(pilot=team.pilot, rules=TABLE, actor=team.pm)


def waiting(team, external_id: str = "big", amount: str = "20000") -> Escalation:
    """A case arrives and waits for review: escalated (amount over 10000) or sampled."""
    intake.ingest(
        pilot=team.pilot,
        arrivals=[
            Arrival(
                external_id=external_id,
                inputs={"amount": amount},
                outputs=AI_OUTPUTS,
                received_at=RECEIVED.isoformat(),
            )
        ],
        source="upload",
        actor=team.pm,
    )
    return Escalation.objects.select_related("case").get(case__external_id=external_id)


def decide(escalation, reviewer, outcome="approve", rationale="Looks right.", now=SOON, **corrected):
    return queue.decide(
        escalation_id=escalation.pk,
        reviewer=reviewer,
        outcome=outcome,
        rationale=rationale,
        corrected_outputs=corrected,
        now=now,
    )


def snapshot(escalation: Escalation) -> tuple:
    """What a refused action must leave as it was."""
    case = Case.objects.get(pk=escalation.case_id)
    row = Escalation.objects.get(pk=escalation.pk)
    return (
        case.decided_at,
        case.corrected,
        case.touchpoints,
        row.decided_at,
        row.claimed_by_id,
        row.claim_expires_at,
        Decision.objects.count(),
        AuditEvent.objects.filter(action__in=("case.reviewed", "case.claimed", "case.released")).count(),
    )


# --- claims ---


def test_a_claim_holds_the_case_for_the_configured_minutes(team, ready, settings):
    settings.REVIEW_CLAIM_MINUTES = 5
    escalation = waiting(team)
    claimed = queue.claim(escalation_id=escalation.pk, user=team.reviewer, now=SOON)
    assert claimed.claimed_by == team.reviewer
    assert claimed.claim_expires_at == SOON + timedelta(minutes=5)
    almost = SOON + timedelta(minutes=5) - timedelta(seconds=1)
    with pytest.raises(
        # in the workspace's time (Europe/Berlin, UTC+1 in November)
        queue.ReviewRefused,
        match=r"Reviewer is working on this case \(claimed until 11:05\)",
    ):
        queue.claim(escalation_id=escalation.pk, user=team.owner, now=almost)
    assert Escalation.objects.get().claimed_by == team.reviewer
    # The claim lapses at its expiry: someone else may take the case.
    taken = queue.claim(escalation_id=escalation.pk, user=team.owner, now=SOON + timedelta(minutes=5))
    assert taken.claimed_by == team.owner
    assert taken.claim_expires_at == SOON + timedelta(minutes=10)
    assert AuditEvent.objects.filter(action="case.claimed").count() == 2


def test_the_default_claim_lasts_thirty_minutes(team, ready):
    escalation = waiting(team)
    claimed = queue.claim(escalation_id=escalation.pk, user=team.reviewer, now=SOON)
    assert claimed.claim_expires_at == SOON + timedelta(minutes=30)


def test_the_holder_extends_their_own_claim(team, ready):
    escalation = waiting(team)
    queue.claim(escalation_id=escalation.pk, user=team.reviewer, now=SOON)
    later = SOON + timedelta(minutes=20)
    extended = queue.claim(escalation_id=escalation.pk, user=team.reviewer, now=later)
    assert extended.claim_expires_at == later + timedelta(minutes=30)


def test_release_gives_the_case_back_and_only_its_holder_may_release(team, ready):
    escalation = waiting(team)
    queue.claim(escalation_id=escalation.pk, user=team.reviewer, now=SOON)
    before = snapshot(escalation)
    assert queue.release(escalation_id=escalation.pk, user=team.owner) is False
    assert snapshot(escalation) == before
    assert queue.release(escalation_id=escalation.pk, user=team.reviewer) is True
    row = Escalation.objects.get()
    assert row.claimed_by is None and row.claim_expires_at is None
    # Releasing again is harmless and writes nothing.
    assert queue.release(escalation_id=escalation.pk, user=team.reviewer) is False
    assert AuditEvent.objects.filter(action="case.released").count() == 1
    # Now anyone may take it.
    assert queue.claim(escalation_id=escalation.pk, user=team.owner, now=SOON).claimed_by == team.owner


def test_a_decided_case_cannot_be_claimed_or_released(team, ready):
    escalation = waiting(team)
    decide(escalation, team.reviewer)
    before = snapshot(escalation)
    with pytest.raises(queue.ReviewRefused, match="decided already"):
        queue.claim(escalation_id=escalation.pk, user=team.owner, now=SOON)
    assert queue.release(escalation_id=escalation.pk, user=team.reviewer) is False
    assert snapshot(escalation) == before


# --- decisions on an escalated case ---


def test_approving_an_escalated_case_decides_it(team, ready):
    escalation = waiting(team)
    assert escalation.reason == "escalated" and escalation.case.decided_at is None
    queue.claim(escalation_id=escalation.pk, user=team.reviewer, now=SOON)
    decision = decide(escalation, team.reviewer, rationale="  Amount checked against the invoice.  ")
    assert (decision.outcome, decision.rationale) == ("approve", "Amount checked against the invoice.")
    assert decision.ai_outputs == AI_OUTPUTS and decision.corrected_outputs == {}
    assert (decision.case_id, decision.pilot_id, decision.rule_id) == (
        escalation.case_id,
        team.pilot.pk,
        escalation.rule_id,
    )
    assert decision.reviewer == team.reviewer and decision.actor_label == "Reviewer"
    assert decision.decided_at == SOON and decision.within_service_level
    row = Escalation.objects.get()
    assert row.decided_at == SOON and row.claimed_by is None and row.claim_expires_at is None
    case = Case.objects.get()
    assert (case.decided_at, case.corrected, case.touchpoints) == (SOON, False, 1)
    event = AuditEvent.objects.get(action="case.reviewed")
    assert event.actor == team.reviewer and event.pilot == team.pilot
    assert event.after["outcome"] == "approve" and event.after["decision"] == decision.pk
    assert event.before["decided_at"] is None and event.after["touchpoints"] == 1


def test_an_override_keeps_only_the_changed_values_typed_and_marks_the_case_corrected(team, ready):
    escalation = waiting(team)
    decision = decide(
        escalation,
        team.reviewer,
        outcome="override",
        rationale="Theft, per the police report.",
        category="theft",
        confidence=" 0.9 ",  # as the AI said: not a change
        fraud="yes",
    )
    assert decision.corrected_outputs == {"category": "theft", "fraud": True}
    assert decision.ai_outputs == AI_OUTPUTS
    case = Case.objects.get()
    assert (case.decided_at, case.corrected, case.touchpoints) == (SOON, True, 1)
    assert case.outputs == AI_OUTPUTS  # the case keeps what the AI said; the decision holds the correction


def test_rejecting_an_escalated_case_decides_it_without_correcting(team, ready):
    escalation = waiting(team)
    decision = decide(escalation, team.owner, outcome="reject", rationale="Duplicate claim.")
    assert decision.outcome == "reject" and decision.reviewer == team.owner
    case = Case.objects.get()
    assert (case.decided_at, case.corrected, case.touchpoints) == (SOON, False, 1)


def test_a_decision_after_the_due_time_is_recorded_as_late(team, ready):
    escalation = waiting(team)
    assert escalation.due_at == RECEIVED + timedelta(hours=24)
    decision = decide(escalation, team.reviewer, now=RECEIVED + timedelta(hours=25))
    assert not decision.within_service_level
    on_time = decide(waiting(team, "big-2"), team.reviewer, now=RECEIVED + timedelta(hours=24))
    assert on_time.within_service_level


def test_deciding_twice_is_refused_and_nothing_changes(team, ready):
    escalation = waiting(team)
    decide(escalation, team.reviewer)
    before = snapshot(escalation)
    with pytest.raises(queue.ReviewRefused, match="decided already"):
        decide(escalation, team.owner, outcome="reject", now=SOON + timedelta(hours=1))
    assert snapshot(escalation) == before


def test_deciding_a_case_someone_else_holds_is_refused_until_the_claim_lapses(team, ready):
    escalation = waiting(team)
    queue.claim(escalation_id=escalation.pk, user=team.reviewer, now=SOON)
    before = snapshot(escalation)
    with pytest.raises(queue.ReviewRefused, match="Reviewer is working on this case"):
        decide(escalation, team.owner, now=SOON + timedelta(minutes=29))
    assert snapshot(escalation) == before
    decision = decide(escalation, team.owner, now=SOON + timedelta(minutes=30))
    assert decision.reviewer == team.owner


# --- decisions on a sampled case ---


def test_reviewing_a_sampled_case_adds_a_touchpoint_but_never_moves_decided_at(team, ready):
    escalation = waiting(team, "small", amount="100")
    assert escalation.reason == "sampled"
    assert escalation.case.route == "sampled" and escalation.case.decided_at == RECEIVED
    decide(escalation, team.reviewer, now=SOON)
    case = Case.objects.get()
    assert (case.decided_at, case.corrected, case.touchpoints) == (RECEIVED, False, 1)
    assert Escalation.objects.get().decided_at == SOON  # the review itself is done


def test_overriding_a_sampled_case_marks_it_corrected(team, ready):
    escalation = waiting(team, "small", amount="100")
    decision = decide(escalation, team.reviewer, outcome="override", rationale="Wrong.", category="theft")
    assert decision.corrected_outputs == {"category": "theft"}
    case = Case.objects.get()
    assert (case.decided_at, case.corrected, case.touchpoints) == (RECEIVED, True, 1)


# --- a decision that is incomplete or wrong stores nothing ---


@pytest.mark.parametrize(
    ("outcome", "rationale", "corrected", "errors"),
    [
        ("maybe", "x", {}, {"outcome"}),
        ("approve", "   ", {}, {"rationale"}),
        ("", "", {}, {"outcome", "rationale"}),
        ("override", "Same as the AI.", {"category": "glass", "confidence": ""}, {"outputs"}),
        ("override", "x", {}, {"outputs"}),
        ("override", "x", {"category": "fire"}, {"outputs.category"}),
        ("override", "x", {"confidence": "high"}, {"outputs.confidence"}),
        ("override", "x", {"fraud": "perhaps"}, {"outputs.fraud"}),
        ("override", "x", {"colour": "red", "category": "theft"}, {"outputs.colour"}),
    ],
)
def test_a_decision_error_stores_nothing(team, ready, outcome, rationale, corrected, errors):
    escalation = waiting(team)
    before = snapshot(escalation)
    with pytest.raises(queue.DecisionError) as error:
        decide(escalation, team.reviewer, outcome=outcome, rationale=rationale, **corrected)
    assert set(error.value.errors) == errors
    assert snapshot(escalation) == before
    # The case still waits and can be decided properly.
    assert decide(escalation, team.reviewer).outcome == "approve"


def test_the_outputs_a_reviewer_may_correct_are_those_of_the_cases_standard(team, ready):
    escalation = waiting(team)
    assert [f["name"] for f in queue.output_fields(escalation)] == ["category", "confidence", "fraud"]


# --- the hub's outcome hooks run inside the decision's transaction ---


def test_the_outcome_hooks_see_the_decision_in_the_same_transaction(team, ready, monkeypatch):
    seen = []

    def outcome_recorded(*, outcome):
        # Inside the transaction: the decision and the decided case are visible to the hook already.
        stored = Decision.objects.get(pk=outcome.record.pk)
        seen.append((outcome.kind, outcome.settled, outcome.corrected, stored, outcome.case.decided_at))

    hook = SimpleNamespace(outcome_recorded=outcome_recorded)
    monkeypatch.setattr(outcomes, "app_modules", lambda name: [hook] if name == "outcomes" else [])
    escalated = decide(waiting(team), team.reviewer, outcome="override", rationale="x", category="theft")
    sampled = decide(waiting(team, "small", amount="100"), team.reviewer)
    assert seen == [
        ("review", True, True, escalated, SOON),  # settled: this decision set decided_at
        ("review", False, False, sampled, RECEIVED),  # a sampled case was decided at routing
    ]


def test_a_failing_outcome_hook_undoes_the_whole_decision(team, ready, monkeypatch):
    def outcome_recorded(*, outcome):
        raise RuntimeError("step 4 could not record the corrections")

    hook = SimpleNamespace(outcome_recorded=outcome_recorded)
    escalation = waiting(team)
    queue.claim(escalation_id=escalation.pk, user=team.reviewer, now=SOON)
    before = snapshot(escalation)
    monkeypatch.setattr(outcomes, "app_modules", lambda name: [hook] if name == "outcomes" else [])
    with pytest.raises(RuntimeError):
        decide(escalation, team.reviewer, outcome="override", rationale="x", category="theft")
    assert snapshot(escalation) == before
    assert not Decision.objects.exists()
    assert not AuditEvent.objects.filter(action="case.reviewed").exists()
    monkeypatch.undo()
    assert decide(escalation, team.reviewer).outcome == "approve"


# --- two reviewers at once ---


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_deciding_one_case_at_once_store_exactly_one_decision(postgres, team, ready):
    """Neither has claimed the case; both press a button at the same moment. The row lock lets one
    through; the other sees the decision and is refused."""
    escalation = waiting(team)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def attempt(reviewer, outcome: str) -> None:
        try:
            barrier.wait()
            decide(escalation, reviewer, outcome=outcome, now=SOON)
            results.append(f"decided {outcome}")
        except queue.ReviewRefused as refused:
            results.append(f"refused: {refused}")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=attempt, args=(team.reviewer, "approve")),
        threading.Thread(target=attempt, args=(team.owner, "reject")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.split(" ")[0] for r in results) == ["decided", "refused:"]
    assert "refused: This case was decided already." in results
    decision = Decision.objects.get()
    assert f"decided {decision.outcome}" in results
    case = Case.objects.get()
    assert (case.decided_at, case.touchpoints) == (SOON, 1)
    assert AuditEvent.objects.filter(action="case.reviewed").count() == 1


def test_every_problem_of_a_decision_is_reported_at_once(team, ready):
    escalation = waiting(team)
    before = snapshot(escalation)
    with pytest.raises(queue.DecisionError) as error:
        decide(escalation, team.reviewer, outcome="override", rationale=" ", confidence="very")
    assert set(error.value.errors) == {"rationale", "outputs.confidence"}
    assert snapshot(escalation) == before


def test_an_untouched_output_the_standard_refuses_does_not_block_an_override(team, ready):
    intake.ingest(
        pilot=team.pilot,
        arrivals=[
            Arrival(
                external_id="odd",
                inputs={"amount": "20000"},
                outputs={"category": "glass", "confidence": "high"},  # not a number: kept as given
                received_at=RECEIVED.isoformat(),
            )
        ],
        source="upload",
        actor=team.pm,
    )
    escalation = Escalation.objects.get(case__external_id="odd")
    decision = decide(escalation, team.reviewer, outcome="override", category="theft", confidence="high")
    assert decision.corrected_outputs == {"category": "theft"}


def test_deciding_a_case_that_was_routed_again_meanwhile_is_refused(team, ready):
    escalation = waiting(team)
    waiting(team, amount="50")  # the undecided case changes and is now automated (and sampled)
    with pytest.raises(queue.ReviewRefused, match="routed again"):
        decide(escalation, team.reviewer)
    assert not Decision.objects.exists()
