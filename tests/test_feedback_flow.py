"""Step 4 through the services: corrections on a case and from an override, incorporation, the regression
set, and the learning verdict."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from exceptions.models import Escalation
from exceptions.services import queue, rules
from feedback import learning
from feedback.models import Correction, Target
from feedback.services import corrections, incorporation
from pilots.models import Case
from pilots.services import intake, standards
from pilots.services.intake import Arrival

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
    {"clauses": [], "action": "automate"},
]
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def ready(team):
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)
    rules.publish_rules(pilot=team.pilot, rules=TABLE, actor=team.pm)


def ingest(team, external_id, amount="100", received=NOW):
    intake.ingest(
        pilot=team.pilot,
        arrivals=[
            Arrival(
                external_id=external_id,
                inputs={"amount": amount},
                outputs={"category": "glass", "confidence": 0.9},
                received_at=received.isoformat(),
            )
        ],
        source="upload",
        actor=team.pm,
    )
    return Case.objects.get(external_id=external_id)


def test_a_correction_on_a_case_sets_corrected_and_adds_a_touchpoint(team, ready):
    case = ingest(team, "c1")
    correction = corrections.record_correction(
        case=case,
        field="category",
        corrected_value="theft",
        reason_code="wrong_extraction",
        actor=team.reviewer,
    )
    case.refresh_from_db()
    assert (case.corrected, case.touchpoints) == (True, 1)
    assert (correction.ai_value, correction.corrected_value) == ("glass", "theft")


@pytest.mark.parametrize(
    ("field", "value", "reason", "error"),
    [
        ("category", "glass", "wrong_extraction", "corrected_value"),
        ("category", "theft", "made_up", "reason"),
        ("colour", "red", "other", "field"),
        ("confidence", "high", "other", "corrected_value"),
    ],
)
def test_bad_corrections_are_refused_and_change_nothing(team, ready, field, value, reason, error):
    case = ingest(team, "c1")
    with pytest.raises(ValidationError) as refused:
        corrections.record_correction(
            case=case, field=field, corrected_value=value, reason_code=reason, actor=team.pm
        )
    assert error in refused.value.message_dict
    case.refresh_from_db()
    assert (case.corrected, case.touchpoints, Correction.objects.count()) == (False, 0, 0)


def test_an_override_becomes_corrections_exactly_once(team, ready):
    ingest(team, "big", amount="20000")
    escalation = Escalation.objects.get()
    decision = queue.decide(
        escalation_id=escalation.pk,
        reviewer=team.reviewer,
        outcome="override",
        rationale="Theft, clearly.",
        corrected_outputs={"category": "theft", "confidence": "0.5"},
    )
    found = Correction.objects.filter(decision=decision).order_by("field")
    assert [(c.field, c.corrected_value, c.reason.code, c.note) for c in found] == [
        ("category", "theft", "other", "Theft, clearly."),
        ("confidence", 0.5, "other", "Theft, clearly."),
    ]
    assert corrections.backfill_override_corrections() == 0
    Correction.objects.all().delete()
    assert corrections.backfill_override_corrections() == 2
    assert corrections.backfill_override_corrections() == 0
    case = Case.objects.get()
    assert case.touchpoints == 1  # the override's; its corrections add none


def test_incorporation_and_the_regression_set(team, ready):
    case = ingest(team, "c1")
    correction = corrections.record_correction(
        case=case, field="category", corrected_value="theft", reason_code="wrong_extraction", actor=team.pm
    )
    other_pilot_version = standards.register_ai_version(
        pilot=team.pilot.__class__.objects.create(
            workspace=team.other_workspace,
            name="Elsewhere",
            problem="x",
            workflow="y",
            program_manager=team.outsider,
            workflow_owner=team.outsider,
        ),
        actor=team.outsider,
        identifier="v9",
        released_on=date(2026, 1, 1),
    )
    with pytest.raises(ValidationError):
        incorporation.incorporate(
            pilot=team.pilot,
            correction_ids=[correction.pk],
            into=Target.AI_VERSION,
            target_id=other_pilot_version.pk,
            actor=team.pm,
        )
    assert (
        incorporation.incorporate(
            pilot=team.pilot,
            correction_ids=[correction.pk],
            into=Target.REGRESSION_SET,
            target_id=None,
            actor=team.pm,
        )
        == 1
    )
    entries = list(incorporation.regression_cases(team.pilot))
    assert entries == [
        {
            "external_id": "c1",
            "inputs": {"amount": 100},
            "ai_outputs": {"category": "glass", "confidence": 0.9},
            "corrected_outputs": {"category": "theft", "confidence": 0.9},
            "reasons": ["wrong_extraction"],
        }
    ]


def test_the_verdict_needs_enough_cases_and_separated_intervals():
    few = learning.Rate("a", 10, 5)
    assert learning.judge(few, learning.Rate("b", 10, 0), "versions").kind == learning.NOT_ENOUGH
    before, after = learning.Rate("v1", 400, 80), learning.Rate("v2", 400, 20)
    assert learning.judge(before, after, "versions").kind == learning.IMPROVING
    assert learning.judge(after, before, "versions").kind == learning.WORSE
    assert (
        learning.judge(learning.Rate("v1", 100, 10), learning.Rate("v2", 100, 8), "versions").kind
        == learning.FLAT
    )


def test_weekly_rates_and_the_batch_verdict(team, ready):
    for i in range(40):
        case = ingest(team, f"c{i}", received=NOW - timedelta(days=10))
        if i < 4:
            corrections.record_correction(
                case=case, field="category", corrected_value="theft", reason_code="other", actor=team.pm
            )
    weeks = learning.weekly(team.pilot, now=NOW)
    assert sum(w.decided for w in weeks) == 40 and sum(w.corrected for w in weeks) == 4
    found = learning.verdicts([team.pilot.pk])[team.pilot.pk]
    assert found[0].kind in (learning.NOT_ENOUGH, learning.FLAT)
