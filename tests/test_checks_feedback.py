"""The feedback.* checks (DESIGN.md checks table), on data built through the services: each goes from
missing to verified with its evidence and next action, and answers a batch of pilots in fixed queries."""

from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback import learning
from feedback.models import Target
from feedback.services import corrections, incorporation
from pilots import checks
from pilots.models import Case
from pilots.services import intake, standards
from pilots.services.intake import Arrival
from tests import factories

SPEC = {
    "inputs": [{"name": "amount", "type": "number"}],
    "outputs": [
        {"name": "category", "type": "enum", "allowed": ["glass", "theft"]},
        {"name": "confidence", "type": "number"},
    ],
}
CHECK_IDS = ("feedback.corrections_captured", "feedback.incorporated", "feedback.learning_verdict")


def result(pilot, check_id):
    return checks.evaluate([pilot.pk], gate="production")[pilot.pk][check_id]


def corrections_link(pilot, label="Corrections"):
    return (label, f"/pilots/{pilot.pk}/corrections/")


def capture(pilot, n: int, days_ago: int = 0, prefix: str = "c") -> list:
    """`n` corrections recorded `days_ago` days ago, each on a case of its own."""
    if not pilot.standards.exists():
        standards.publish_standard(pilot=pilot, actor=pilot.program_manager, spec=SPEC)
    at = timezone.now() - timedelta(days=days_ago)
    intake.ingest(
        pilot=pilot,
        arrivals=[
            Arrival(
                external_id=f"{prefix}{i}",
                inputs={"amount": 1},
                outputs={"category": "glass", "confidence": 0.9},
                received_at=(at - timedelta(hours=1)).isoformat(),
            )
            for i in range(n)
        ],
        source="upload",
        actor=pilot.program_manager,
    )
    return [
        corrections.record_correction(
            case=case, field="category", corrected_value="theft", reason_code="wrong_extraction",
            actor=pilot.program_manager, now=at,
        )
        for case in Case.objects.filter(pilot=pilot, external_id__startswith=prefix).order_by("id")
    ]  # fmt: skip


def decide_cases(pilot, prefix: str, n: int, corrected: int, version: str, weeks_back: int = 1):
    today = timezone.localdate(timezone.now(), pilot.workspace.zone)
    at = datetime.combine(today - timedelta(weeks=weeks_back), time(12), tzinfo=pilot.workspace.zone)
    intake.ingest(
        pilot=pilot,
        arrivals=[
            Arrival(
                external_id=f"{prefix}-{i}",
                inputs={},
                received_at=(at - timedelta(hours=1)).isoformat(),
                outcome={"decided_at": at.isoformat(), "corrected": i < corrected, "ai_version": version},
            )
            for i in range(n)
        ],
        source="upload",
        actor=pilot.program_manager,
    )


def two_versions(pilot, before: tuple[int, int], after: tuple[int, int]):
    """v1 then v2, each with (decided, corrected) cases."""
    for identifier, released, (n, k) in (("v1", date(2026, 1, 1), before), ("v2", date(2026, 6, 1), after)):
        standards.register_ai_version(
            pilot=pilot, actor=pilot.program_manager, identifier=identifier, released_on=released
        )
        decide_cases(pilot, identifier, n, k, identifier)


def test_the_checks_are_registered_as_the_design_says():
    found = {
        c.id: (c.section, c.gate, c.attestable) for c in checks.all_checks() if c.id.startswith("feedback.")
    }
    assert found == {
        "feedback.corrections_captured": ("learning", "production", False),
        "feedback.incorporated": ("learning", "production", False),
        "feedback.learning_verdict": ("learning", "production", False),
    }


def test_the_feedback_checks_are_not_due_before_the_production_gate(team):
    found = checks.evaluate([team.pilot.pk])[team.pilot.pk]
    assert {found[c].status for c in CHECK_IDS} == {checks.NOT_DUE}


# --- feedback.corrections_captured ---


def test_corrections_captured_without_corrections(team):
    found = result(team.pilot, "feedback.corrections_captured")
    assert found.status == checks.MISSING
    assert found.evidence.text == "0 correction(s) captured."
    assert found.evidence.links == (corrections_link(team.pilot),)
    assert found.next_action == (
        "Capture 20 more correction(s): record them on cases, or override in the review queue."
    )


def test_corrections_captured_needs_twenty(team):
    capture(team.pilot, 19)
    found = result(team.pilot, "feedback.corrections_captured")
    assert (found.status, found.evidence.text) == (checks.MISSING, "19 correction(s) captured.")
    assert found.next_action.startswith("Capture 1 more correction(s)")
    capture(team.pilot, 1, prefix="last")
    found = result(team.pilot, "feedback.corrections_captured")
    assert (found.status, found.evidence.text, found.next_action) == (
        checks.VERIFIED,
        "20 correction(s) captured.",
        "",
    )


def test_corrections_captured_counts_only_the_pilots_own(team):
    other = factories.PilotFactory(
        workspace=team.workspace, program_manager=team.pm, workflow_owner=team.owner
    )
    capture(other, 20)
    assert result(team.pilot, "feedback.corrections_captured").status == checks.MISSING
    assert result(other, "feedback.corrections_captured").status == checks.VERIFIED


