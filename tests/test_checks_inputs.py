"""The inputs.* checks (DESIGN.md checks table), on hand-built pilots."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pilots import checks
from pilots.models import Case
from pilots.services import intake, standards
from pilots.services.intake import Arrival

SPEC = {
    "inputs": [
        {"name": "amount", "type": "number", "required": True, "min": 0},
        {"name": "start", "type": "date", "required": True},
        {"name": "end", "type": "date", "required": True},
        {"name": "at", "type": "datetime", "required": True},
    ],
    "rules": [{"kind": "compare", "left": "end", "op": ">=", "right": "start"}],
    "event_time_field": "at",
    "max_lateness_hours": 24,
}


def result(pilot, check_id):
    return checks.evaluate([pilot.pk], gate="production")[pilot.pk][check_id]


def cases(team, n, *, bad=0, contradictory=0, late=0, days_ago=1):
    received = timezone.now() - timedelta(days=days_ago)
    arrivals = []
    for i in range(n):
        at = received - timedelta(hours=30 if i < late else 1)
        inputs = {
            "amount": -1 if i < bad else 10,
            "start": "2026-01-02",
            "end": "2026-01-01" if i < contradictory else "2026-01-03",
            "at": at.isoformat(),
        }
        arrivals.append(
            Arrival(external_id=f"{days_ago}-{i}", inputs=inputs, received_at=received.isoformat())
        )
    intake.ingest(pilot=team.pilot, arrivals=arrivals, source="upload", actor=team.pm)


@pytest.fixture
def standard(team):
    return standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)


def test_inputs_standard_needs_a_standard_with_required_fields_and_50_validated_cases(team):
    assert result(team.pilot, "inputs.standard").status == checks.MISSING
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec=SPEC)
    cases(team, 49)
    missing = result(team.pilot, "inputs.standard")
    assert missing.status == checks.MISSING and "49 case(s)" in missing.evidence.text
    cases(team, 1, days_ago=2)
    assert result(team.pilot, "inputs.standard").status == checks.VERIFIED


def test_inputs_standard_counts_only_the_last_30_days(team, standard):
    cases(team, 60, days_ago=40)
    assert result(team.pilot, "inputs.standard").status == checks.MISSING


def test_edge_rules_need_rules_that_fired(team, standard):
    cases(team, 10)
    first = result(team.pilot, "inputs.edge_rules")
    assert first.status == checks.MISSING and "caught 0 contradictory and 0 late" in first.evidence.text
    cases(team, 5, contradictory=1, late=1, days_ago=3)
    assert result(team.pilot, "inputs.edge_rules").status == checks.VERIFIED


def test_edge_rules_without_a_lateness_limit(team):
    standards.publish_standard(
        pilot=team.pilot, actor=team.pm, spec={**SPEC, "event_time_field": "", "max_lateness_hours": None}
    )
    missing = result(team.pilot, "inputs.edge_rules")
    assert "no a lateness limit" not in missing.evidence.text
    assert "lateness limit" in missing.evidence.text


def test_conformance_against_the_pilots_threshold(team, standard):
    cases(team, 100, bad=4)
    passing = result(team.pilot, "inputs.conformance")
    assert passing.status == checks.VERIFIED and "96.0% of 100 cases" in passing.evidence.text
    updated = standards.set_conformance_threshold(pilot=team.pilot, actor=team.pm, threshold=0.97)
    assert updated.conformance_threshold == 0.97
    assert result(team.pilot, "inputs.conformance").status == checks.MISSING


def test_conformance_with_no_recent_cases(team, standard):
    assert result(team.pilot, "inputs.conformance").evidence.text == "No cases arrived in the last 30 days."


def test_the_attestable_inputs_checks_can_be_attested(team, standard):
    from pilots.services import gates

    gates.attest_check(
        pilot=team.pilot,
        actor=team.pm,
        check_id="inputs.standard",
        note="Checked in SAP",
        evidence_url="https://example.com/x",
        expires_on=timezone.localdate() + timedelta(days=9),
    )
    assert result(team.pilot, "inputs.standard").status == checks.ATTESTED
    assert not checks.get("inputs.conformance").attestable


def test_threshold_bounds(team):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        standards.set_conformance_threshold(pilot=team.pilot, actor=team.pm, threshold=1.2)
    assert Case.objects.count() == 0


def test_a_standards_json_is_read_once_per_version_and_a_new_version_is_seen(team, standard):
    """Standards are never edited: a version's summary is kept for the process, and a new version (a new
    row) is read afresh."""
    cases(team, 50)
    assert "Standard v1 (4 required fields)" in result(team.pilot, "inputs.standard").evidence.text
    with CaptureQueriesContext(connection) as ctx:
        again = result(team.pilot, "inputs.standard")
    assert "Standard v1 (4 required fields)" in again.evidence.text
    standard_reads = [q["sql"] for q in ctx.captured_queries if "pilots_inputstandard" in q["sql"]]
    assert standard_reads and not any('"rules"' in sql for sql in standard_reads)
    one_required = {**SPEC, "inputs": [{**f, "required": f["name"] == "amount"} for f in SPEC["inputs"]]}
    standards.publish_standard(pilot=team.pilot, actor=team.pm, spec={**one_required, "rules": []})
    newer = result(team.pilot, "inputs.standard")
    assert "Standard v2 (1 required fields)" in newer.evidence.text
    assert "no cross-field rule" in result(team.pilot, "inputs.edge_rules").evidence.text
