"""Overrides become corrections exactly once: through the hub's outcome hook (feedback/outcomes.py) inside
the decision's transaction, and through the one-time backfill of the overrides stored before step 4 —
the service and the migration's own function, both idempotent and skipping overrides that have
corrections already."""

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps

from exceptions.models import Decision, Escalation
from exceptions.services import queue, rules
from feedback import outcomes as feedback_outcomes
from feedback.models import Correction, ReasonCode
from feedback.services import corrections, taxonomy
from pilots.models import Case
from pilots.services import intake, standards
from pilots.services.intake import Arrival
from tests import factories

migration = importlib.import_module("feedback.migrations.0002_backfill_override_corrections")

SPEC = {
    "inputs": [{"name": "amount", "type": "number", "required": True}],
    "outputs": [
        {"name": "category", "type": "enum", "allowed": ["glass", "theft"]},
        {"name": "confidence", "type": "number"},
    ],
}
TABLE = [
    {
        "clauses": [{"field": "inputs.amount", "op": "gt", "value": "10000"}],
        "action": "escalate",
        "service_level_hours": "24",
    },
    {"clauses": [], "action": "automate", "sample_percent": "100"},
]
RECEIVED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DECIDED = RECEIVED + timedelta(hours=2)


def run_migration_backfill() -> None:
    migration.backfill(apps, None)


BACKFILLS = {
    "service": corrections.backfill_override_corrections,
    "migration": run_migration_backfill,
}


def prepare(team, pilot=None):
    pilot = pilot or team.pilot
    standards.publish_standard(pilot=pilot, actor=team.pm, spec=SPEC)
    rules.publish_rules(pilot=pilot, rules=TABLE, actor=team.pm)


def arrive(team, external_id, amount="20000", pilot=None):
    pilot = pilot or team.pilot
    intake.ingest(
        pilot=pilot,
        arrivals=[
            Arrival(
                external_id=external_id,
                inputs={"amount": amount},
                outputs={"category": "glass", "confidence": 0.9},
                received_at=RECEIVED.isoformat(),
            )
        ],
        source="upload",
        actor=team.pm,
    )
    return Escalation.objects.select_related("case").get(pilot=pilot, case__external_id=external_id)


def decide(team, escalation, outcome="override", corrected=None, rationale="Theft, clearly."):
    return queue.decide(
        escalation_id=escalation.pk,
        reviewer=team.reviewer,
        outcome=outcome,
        rationale=rationale,
        corrected_outputs={"category": "theft", "confidence": "0.5"} if corrected is None else corrected,
        now=DECIDED,
    )


def found(decision=None):
    rows = Correction.objects.filter(**({"decision": decision} if decision else {})).order_by(
        "decision_id", "field"
    )
    return [(c.decision_id, c.field, c.ai_value, c.corrected_value, c.reason.code) for c in rows]


@pytest.fixture
def before_step_4(monkeypatch):
    """Overrides decided while the hook did not exist yet: the hook does nothing."""
    monkeypatch.setattr(feedback_outcomes, "corrections_from_decision", lambda decision: [])


# --- the hook, inside the decision's transaction ---


def test_an_override_becomes_one_correction_per_changed_output(team):
    prepare(team)
    escalation = arrive(team, "big")
    decision = decide(team, escalation)
    rows = list(Correction.objects.filter(decision=decision).order_by("field"))
    assert [(c.field, c.ai_value, c.corrected_value) for c in rows] == [
        ("category", "glass", "theft"),
        ("confidence", 0.9, 0.5),
    ]
    for c in rows:
        assert (c.case_id, c.pilot, c.reason.code, c.note) == (
            escalation.case_id,
            team.pilot,
            "other",
            "Theft, clearly.",
        )
        assert (c.by, c.actor_label, c.at) == (team.reviewer, "Reviewer", DECIDED)
    case = Case.objects.get(pk=escalation.case_id)
    # The override counted its touchpoint and set corrected; its corrections add none.
    assert (case.corrected, case.touchpoints, case.decided_at) == (True, 1, DECIDED)


def test_only_changed_outputs_become_corrections(team):
    prepare(team)
    decision = decide(team, arrive(team, "big"), corrected={"category": "theft", "confidence": "0.9"})
    assert [(f, v) for _, f, _, v, _ in found(decision)] == [("category", "theft")]


@pytest.mark.parametrize("outcome", ["approve", "reject"])
def test_approvals_and_rejections_become_no_corrections(team, outcome):
    prepare(team)
    decide(team, arrive(team, "big"), outcome=outcome, corrected={})
    assert Correction.objects.count() == 0


def test_an_override_of_a_sampled_case_becomes_corrections_and_leaves_decided_at(team):
    prepare(team)
    escalation = arrive(team, "small", amount="100")
    assert escalation.reason == Escalation.Reason.SAMPLED
    decided_at = escalation.case.decided_at
    decision = decide(team, escalation)
    assert len(found(decision)) == 2
    case = Case.objects.get(pk=escalation.case_id)
    assert (case.corrected, case.touchpoints, case.decided_at) == (True, 1, decided_at)


