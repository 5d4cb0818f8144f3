"""The check registry: batch evaluation, "not yet due", attestations, and the ownership checks."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Avg, Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pilots import checks
from pilots.models import AIVersion, Attestation, Case, GateRequest, Membership, Pilot, Stage
from pilots.services import gates as gate_services
from pilots.services import pilots as pilot_services
from tests import factories


@pytest.fixture
def attestable_check():
    """A check registered by the test: data never verifies it, so only an attestation can raise it."""

    @checks.check(
        id="test.attestable",
        section="value",
        title="Test attestable",
        gate="standardize_inputs",
        attestable=True,
    )
    def never_verified(pilot_ids):
        return {
            pid: checks.Result(checks.MISSING, checks.Evidence("no data"), "Do the thing.")
            for pid in pilot_ids
        }

    yield checks.get("test.attestable")
    checks.unregister("test.attestable")


def status(pilot, check_id, gate=None):
    return checks.evaluate([pilot.pk], gate=gate)[pilot.pk][check_id].status


def test_the_four_ownership_checks_are_registered_at_their_gates():
    gates = {c.id: c.gate for c in checks.all_checks() if c.section == "ownership"}
    assert gates == {
        "ownership.named": "define_success",
        "ownership.accountability_accepted": "define_success",
        "ownership.reviewers": "exception_paths",
        "ownership.decisions_timely": "feedback_loops",
    }
    assert not any(checks.get(i).attestable for i in gates)


def test_required_at_a_gate_includes_every_earlier_gate():
    ids = {c.id for c in checks.required_at("exception_paths")}
    assert {"ownership.named", "ownership.accountability_accepted", "ownership.reviewers"} <= ids
    assert "ownership.decisions_timely" not in ids


def test_checks_beyond_the_next_gate_are_not_yet_due(team):
    assert team.pilot.stage == Stage.PROPOSED
    results = checks.evaluate([team.pilot.pk])[team.pilot.pk]
    assert results["ownership.named"].due
    assert results["ownership.reviewers"].status == checks.NOT_DUE
    assert results["ownership.decisions_timely"].label == "not yet due"
    Pilot.objects.filter(pk=team.pilot.pk).update(stage=Stage.PRODUCTION)
    assert all(r.due for r in checks.evaluate([team.pilot.pk])[team.pilot.pk].values())


def test_named_needs_members_who_hold_those_roles(team):
    assert status(team.pilot, "ownership.named") == checks.VERIFIED
    Membership.objects.filter(user=team.owner).update(is_workflow_owner=False, is_reviewer=True)
    result = checks.evaluate([team.pilot.pk])[team.pilot.pk]["ownership.named"]
    assert result.status == checks.MISSING
    assert "Owner is not an active workflow owner" in result.evidence.text
    assert result.next_action


def test_accountability_is_accepted_by_the_current_owner_only(team):
    assert status(team.pilot, "ownership.accountability_accepted") == checks.MISSING
    pilot_services.accept_accountability(pilot=team.pilot, actor=team.owner)
    assert status(team.pilot, "ownership.accountability_accepted") == checks.VERIFIED
    new_owner = factories.member(team.workspace, "workflow_owner", username="new_owner")
    details = pilot_services.PilotDetails(
        name=team.pilot.name,
        problem=team.pilot.problem,
        workflow=team.pilot.workflow,
        program_manager=team.pm,
        workflow_owner=new_owner,
    )
    pilot_services.update_pilot(pilot=team.pilot, actor=team.pm, details=details)
    assert status(team.pilot, "ownership.accountability_accepted") == checks.MISSING


def test_reviewers_are_named_or_the_workspace_pool(team):
    assert status(team.pilot, "ownership.reviewers", gate="exception_paths") == checks.VERIFIED  # the pool
    Membership.objects.filter(user=team.reviewer).update(is_reviewer=False, is_leader=True)
    assert status(team.pilot, "ownership.reviewers", gate="exception_paths") == checks.MISSING
    named = factories.member(team.workspace, "reviewer", username="named")
    team.pilot.reviewers.add(named)
    Membership.objects.filter(user=named).update(is_reviewer=False, is_leader=True)
    assert status(team.pilot, "ownership.reviewers", gate="exception_paths") == checks.VERIFIED


def test_decisions_timely_fails_on_a_request_waiting_more_than_14_days(team):
    gate = "feedback_loops"
    assert status(team.pilot, "ownership.decisions_timely", gate=gate) == checks.VERIFIED
    gate_request = gate_services.request_gate_decision(pilot=team.pilot, actor=team.pm)
    assert status(team.pilot, "ownership.decisions_timely", gate=gate) == checks.VERIFIED
    GateRequest.objects.filter(pk=gate_request.pk).update(created_at=timezone.now() - timedelta(days=15))
    result = checks.evaluate([team.pilot.pk], gate=gate)[team.pilot.pk]["ownership.decisions_timely"]
    assert result.status == checks.MISSING
    assert "1 still waiting" in result.evidence.text


def test_decisions_timely_fails_on_a_decision_taken_late(team):
    gate_request = gate_services.request_gate_decision(pilot=team.pilot, actor=team.pm)
    GateRequest.objects.filter(pk=gate_request.pk).update(created_at=timezone.now() - timedelta(days=20))
    pilot_services.accept_accountability(pilot=team.pilot, actor=team.owner)
    gate_services.decide_gate(gate_request=gate_request, actor=team.owner, outcome="go")
    assert status(team.pilot, "ownership.decisions_timely", gate="feedback_loops") == checks.MISSING


def test_an_attestation_scores_half_until_it_expires(team, attestable_check):
    assert status(team.pilot, "test.attestable", gate="standardize_inputs") == checks.MISSING
    attestation = gate_services.attest_check(
        pilot=team.pilot,
        actor=team.pm,
        check_id="test.attestable",
        note="We checked by hand",
        evidence_url="https://wiki.example.com/evidence",
        expires_on=timezone.localdate() + timedelta(days=30),
    )
    result = checks.evaluate([team.pilot.pk], gate="standardize_inputs")[team.pilot.pk]["test.attestable"]
    assert result.status == checks.ATTESTED
    assert result.passes
    assert "We checked by hand" in result.evidence.text
    assert result.evidence.links[0][1] == "https://wiki.example.com/evidence"
    Attestation.objects.filter(pk=attestation.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    assert status(team.pilot, "test.attestable", gate="standardize_inputs") == checks.MISSING


def test_an_attestation_never_scores_a_full_point(team, attestable_check):
    gate_services.attest_check(
        pilot=team.pilot,
        actor=team.pm,
        check_id="test.attestable",
        note="Vouched",
        evidence_url="https://example.com/e",
        expires_on=timezone.localdate() + timedelta(days=5),
    )
    statuses = {
        r["test.attestable"].status for r in checks.evaluate([team.pilot.pk], gate="production").values()
    }
    assert statuses == {checks.ATTESTED}


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("check_id", {"check_id": "ownership.named"}),
        ("check_id", {"check_id": "no.such.check"}),
        ("note", {"note": "  "}),
        ("evidence_url", {"evidence_url": "javascript:alert(1)"}),
        ("expires_on", {"expires_on": timezone.localdate()}),
        ("expires_on", {"expires_on": timezone.localdate() + timedelta(days=400)}),
    ],
)
def test_a_bad_attestation_is_refused_with_a_field_message(team, attestable_check, field, kwargs):
    from django.core.exceptions import ValidationError

    good = {
        "check_id": "test.attestable",
        "note": "ok",
        "evidence_url": "https://example.com",
        "expires_on": timezone.localdate() + timedelta(days=10),
    }
    with pytest.raises(ValidationError) as error:
        gate_services.attest_check(pilot=team.pilot, actor=team.pm, **(good | kwargs))
    assert field in error.value.message_dict
    assert not Attestation.objects.exists()


def _pilots(team, n):
    return [
        factories.PilotFactory(workspace=team.workspace, program_manager=team.pm, workflow_owner=team.owner)
        for _ in range(n)
    ]


def test_evaluation_takes_the_same_number_of_queries_for_5_and_50_pilots(team, attestable_check):
    few = [p.pk for p in _pilots(team, 5)]
    many = [p.pk for p in _pilots(team, 50)]
    with CaptureQueriesContext(connection) as small:
        checks.evaluate(few)
    with CaptureQueriesContext(connection) as large:
        results = checks.evaluate(many)
    assert len(small) == len(large)
    assert len(results) == 50
    assert all(len(r) == len(checks.all_checks()) for r in results.values())


def test_registering_a_check_twice_or_at_a_bad_gate_is_refused():
    with pytest.raises(ValueError):
        checks.check(id="ownership.named", section="ownership", title="dup", gate="define_success")(
            lambda ids: {}
        )
    with pytest.raises(ValueError):
        checks.check(id="x.y", section="ownership", title="bad", gate="proposed")(lambda ids: {})
    with pytest.raises(ValueError):
        checks.check(id="x.z", section="vibes", title="bad", gate="production")(lambda ids: {})


def test_case_facts_combine_a_pilots_ai_versions(team):
    """The one pass over the cases groups by pilot and AI version; a pilot's figures add its versions'
    counts and take the latest of their maxima, whichever versions have none."""
    now = timezone.now()
    v1 = AIVersion.objects.create(pilot=team.pilot, identifier="v1", released_on=now.date())
    v2 = AIVersion.objects.create(pilot=team.pilot, identifier="v2", released_on=now.date())
    made = [
        (v1, "api", now - timedelta(days=3), now),
        (v1, "upload", now - timedelta(days=1), None),
        (v2, "api", now - timedelta(days=2), now),
        (None, "api", now - timedelta(hours=5), None),
        (None, "upload", now, None),
    ]
    for n, (version, source, received, decided) in enumerate(made):
        Case.objects.create(
            pilot=team.pilot, external_id=f"C-{n}", ai_version=version, source=source,
            received_at=received, decided_at=decided, digest=f"d{n}",
        )  # fmt: skip
    with checks.shared_reads():
        by_version = checks.case_facts_by_version([team.pilot.pk])
        facts = checks.case_facts([team.pilot.pk])[team.pilot.pk]
    assert {key: row["cases"] for key, row in by_version.items()} == {
        (team.pilot.pk, v1.pk): 2, (team.pilot.pk, v2.pk): 1, (team.pilot.pk, None): 2,
    }  # fmt: skip
    assert by_version[(team.pilot.pk, v1.pk)]["learning_decided"] == 1
    assert (facts["cases"], facts["api_total"], facts["learning_decided"]) == (5, 3, 2)
    assert facts["api_last"] == now - timedelta(hours=5)  # the latest API arrival, of the version-less cases


@pytest.mark.parametrize("aggregate", [Avg("touchpoints"), Count("ai_version", distinct=True)])
def test_a_case_count_that_cannot_combine_across_versions_is_refused(team, aggregate):
    refused = pytest.raises(ValueError, match="only Count, Sum, Max and Min")
    with factories.extra_case_counts(uncombinable=aggregate), refused:
        checks.case_facts([team.pilot.pk])
