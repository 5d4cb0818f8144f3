"""Recording a correction directly on a case (feedback.services.corrections.record_correction) and
classifying one: the case's flags follow DESIGN.md "Contracts: Case" through the hub's outcome service,
and every bad input is refused with the field it concerns and nothing changed."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from exceptions.models import Escalation
from exceptions.services import rules
from feedback.models import Correction, ReasonCode
from feedback.services import corrections, taxonomy
from pilots.models import AuditEvent, Case
from pilots.services import intake, outcomes, standards
from pilots.services.intake import Arrival

SPEC = {
    "inputs": [{"name": "amount", "type": "number", "required": True}],
    "outputs": [
        {"name": "category", "type": "enum", "allowed": ["glass", "theft", "fire"]},
        {"name": "confidence", "type": "number"},
        {"name": "items", "type": "integer"},
        {"name": "urgent", "type": "boolean"},
        {"name": "incident_on", "type": "date"},
        {"name": "summary", "type": "string"},
        {"name": "seen_at", "type": "datetime"},
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
AI_OUTPUTS = {
    "category": "glass",
    "confidence": 0.9,
    "items": 2,
    "urgent": False,
    "incident_on": "2026-10-30",
    "summary": "Broken windscreen",
    "seen_at": "2026-11-02T10:00:00+01:00",
}
RECEIVED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def ready(team):
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)
    rules.publish_rules(pilot=team.pilot, rules=TABLE, actor=team.pm)
    return standards.register_ai_version(
        pilot=team.pilot, actor=team.pm, identifier="v1", released_on=date(2026, 10, 1)
    )


def arrive(team, external_id, amount="100", outputs=None):
    intake.ingest(
        pilot=team.pilot,
        arrivals=[
            Arrival(
                external_id=external_id,
                inputs={"amount": amount},
                outputs=AI_OUTPUTS if outputs is None else outputs,
                received_at=RECEIVED.isoformat(),
                outcome={"ai_version": "v1"},
            )
        ],
        source="upload",
        actor=team.pm,
    )
    return Case.objects.get(pilot=team.pilot, external_id=external_id)


def correct(team, case, field="category", value="theft", reason="wrong_extraction", **kwargs):
    actor = kwargs.pop("actor", team.reviewer)
    return corrections.record_correction(
        case=case, field=field, corrected_value=value, reason_code=reason, actor=actor, **kwargs
    )


def state(case):
    """What a refused correction must leave as it was."""
    case.refresh_from_db()
    return {
        "case": (case.corrected, case.touchpoints, case.decided_at, case.outputs),
        "corrections": Correction.objects.count(),
        "audit": AuditEvent.objects.count(),
        "reasons": list(ReasonCode.objects.values_list("code", "active").order_by("id")),
    }


# --- a correction recorded on a case ---


def test_a_correction_keeps_the_ai_value_the_corrected_value_its_reason_and_who(team, ready):
    case = arrive(team, "c1")
    correction = correct(team, case, note="  The photo shows a break-in.  ", now=NOW)
    correction.refresh_from_db()
    assert correction.case == case and correction.pilot == team.pilot
    assert correction.decision is None  # recorded directly, not from an override
    assert (correction.field, correction.ai_value, correction.corrected_value) == (
        "category",
        "glass",
        "theft",
    )
    assert correction.reason.code == "wrong_extraction"
    assert correction.note == "The photo shows a break-in."
    assert correction.ai_version == ready  # the version that produced the value
    assert (correction.by, correction.at) == (team.reviewer, NOW)
    assert correction.actor_label == "Reviewer"
    assert not correction.incorporated and correction.incorporated_target is None


def test_a_correction_sets_corrected_adds_one_touchpoint_and_leaves_decided_at_and_outputs(team, ready):
    case = arrive(team, "c1")
    decided_at = case.decided_at
    assert decided_at == RECEIVED and case.route == Case.Route.AUTOMATED
    correct(team, case, now=NOW)
    case.refresh_from_db()
    assert (case.corrected, case.touchpoints, case.decided_at) == (True, 1, decided_at)
    assert case.outputs == AI_OUTPUTS  # the AI's outputs stay as evidence; the correction holds the fix
    correct(team, case, field="items", value="3", reason="input_defect", now=NOW)
    case.refresh_from_db()
    assert (case.corrected, case.touchpoints, case.decided_at) == (True, 2, decided_at)


def test_a_correction_on_an_undecided_case_does_not_decide_it(team, ready):
    case = arrive(team, "big", amount="20000")
    assert case.route == Case.Route.ESCALATED and case.decided_at is None
    correct(team, case, actor=team.pm)
    case.refresh_from_db()
    assert (case.corrected, case.touchpoints, case.decided_at) == (True, 1, None)
    assert Escalation.objects.get(case=case).decided_at is None  # still waits for its reviewer


def test_a_correction_leaves_the_audit_event_case_corrected(team, ready):
    case = arrive(team, "c1")
    correction = correct(team, case, now=NOW)
    event = AuditEvent.objects.get(action="case.corrected")
    assert (event.pilot, event.actor, event.object_id) == (team.pilot, team.reviewer, str(case.pk))
    assert (event.before["corrected"], event.before["touchpoints"]) == (False, 0)
    assert event.after["decided_at"] == event.before["decided_at"] is not None  # not moved
    assert event.after["kind"] == "correction"
    assert (event.after["corrected"], event.after["touchpoints"]) == (True, 1)
    assert (event.after["correction"], event.after["field"], event.after["reason"]) == (
        correction.pk,
        "category",
        "wrong_extraction",
    )


def test_a_correction_runs_the_outcome_hooks_in_its_transaction(team, ready, monkeypatch):
    seen = []

    class Spy:
        @staticmethod
        def outcome_recorded(*, outcome):
            seen.append(outcome)

    real = outcomes.app_modules
    monkeypatch.setattr(outcomes, "app_modules", lambda name: (*real(name), Spy))
    case = arrive(team, "c1")
    correction = correct(team, case, now=NOW)
    [outcome] = seen
    assert (outcome.kind, outcome.record, outcome.at, outcome.actor) == (
        "correction",
        correction,
        NOW,
        team.reviewer,
    )
    assert (outcome.settled, outcome.corrected) == (False, True)
    assert (outcome.case.pk, outcome.case.touchpoints) == (case.pk, 1)


def test_a_failing_hook_rolls_the_correction_back(team, ready, monkeypatch):
    class Broken:
        @staticmethod
        def outcome_recorded(*, outcome):
            raise RuntimeError("hook failed")

    case = arrive(team, "c1")
    taxonomy.ensure_taxonomy(team.pilot)
    before = state(case)
    monkeypatch.setattr(outcomes, "app_modules", lambda name: (Broken,))
    with pytest.raises(RuntimeError):
        correct(team, case)
    assert state(case) == before


def test_an_output_the_ai_left_empty_can_be_corrected(team, ready):
    case = arrive(team, "c1", outputs={"category": "glass"})
    correction = correct(team, case, field="items", value="4", reason="missing_context")
    assert (correction.ai_value, correction.corrected_value) == (None, 4)


def test_a_date_time_is_corrected_to_another_moment(team, ready):
    correction = correct(team, arrive(team, "c1"), field="seen_at", value="2026-11-02T11:00:00+01:00")
    assert (correction.ai_value, correction.corrected_value) == (
        "2026-11-02T10:00:00+01:00",
        "2026-11-02T11:00:00+01:00",
    )


def test_the_first_correction_creates_the_default_taxonomy(team, ready):
    assert not ReasonCode.objects.filter(pilot=team.pilot).exists()
    correct(team, arrive(team, "c1"), reason="policy_changed")
    assert [r.code for r in ReasonCode.objects.filter(pilot=team.pilot)] == [
        "wrong_extraction",
        "missing_context",
        "policy_changed",
        "input_defect",
        "other",
    ]


# --- bad input: refused with the field it concerns, nothing changed ---


@pytest.mark.parametrize(
    ("field", "value", "reason", "key"),
    [
        # The value must change what the AI gave (compared typed: 0.90 is the AI's 0.9).
        ("category", "glass", "wrong_extraction", "corrected_value"),
        ("confidence", "0.90", "wrong_extraction", "corrected_value"),
        ("items", "2", "wrong_extraction", "corrected_value"),
        ("urgent", "no", "wrong_extraction", "corrected_value"),
        ("incident_on", "2026-10-30", "wrong_extraction", "corrected_value"),
        ("seen_at", "2026-11-02T09:00:00Z", "wrong_extraction", "corrected_value"),  # the same moment
        ("seen_at", "2026-11-02 10:00", "wrong_extraction", "corrected_value"),  # in the workspace's zone
        # The reason must be in the pilot's taxonomy.
        ("category", "theft", "made_up", "reason"),
        ("category", "theft", "", "reason"),
        # The output must be one the standard declares.
        ("colour", "red", "other", "field"),
        ("", "red", "other", "field"),
        # The value must fit the output's type.
        ("category", "flood", "other", "corrected_value"),
        ("confidence", "high", "other", "corrected_value"),
        ("confidence", True, "other", "corrected_value"),
        ("items", "2.5", "other", "corrected_value"),
        ("urgent", "maybe", "other", "corrected_value"),
        ("incident_on", "yesterday", "other", "corrected_value"),
        ("incident_on", None, "other", "corrected_value"),
        ("seen_at", "soon", "other", "corrected_value"),
        # A correction gives a value.
        ("summary", None, "other", "corrected_value"),
        ("summary", "   ", "other", "corrected_value"),
        ("category", "", "other", "corrected_value"),
    ],
)
def test_a_bad_correction_is_refused_and_changes_nothing(team, ready, field, value, reason, key):
    case = arrive(team, "c1")
    taxonomy.ensure_taxonomy(team.pilot)
    before = state(case)
    with pytest.raises(ValidationError) as refused:
        correct(team, case, field=field, value=value, reason=reason)
    assert list(refused.value.message_dict) == [key]
    assert state(case) == before


def test_a_retired_reason_is_refused(team, ready):
    case = arrive(team, "c1")
    [reason] = [r for r in taxonomy.ensure_taxonomy(team.pilot) if r.code == "policy_changed"]
    taxonomy.update_reason(reason=reason, label=reason.label, active=False, actor=team.pm)
    before = state(case)
    with pytest.raises(ValidationError) as refused:
        correct(team, case, reason="policy_changed")
    assert refused.value.message_dict == {"reason": ["Choose a reason from the pilot's taxonomy."]}
    assert state(case) == before


def test_a_reason_of_another_pilot_is_refused(team, ready):
    other = team.pilot.__class__.objects.create(
        workspace=team.workspace, name="Other", problem="x", workflow="y",
        program_manager=team.pm, workflow_owner=team.owner,
    )  # fmt: skip
    taxonomy.add_reason(pilot=other, label="Only elsewhere", actor=team.pm)
    case = arrive(team, "c1")
    with pytest.raises(ValidationError) as refused:
        correct(team, case, reason="only_elsewhere")
    assert "reason" in refused.value.message_dict
    assert Correction.objects.count() == 0


def test_every_problem_is_reported_at_once(team, ready):
    case = arrive(team, "c1")
    with pytest.raises(ValidationError) as refused:
        correct(team, case, field="colour", reason="made_up")
    assert refused.value.message_dict == {
        "field": ["The standard declares no AI output “colour”."],
        "reason": ["Choose a reason from the pilot's taxonomy."],
    }
    with pytest.raises(ValidationError) as refused:
        correct(team, case, value="glass", reason="made_up")
    assert set(refused.value.message_dict) == {"corrected_value", "reason"}
    assert refused.value.message_dict["corrected_value"] == [
        "That is what the AI gave: a correction changes the value."
    ]


def test_a_case_checked_against_no_standard_has_no_output_to_correct(team):
    intake.ingest(
        pilot=team.pilot,
        arrivals=[Arrival(external_id="raw", inputs={"amount": 1}, outputs={"category": "glass"})],
        source="upload",
        actor=team.pm,
    )
    case = Case.objects.get()
    with pytest.raises(ValidationError) as refused:
        correct(team, case)
    assert list(refused.value.message_dict) == ["field"]
    case.refresh_from_db()
    assert (case.corrected, case.touchpoints, Correction.objects.count()) == (False, 0, 0)


# --- classifying a correction (e.g. one that came from an override as "other") ---


def test_classify_gives_a_correction_its_reason_with_an_audit_event(team, ready):
    correction = correct(team, arrive(team, "c1"), reason="other")
    found = corrections.classify(correction=correction, reason_code="input_defect", actor=team.pm)
    assert found.reason.code == "input_defect"
    correction.refresh_from_db()
    assert correction.reason.code == "input_defect"
    event = AuditEvent.objects.get(action="correction.classified")
    assert (event.before, event.after, event.actor) == (
        {"reason": "other"},
        {"reason": "input_defect"},
        team.pm,
    )


def test_classify_to_the_same_reason_changes_nothing(team, ready):
    correction = correct(team, arrive(team, "c1"), reason="other")
    corrections.classify(correction=correction, reason_code="other", actor=team.pm)
    assert not AuditEvent.objects.filter(action="correction.classified").exists()


@pytest.mark.parametrize("code", ["made_up", "input_defect"])
def test_classify_refuses_a_reason_outside_the_taxonomy_or_retired(team, ready, code):
    correction = correct(team, arrive(team, "c1"), reason="other")
    reason = ReasonCode.objects.get(pilot=team.pilot, code="input_defect")
    taxonomy.update_reason(reason=reason, label=reason.label, active=False, actor=team.pm)
    with pytest.raises(ValidationError) as refused:
        corrections.classify(correction=correction, reason_code=code, actor=team.pm)
    assert list(refused.value.message_dict) == ["reason"]
    correction.refresh_from_db()
    assert correction.reason.code == "other"
    assert not AuditEvent.objects.filter(action="correction.classified").exists()


def test_a_correction_made_a_day_later_is_kept_at_its_own_time(team, ready):
    later = NOW + timedelta(days=1)
    correction = correct(team, arrive(team, "c1"), now=later)
    assert Correction.objects.get(pk=correction.pk).at == later