def test_the_hook_runs_in_the_decisions_transaction_a_failure_rolls_the_decision_back(team, monkeypatch):
    prepare(team)
    escalation = arrive(team, "big")

    def broken(decision):
        assert Decision.objects.filter(pk=decision.pk).exists()  # inside the transaction that stores it
        raise RuntimeError("feedback failed")

    monkeypatch.setattr(feedback_outcomes, "corrections_from_decision", broken)
    with pytest.raises(RuntimeError):
        decide(team, escalation)
    assert Decision.objects.count() == 0 and Correction.objects.count() == 0
    escalation.refresh_from_db()
    assert escalation.decided_at is None
    case = Case.objects.get(pk=escalation.case_id)
    assert (case.corrected, case.touchpoints, case.decided_at) == (False, 0, None)


def test_the_hook_again_on_the_same_decision_adds_nothing(team):
    prepare(team)
    decision = decide(team, arrive(team, "big"))
    corrections.corrections_from_decision(Decision.objects.get(pk=decision.pk))
    assert Correction.objects.filter(decision=decision).count() == 2


def test_the_reason_of_an_override_is_other_even_after_other_was_retired(team):
    prepare(team)
    other = next(r for r in taxonomy.ensure_taxonomy(team.pilot) if r.code == "other")
    taxonomy.update_reason(reason=other, label="Other", active=False, actor=team.pm)
    decision = decide(team, arrive(team, "big"))
    assert {code for *_, code in found(decision)} == {"other"}


# --- the backfill of the overrides stored before step 4 ---


@pytest.mark.parametrize("backfill", BACKFILLS.values(), ids=BACKFILLS.keys())
def test_the_backfill_converts_old_overrides_once(team, before_step_4, backfill):
    prepare(team)
    first = decide(team, arrive(team, "a"))
    second = decide(team, arrive(team, "b"), corrected={"category": "theft"})
    decide(team, arrive(team, "c"), outcome="approve", corrected={})
    assert Correction.objects.count() == 0
    backfill()
    assert found() == [
        (first.pk, "category", "glass", "theft", "other"),
        (first.pk, "confidence", 0.9, 0.5, "other"),
        (second.pk, "category", "glass", "theft", "other"),
    ]
    rows = Correction.objects.filter(decision=first)
    assert {(c.note, c.by_id, c.at, c.case_id) for c in rows} == {
        ("Theft, clearly.", team.reviewer.pk, DECIDED, first.case_id)
    }
    again = found()
    backfill()
    assert found() == again  # idempotent
    for case in Case.objects.all():  # the backfill never touches the cases' flags
        assert case.touchpoints == 1


@pytest.mark.parametrize("backfill", BACKFILLS.values(), ids=BACKFILLS.keys())
def test_the_backfill_skips_overrides_that_have_corrections(team, backfill):
    prepare(team)
    kept = decide(team, arrive(team, "a"))
    # Someone classified one of its corrections and the other was removed: the backfill leaves it be.
    classified = Correction.objects.get(decision=kept, field="category")
    corrections.classify(correction=classified, reason_code="wrong_extraction", actor=team.pm)
    Correction.objects.filter(decision=kept, field="confidence").delete()
    lost = decide(team, arrive(team, "b"))
    Correction.objects.filter(decision=lost).delete()
    backfill()
    assert found() == [
        (kept.pk, "category", "glass", "theft", "wrong_extraction"),
        (lost.pk, "category", "glass", "theft", "other"),
        (lost.pk, "confidence", 0.9, 0.5, "other"),
    ]


def test_the_service_backfill_counts_what_it_converted(team, before_step_4):
    prepare(team)
    decide(team, arrive(team, "a"))
    decide(team, arrive(team, "b"), corrected={"category": "theft"})
    assert corrections.backfill_override_corrections() == 3
    assert corrections.backfill_override_corrections() == 0


def test_the_migration_backfill_creates_the_default_taxonomy_of_a_pilot_without_one(team, before_step_4):
    prepare(team)
    decision = decide(team, arrive(team, "a"))
    ReasonCode.objects.filter(pilot=team.pilot).delete()
    run_migration_backfill()
    assert [r.code for r in ReasonCode.objects.filter(pilot=team.pilot)] == [
        "wrong_extraction", "missing_context", "policy_changed", "input_defect", "other",
    ]  # fmt: skip
    assert {code for *_, code in found(decision)} == {"other"}
    run_migration_backfill()
    assert ReasonCode.objects.filter(pilot=team.pilot).count() == 5


@pytest.mark.parametrize("backfill", BACKFILLS.values(), ids=BACKFILLS.keys())
def test_the_backfill_gives_each_pilot_its_own_reason(team, before_step_4, backfill):
    other = factories.PilotFactory(
        workspace=team.workspace, program_manager=team.pm, workflow_owner=team.owner
    )
    prepare(team)
    prepare(team, pilot=other)
    mine = decide(team, arrive(team, "a"))
    theirs = decide(team, arrive(team, "a", pilot=other))
    backfill()
    for decision in (mine, theirs):
        reasons = {c.reason for c in Correction.objects.filter(decision=decision)}
        assert [(r.pilot_id, r.code) for r in reasons] == [(decision.pilot_id, "other")]
        assert {c.pilot_id for c in Correction.objects.filter(decision=decision)} == {decision.pilot_id}