# --- feedback.incorporated ---


def test_incorporated_without_corrections_older_than_30_days(team):
    capture(team.pilot, 5, days_ago=29)  # recent: not yet expected to be incorporated
    found = result(team.pilot, "feedback.incorporated")
    assert found.status == checks.MISSING
    assert found.evidence.text == "No correction is older than 30 days yet."
    assert found.evidence.links == (corrections_link(team.pilot, "Unincorporated backlog"),)
    assert found.next_action == "Keep capturing corrections; incorporate them within 30 days."


def incorporate(pilot, found, into=Target.REGRESSION_SET):
    incorporation.incorporate(
        pilot=pilot,
        correction_ids=[c.pk for c in found],
        into=into,
        target_id=None,
        actor=pilot.program_manager,
    )


def test_incorporated_below_eighty_percent(team):
    old = capture(team.pilot, 5, days_ago=40)
    incorporate(team.pilot, old[:3])
    found = result(team.pilot, "feedback.incorporated")
    assert found.status == checks.MISSING
    assert found.evidence.text == "3 of 5 corrections older than 30 days incorporated (60%)."
    assert found.next_action == "Incorporate the backlog (AI version, standard, rules or regression set)."


def test_incorporated_verified_at_eighty_percent_of_the_old_ones(team):
    old = capture(team.pilot, 5, days_ago=40)
    capture(team.pilot, 10, days_ago=2, prefix="new")  # recent and unincorporated: not counted
    incorporate(team.pilot, old[:4])
    found = result(team.pilot, "feedback.incorporated")
    assert (found.status, found.next_action) == (checks.VERIFIED, "")
    assert found.evidence.text == "4 of 5 corrections older than 30 days incorporated (80%)."


# --- feedback.learning_verdict ---


def learning_link(pilot):
    return ("Learning", f"/pilots/{pilot.pk}/learning/")


def test_learning_verdict_without_decided_cases(team):
    found = result(team.pilot, "feedback.learning_verdict")
    assert found.status == checks.MISSING
    assert found.evidence.text == "Not enough data. Fewer than 30 decided cases to compare."
    assert found.evidence.links == (learning_link(team.pilot),)
    assert found.next_action == f"Decide at least {learning.MIN_CASES} cases on each side of the comparison."


def test_learning_verdict_with_too_few_cases(team):
    two_versions(team.pilot, (20, 10), (20, 0))
    found = result(team.pilot, "feedback.learning_verdict")
    assert found.status == checks.MISSING
    assert found.evidence.text.startswith("Not enough data. Each side needs at least 30 decided cases")


def test_learning_verdict_verified_when_improving(team):
    two_versions(team.pilot, (400, 80), (400, 20))
    found = result(team.pilot, "feedback.learning_verdict")
    assert (found.status, found.next_action) == (checks.VERIFIED, "")
    assert found.evidence.text.startswith("Improving. v2: 5.0% of 400")


def test_learning_verdict_verified_when_flat_at_or_under_the_acceptable_rate(team):
    two_versions(team.pilot, (100, 6), (100, 5))  # flat, and the latest rate is exactly the default 5%
    found = result(team.pilot, "feedback.learning_verdict")
    assert found.status == checks.VERIFIED
    assert found.evidence.text.startswith("Flat. ")
    assert found.evidence.text.endswith("Flat at or under the acceptable rate (5.0%).")


def test_learning_verdict_missing_when_flat_above_the_acceptable_rate(team):
    two_versions(team.pilot, (100, 20), (100, 18))
    found = result(team.pilot, "feedback.learning_verdict")
    assert found.status == checks.MISSING
    assert found.evidence.text.startswith("Flat. ")
    assert found.evidence.text.endswith("The acceptable correction rate is 5.0%.")
    assert found.next_action == "Incorporate corrections into a new AI version and show the rate falling."
    # The program manager decides 20% is good enough for this workflow.
    standards.set_acceptable_correction_rate(pilot=team.pilot, actor=team.pm, rate=0.2)
    found = result(team.pilot, "feedback.learning_verdict")
    assert found.status == checks.VERIFIED
    assert found.evidence.text.endswith("Flat at or under the acceptable rate (20.0%).")


def test_learning_verdict_missing_when_worse_even_under_the_acceptable_rate(team):
    standards.set_acceptable_correction_rate(pilot=team.pilot, actor=team.pm, rate=0.5)
    two_versions(team.pilot, (400, 20), (400, 80))
    found = result(team.pilot, "feedback.learning_verdict")
    assert found.status == checks.MISSING
    assert found.evidence.text.startswith("Worse. ")


# --- a batch of pilots in a fixed number of queries ---


def busy_pilot(team, n: int):
    pilot = factories.PilotFactory(
        workspace=team.workspace, program_manager=team.pm, workflow_owner=team.owner
    )
    incorporate(pilot, capture(pilot, 3, days_ago=40)[:2])
    two_versions(pilot, (60, 20 + n), (60, 2))
    return pilot


@pytest.mark.parametrize("check_id", CHECK_IDS)
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
