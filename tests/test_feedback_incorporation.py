"""Incorporating corrections (feedback.services.incorporation.incorporate) into each kind of target, the
refusals that change nothing, and the regression set the pilot's AI team tests the next version against:
its entries, and its JSON Lines export that round-trips."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from exceptions.services import rules
from feedback.models import Correction, Target
from feedback.services import corrections, incorporation
from pilots.models import AuditEvent, Case
from pilots.services import intake, standards
from pilots.services.intake import Arrival
from tests import factories

SPEC = {
    "inputs": [{"name": "amount", "type": "number", "required": True}],
    "outputs": [
        {"name": "category", "type": "enum", "allowed": ["glass", "theft", "fire"]},
        {"name": "confidence", "type": "number"},
    ],
}
TABLE = [{"clauses": [], "action": "automate"}]
RECEIVED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
AT = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
INCORPORATED = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)


class Setup:
    """A pilot with a standard, a rule table and an AI version: one target of each kind."""

    def __init__(self, team, pilot):
        self.team, self.pilot = team, pilot
        self.standard = standards.publish_standard(pilot=pilot, actor=team.pm, spec=SPEC)
        self.rules = rules.publish_rules(pilot=pilot, rules=TABLE, actor=team.pm).table
        self.version = standards.register_ai_version(
            pilot=pilot, actor=team.pm, identifier="v2", released_on=date(2026, 11, 5)
        )

    def target(self, into):
        return {
            Target.AI_VERSION: self.version,
            Target.STANDARD: self.standard,
            Target.RULES: self.rules,
            Target.REGRESSION_SET: None,
        }[into]

    def case(self, external_id, amount=100, outputs=None):
        intake.ingest(
            pilot=self.pilot,
            arrivals=[
                Arrival(
                    external_id=external_id,
                    inputs={"amount": amount},
                    outputs=outputs or {"category": "glass", "confidence": 0.9},
                    received_at=RECEIVED.isoformat(),
                )
            ],
            source="upload",
            actor=self.team.pm,
        )
        return Case.objects.get(pilot=self.pilot, external_id=external_id)

    def correct(self, case, field="category", value="theft", reason="wrong_extraction", at=AT):
        return corrections.record_correction(
            case=case, field=field, corrected_value=value, reason_code=reason, actor=self.team.pm, now=at
        )

    def corrections(self, n):
        return [self.correct(self.case(f"c{i}")) for i in range(n)]


@pytest.fixture
def mine(team):
    return Setup(team, team.pilot)


@pytest.fixture
def theirs(team):
    """Another pilot of the same workspace: its targets and corrections are not ours."""
    pilot = factories.PilotFactory(
        workspace=team.workspace, program_manager=team.pm, workflow_owner=team.owner
    )
    return Setup(team, pilot)


def incorporate(mine, found, into, target_id="own", now=INCORPORATED, **kwargs):
    if target_id == "own":
        target = mine.target(into)
        target_id = target.pk if target else None
    return incorporation.incorporate(
        pilot=mine.pilot,
        correction_ids=[c.pk for c in found],
        into=into,
        target_id=target_id,
        actor=kwargs.get("actor", mine.team.pm),
        now=now,
    )


def snapshot():
    return (
        list(
            Correction.objects.order_by("id").values_list(
                "incorporated_into", "into_ai_version", "into_standard", "into_rules", "incorporated_at",
                "incorporated_by",
            )
        ),
        AuditEvent.objects.filter(action="corrections.incorporated").count(),
    )  # fmt: skip


# --- incorporation into each kind of target ---


@pytest.mark.parametrize("into", Target.values)
def test_corrections_are_marked_incorporated_into_each_kind_of_target(team, mine, into):
    found = mine.corrections(2)
    assert incorporate(mine, found, into) == 2
    for correction in Correction.objects.all():
        assert correction.incorporated and correction.incorporated_into == into
        assert correction.incorporated_target == mine.target(into)
        assert (correction.incorporated_at, correction.incorporated_by) == (INCORPORATED, team.pm)
        # Only the field of its own kind names a target.
        named = {
            Target.AI_VERSION: correction.into_ai_version,
            Target.STANDARD: correction.into_standard,
            Target.RULES: correction.into_rules,
        }
        assert {k: v for k, v in named.items() if v is not None} == (
            {} if into == Target.REGRESSION_SET else {into: mine.target(into)}
        )
    event = AuditEvent.objects.get(action="corrections.incorporated")
    assert (event.pilot, event.actor) == (mine.pilot, team.pm)
    assert event.after == {
        "into": into,
        "target": str(mine.target(into)) if into != Target.REGRESSION_SET else "regression set",
        "corrections": 2,
    }


def test_incorporated_corrections_keep_their_first_incorporation(team, mine):
    found = mine.corrections(3)
    assert incorporate(mine, found[:2], Target.REGRESSION_SET) == 2
    later = INCORPORATED + timedelta(days=3)
    assert incorporate(mine, found, Target.AI_VERSION, now=later, actor=team.admin) == 1  # only the third
    first = {c.pk: c for c in Correction.objects.all()}
    for c in found[:2]:
        kept = first[c.pk]
        assert (kept.incorporated_into, kept.into_ai_version, kept.incorporated_at, kept.incorporated_by) == (
            Target.REGRESSION_SET, None, INCORPORATED, team.pm,
        )  # fmt: skip
    third = first[found[2].pk]
    assert (third.incorporated_into, third.into_ai_version, third.incorporated_at, third.incorporated_by) == (
        Target.AI_VERSION, mine.version, later, team.admin,
    )  # fmt: skip


def test_incorporating_only_incorporated_corrections_again_marks_none_and_leaves_no_event(team, mine):
    found = mine.corrections(2)
    incorporate(mine, found, Target.STANDARD)
    assert incorporate(mine, found, Target.STANDARD) == 0
    assert AuditEvent.objects.filter(action="corrections.incorporated").count() == 1


def test_duplicate_ids_count_once(team, mine):
    [correction] = mine.corrections(1)
    assert incorporation.incorporate(
        pilot=mine.pilot, correction_ids=[correction.pk, correction.pk, str(correction.pk)],
        into=Target.REGRESSION_SET, target_id=None, actor=team.pm,
    ) == 1  # fmt: skip


# --- refusals: a clear message, nothing changed ---


@pytest.mark.parametrize("into", [Target.AI_VERSION, Target.STANDARD, Target.RULES])
def test_a_target_of_another_pilot_is_refused(team, mine, theirs, into):
    found = mine.corrections(2)
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        incorporate(mine, found, into, target_id=theirs.target(into).pk)
    assert refused.value.message_dict == {"target": [f"Choose {Target(into).label.lower()} of this pilot."]}
    assert snapshot() == before


@pytest.mark.parametrize("into", [Target.AI_VERSION, Target.STANDARD, Target.RULES])
@pytest.mark.parametrize("target_id", [None, 0, 999999, "", "v2", "1; drop"])
def test_a_missing_or_unknown_target_is_refused(team, mine, into, target_id):
    found = mine.corrections(1)
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        incorporate(mine, found, into, target_id=target_id)
    assert list(refused.value.message_dict) == ["target"]
    assert snapshot() == before


@pytest.mark.parametrize("into", ["", "elsewhere", None])
def test_an_unknown_kind_of_target_is_refused(team, mine, into):
    found = mine.corrections(1)
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        incorporate(mine, found, into, target_id=None)
    assert list(refused.value.message_dict) == ["into"]
    assert snapshot() == before


def test_corrections_of_another_pilot_are_refused_even_among_our_own(team, mine, theirs):
    ours = mine.corrections(2)
    foreign = theirs.correct(theirs.case("x"))
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        incorporate(mine, [*ours, foreign], Target.REGRESSION_SET)
    assert refused.value.message_dict == {"corrections": ["Some of these corrections are not this pilot's."]}
    assert snapshot() == before


@pytest.mark.parametrize("ids", [[], [999999], ["abc"], [None], ["1.5"]])
def test_no_or_unknown_or_malformed_correction_ids_are_refused(team, mine, ids):
    mine.corrections(1)
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        incorporation.incorporate(
            pilot=mine.pilot, correction_ids=ids, into=Target.REGRESSION_SET, target_id=None, actor=team.pm
        )
    assert list(refused.value.message_dict) == ["corrections"]
    assert snapshot() == before


def test_too_many_corrections_at_once_are_refused(team, mine):
    with pytest.raises(ValidationError) as refused:
        incorporation.incorporate(
            pilot=mine.pilot, correction_ids=list(range(1, incorporation.MAX_AT_ONCE + 2)),
            into=Target.REGRESSION_SET, target_id=None, actor=team.pm,
        )  # fmt: skip
    assert list(refused.value.message_dict) == ["corrections"]


# --- the regression set ---


def test_the_regression_set_holds_only_corrections_incorporated_into_it(team, mine):
    first, second, third = mine.corrections(3)
    incorporate(mine, [first, third], Target.REGRESSION_SET)
    incorporate(mine, [second], Target.AI_VERSION)
    assert list(incorporation.regression_set(mine.pilot)) == [first, third]
    assert [e["external_id"] for e in incorporation.regression_cases(mine.pilot)] == ["c0", "c2"]


def test_a_case_is_one_entry_with_every_correction_applied_and_its_reasons(team, mine):
    case = mine.case("c1")
    mine.correct(case, reason="wrong_extraction")
    mine.correct(case, field="confidence", value="0.4", reason="missing_context")
    mine.correct(case, field="confidence", value="0.3", reason="wrong_extraction")
    incorporate(mine, Correction.objects.all(), Target.REGRESSION_SET)
    assert list(incorporation.regression_cases(mine.pilot)) == [
        {
            "external_id": "c1",
            "inputs": {"amount": 100},
            "ai_outputs": {"category": "glass", "confidence": 0.9},
            "corrected_outputs": {"category": "theft", "confidence": 0.3},
            "reasons": ["wrong_extraction", "missing_context"],
        }
    ]


def test_the_latest_correction_of_a_field_wins(team, mine):
    case = mine.case("c1")
    # Recorded in this order, but the second was made earlier (e.g. an override converted by the backfill).
    mine.correct(case, value="fire", at=AT + timedelta(hours=2))
    mine.correct(case, value="theft", at=AT)
    incorporate(mine, Correction.objects.all(), Target.REGRESSION_SET)
    [entry] = incorporation.regression_cases(mine.pilot)
    assert entry["corrected_outputs"]["category"] == "fire"


def test_the_jsonl_export_round_trips(team, mine):
    for i, (inputs, value) in enumerate([(100, "theft"), (250.5, "fire"), (7, "theft")]):
        case = mine.case(
            f"c{i}", amount=inputs, outputs={"category": "glass", "confidence": 0.75, "ünïcode": "é"}
        )
        mine.correct(case, value=value)
        if i == 1:
            mine.correct(case, field="confidence", value="0.1", reason="input_defect")
    incorporate(mine, Correction.objects.all(), Target.REGRESSION_SET)
    expected = list(incorporation.regression_cases(mine.pilot))
    lines = list(incorporation.jsonl_lines(mine.pilot))
    assert len(lines) == len(expected) == 3
    assert all(line.endswith("\n") and "\n" not in line[:-1] for line in lines)
    assert [json.loads(line) for line in lines] == expected
    assert expected[1]["corrected_outputs"] == {"category": "fire", "confidence": 0.1, "ünïcode": "é"}


def test_an_empty_regression_set_exports_no_line(team, mine):
    mine.corrections(1)
    assert list(incorporation.jsonl_lines(mine.pilot)) == []


def test_each_export_leaves_an_audit_event(team, mine):
    incorporate(mine, mine.corrections(2), Target.REGRESSION_SET)
    incorporation.record_export(pilot=mine.pilot, actor=team.pm, file_format="jsonl")
    incorporation.record_export(pilot=mine.pilot, actor=team.leader, file_format="csv")
    events = AuditEvent.objects.filter(action="regression_set.exported").order_by("id")
    assert [(e.actor, e.pilot, e.after) for e in events] == [
        (team.pm, mine.pilot, {"format": "jsonl", "corrections": 2}),
        (team.leader, mine.pilot, {"format": "csv", "corrections": 2}),
    ]
