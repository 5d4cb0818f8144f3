"""The workflow owner decides a gate: go, conditional go, hold, recycle, stop."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from pilots import checks
from pilots.models import GateCondition, GateDecision, GateRequest, Pilot
from pilots.services import gates as gate_services
from tests import factories
from tests.views.conftest import HTMX, actions, is_partial

DUE = (timezone.localdate() + timedelta(days=30)).isoformat()


def url(request) -> str:
    return reverse("gate_decide", args=[request.pilot_id, request.pk])


def decide(client, request, **data):
    return client.post(url(request), data, headers=HTMX)


def pending_at(team, stage: str) -> GateRequest:
    """A request for the gate after `stage`, for the team's pilot moved there."""
    Pilot.objects.filter(pk=team.pilot.pk).update(stage=stage)
    return gate_services.request_gate_decision(pilot=team.pilot, actor=team.pm)


# Go


def test_go_is_refused_while_the_owner_has_not_accepted_accountability(team, client_for, pending):
    response = decide(client_for(team.owner), pending, outcome="go")
    assert response.status_code == 422
    assert is_partial(response)
    body = response.content.decode()
    assert "Go refused" in body
    assert "Workflow owner accepted accountability" in body
    assert "HX-Trigger" not in response.headers
    assert not GateDecision.objects.exists()
    pending.refresh_from_db()
    assert pending.state == "pending"
    team.pilot.refresh_from_db()
    assert team.pilot.stage == "proposed"
    assert actions(pilot=team.pilot) == ["gate.requested"]


def test_a_refused_plain_post_shows_the_whole_page(team, client_for, pending):
    response = client_for(team.owner).post(url(pending), {"outcome": "go"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "<html" in body
    assert "Go refused" in body


def test_go_moves_the_pilot_once_accountability_is_accepted(team, client_for, pending, accepted):
    response = decide(client_for(team.owner), pending, outcome="go", comment="Well argued")
    assert response.status_code == 200
    assert "gateDecided" in response.headers["HX-Trigger"]
    assert is_partial(response)
    team.pilot.refresh_from_db()
    assert team.pilot.stage == "define_success"
    assert team.pilot.status == "active"
    assert team.pilot.started_on == timezone.localdate(timezone=team.workspace.zone)  # the workspace's day
    decision = GateDecision.objects.get()
    assert (decision.outcome, decision.decided_by, decision.comment) == ("go", team.owner, "Well argued")
    pending.refresh_from_db()
    assert pending.state == "decided"
    assert actions(pilot=team.pilot)[-1] == "gate.decided.go"


def test_a_plain_post_redirects_to_the_pilot(team, client_for, pending, accepted):
    response = client_for(team.owner).post(url(pending), {"outcome": "go"})
    assert response.status_code == 302
    assert response.url == reverse("pilot_detail", args=[team.pilot.pk])


def test_the_decision_keeps_the_evidence_of_every_required_check(team, client_for, pending, accepted):
    decide(client_for(team.owner), pending, outcome="go")
    evidence = GateDecision.objects.get().evidence
    assert evidence["gate"] == "define_success"
    required = [c.id for c in checks.required_at("define_success")]
    assert "ownership.accountability_accepted" in required
    assert [c["id"] for c in evidence["checks"]] == required
    accepted_check = next(c for c in evidence["checks"] if c["id"] == "ownership.accountability_accepted")
    assert accepted_check["status"] == 1.0
    assert accepted_check["evidence"]["text"]


def test_forged_decider_stage_and_status_are_ignored(team, client_for, pending, accepted):
    forged = {
        "outcome": "go",
        "decided_by": team.admin.pk,
        "requested_by": team.admin.pk,
        "stage": "production",
        "status": "stopped",
        "evidence": "{}",
    }
    assert decide(client_for(team.owner), pending, **forged).status_code == 200
    decision = GateDecision.objects.get()
    assert decision.decided_by == team.owner
    assert decision.request.requested_by == team.pm
    assert decision.evidence["checks"]
    team.pilot.refresh_from_db()
    assert (team.pilot.stage, team.pilot.status) == ("define_success", "active")


def test_a_second_decision_is_refused(team, client_for, pending, accepted):
    client = client_for(team.owner)
    decide(client, pending, outcome="go")
    response = decide(client, pending, outcome="stop", comment="changed my mind")
    assert response.status_code == 422
    assert "already decided" in response.content.decode()
    assert GateDecision.objects.count() == 1
    team.pilot.refresh_from_db()
    assert (team.pilot.stage, team.pilot.status) == ("define_success", "active")
    assert [a for a in actions(pilot=team.pilot) if a.startswith("gate.decided")] == ["gate.decided.go"]


def test_a_withdrawn_request_cannot_be_decided(team, client_for, pending, accepted):
    gate_services.withdraw_gate_request(gate_request=pending, actor=team.pm)
    response = decide(client_for(team.owner), pending, outcome="go")
    assert response.status_code == 422
    assert "already withdrawn" in response.content.decode()
    assert not GateDecision.objects.exists()


# Conditional go


def test_conditional_go_turns_each_missing_check_into_a_condition(team, client_for, pending):
    response = decide(client_for(team.owner), pending, outcome="conditional_go", conditions_due_on=DUE)
    assert response.status_code == 200
    assert "gateDecided" in response.headers["HX-Trigger"]
    team.pilot.refresh_from_db()
    assert team.pilot.stage == "define_success"
    decision = GateDecision.objects.get()
    [condition] = GateCondition.objects.filter(decision=decision)
    assert condition.check_id == "ownership.accountability_accepted"
    assert condition.owner == team.pm
    assert condition.due_on.isoformat() == DUE
    assert condition.text.startswith("Workflow owner accepted accountability")
    assert actions(pilot=team.pilot)[-1] == "gate.decided.conditional_go"


def test_conditional_go_adds_the_owners_own_conditions(team, client_for, pending):
    data = {
        "outcome": "conditional_go",
        "conditions": "Share the baseline\n\n  Name a second reviewer  ",
        "conditions_owner": team.reviewer.pk,
        "conditions_due_on": DUE,
    }
    assert decide(client_for(team.owner), pending, **data).status_code == 200
    conditions = {c.text: c for c in GateCondition.objects.all()}
    assert len(conditions) == 3
    assert conditions["Share the baseline"].owner == team.reviewer
    assert conditions["Name a second reviewer"].owner == team.reviewer


def test_conditional_go_with_missing_checks_needs_a_due_date(team, client_for, pending):
    response = decide(client_for(team.owner), pending, outcome="conditional_go")
    assert response.status_code == 422
    assert "due date" in response.content.decode()
    assert not GateDecision.objects.exists()


def test_conditional_go_with_nothing_missing_needs_a_condition(team, client_for, pending, accepted):
    response = decide(client_for(team.owner), pending, outcome="conditional_go", conditions_due_on=DUE)
    assert response.status_code == 422
    assert "at least one condition" in response.content.decode()
    assert not GateDecision.objects.exists()


def test_conditions_cannot_be_due_in_the_past(team, client_for, pending):
    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = decide(client_for(team.owner), pending, outcome="conditional_go", conditions_due_on=past)
    assert response.status_code == 422
    assert "cannot be in the past" in response.content.decode()
    assert not GateDecision.objects.exists()


def test_a_condition_owner_must_be_a_member(team, client_for, pending):
    data = {
        "outcome": "conditional_go",
        "conditions": "Do it",
        "conditions_owner": team.outsider.pk,
        "conditions_due_on": DUE,
    }
    response = decide(client_for(team.owner), pending, **data)
    assert response.status_code == 422
    assert not GateDecision.objects.exists()
    assert not GateCondition.objects.exists()


def test_only_a_conditional_go_carries_conditions(team, client_for, pending, accepted):
    data = {"outcome": "go", "conditions": "Do it", "conditions_owner": team.pm.pk, "conditions_due_on": DUE}
    response = decide(client_for(team.owner), pending, **data)
    assert response.status_code == 422
    assert "Only a conditional go carries conditions" in response.content.decode()
    assert not GateDecision.objects.exists()


# Hold, recycle, stop


def test_hold_puts_the_pilot_on_hold(team, client_for, pending):
    response = decide(client_for(team.owner), pending, outcome="hold", comment="Budget freeze")
    assert response.status_code == 200
    assert "gateDecided" in response.headers["HX-Trigger"]
    team.pilot.refresh_from_db()
    assert (team.pilot.stage, team.pilot.status) == ("proposed", "on_hold")
    assert GateDecision.objects.get().comment == "Budget freeze"
    assert actions(pilot=team.pilot)[-1] == "gate.decided.hold"


def test_hold_needs_a_reason(team, client_for, pending):
    response = decide(client_for(team.owner), pending, outcome="hold", comment="   ")
    assert response.status_code == 422
    assert "needs a reason" in response.content.decode()
    assert not GateDecision.objects.exists()
    team.pilot.refresh_from_db()
    assert team.pilot.status == "active"
    pending.refresh_from_db()
    assert pending.state == "pending"


def test_recycle_sends_the_pilot_back_to_an_earlier_stage(team, client_for):
    request = pending_at(team, "standardize_inputs")
    response = decide(
        client_for(team.owner),
        request,
        outcome="recycle",
        recycle_to="define_success",
        comment="Redo metrics",
    )
    assert response.status_code == 200
    team.pilot.refresh_from_db()
    assert (team.pilot.stage, team.pilot.status) == ("define_success", "active")
    decision = GateDecision.objects.get()
    assert decision.recycle_to == "define_success"
    assert actions(pilot=team.pilot)[-1] == "gate.decided.recycle"


def test_recycle_needs_an_earlier_stage(team, client_for):
    request = pending_at(team, "standardize_inputs")
    client = client_for(team.owner)
    for target in ("", "standardize_inputs", "feedback_loops", "nowhere"):
        response = decide(client, request, outcome="recycle", recycle_to=target, comment="Redo")
        assert response.status_code == 422, target
        body = response.content.decode()
        assert "Recycle back to" in body or "before the pilot" in body, target
    assert not GateDecision.objects.exists()
    team.pilot.refresh_from_db()
    assert team.pilot.stage == "standardize_inputs"


def test_recycle_needs_a_reason(team, client_for):
    request = pending_at(team, "standardize_inputs")
    response = decide(client_for(team.owner), request, outcome="recycle", recycle_to="proposed")
    assert response.status_code == 422
    assert not GateDecision.objects.exists()


def test_stop_stops_the_pilot(team, client_for, pending):
    response = decide(client_for(team.owner), pending, outcome="stop", comment="No business case")
    assert response.status_code == 200
    team.pilot.refresh_from_db()
    assert (team.pilot.stage, team.pilot.status) == ("proposed", "stopped")
    assert actions(pilot=team.pilot)[-1] == "gate.decided.stop"
    assert 'id="request-form"' not in response.content.decode()


def test_stop_needs_a_reason(team, client_for, pending):
    assert decide(client_for(team.owner), pending, outcome="stop").status_code == 422
    team.pilot.refresh_from_db()
    assert team.pilot.status == "active"


def test_an_unknown_or_missing_outcome_is_refused(team, client_for, pending, accepted):
    client = client_for(team.owner)
    for data in ({"outcome": "approve"}, {}):
        response = decide(client, pending, **data)
        assert response.status_code == 422
        assert is_partial(response)
        assert "outcome" in response.content.decode()
    assert not GateDecision.objects.exists()


def test_own_conditions_need_an_owner(team, client_for, pending):
    data = {"outcome": "conditional_go", "conditions": "Do it", "conditions_due_on": DUE}
    response = decide(client_for(team.owner), pending, **data)
    assert response.status_code == 422
    assert "Choose who owns these conditions" in response.content.decode()
    assert not GateDecision.objects.exists()


# Who decides


def test_the_requester_never_decides_their_own_request(team, client_for):
    both = factories.member(team.workspace, "program_manager", "workflow_owner", username="both")
    request = gate_services.request_gate_decision(pilot=team.pilot, actor=both)
    # Later the requester becomes the pilot's workflow owner.
    Pilot.objects.filter(pk=team.pilot.pk).update(
        workflow_owner=both, accountability_accepted_by=both, accountability_accepted_at=timezone.now()
    )
    client = client_for(both)
    page = client.get(reverse("pilot_detail", args=[team.pilot.pk])).content.decode()
    assert 'id="decide-form"' not in page
    assert "someone else must decide it" in page
    response = decide(client, request, outcome="go")
    assert response.status_code == 422
    assert "someone else must decide it" in response.content.decode()
    assert not GateDecision.objects.exists()
    request.refresh_from_db()
    assert request.state == "pending"


def test_the_pilots_workflow_owner_cannot_request_a_gate_to_decide_it(team, client_for):
    factories.grant(team.owner, team.workspace, "program_manager")
    response = client_for(team.owner).post(reverse("gate_request", args=[team.pilot.pk]), headers=HTMX)
    assert response.status_code == 422
    assert not GateRequest.objects.exists()


def test_it_requires_the_pilots_workflow_owner(team, client_for, pending, accepted):
    another_owner = factories.member(team.workspace, "workflow_owner", "admin", username="another_owner")
    for user in (team.admin, team.pm, team.reviewer, team.leader, another_owner):
        response = decide(client_for(user), pending, outcome="go", comment="x")
        assert response.status_code == 403, user
    assert not GateDecision.objects.exists()
    pending.refresh_from_db()
    assert pending.state == "pending"
    team.pilot.refresh_from_db()
    assert team.pilot.stage == "proposed"


def test_a_former_owner_role_holder_can_no_longer_decide(team, client_for, pending, accepted):
    # Named on the pilot but without the workflow owner role any more: no decision.
    membership = team.owner.memberships.get(workspace=team.workspace)
    membership.set_roles({"leader"})
    membership.save()
    assert decide(client_for(team.owner), pending, outcome="go").status_code == 403
    assert not GateDecision.objects.exists()


def test_it_is_a_404_for_an_outsider(team, client_for, pending, accepted):
    response = decide(client_for(team.outsider), pending, outcome="go")
    assert response.status_code == 404
    assert not GateDecision.objects.exists()
    team.pilot.refresh_from_db()
    assert team.pilot.stage == "proposed"
    assert actions(pilot=team.pilot) == ["gate.requested", "pilot.accountability_accepted"]


def test_a_request_of_another_pilot_is_a_404(team, client_for, pending, accepted):
    other = factories.PilotFactory(workspace=team.workspace, workflow_owner=team.owner)
    response = client_for(team.owner).post(
        reverse("gate_decide", args=[other.pk, pending.pk]), {"outcome": "go"}, headers=HTMX
    )
    assert response.status_code == 404
    assert not GateDecision.objects.exists()


def test_it_requires_post(team, client_for, pending):
    assert client_for(team.owner).get(url(pending)).status_code == 405
    assert not GateDecision.objects.exists()


# The record


def test_a_decision_is_immutable(team, pending, accepted):
    decision = gate_services.decide_gate(gate_request=pending, actor=team.owner, outcome="go")
    decision.comment = "rewritten"
    with pytest.raises(ValidationError):
        decision.save()
    with pytest.raises(ValidationError):
        decision.delete()
    assert GateDecision.objects.get().comment == ""


def test_go_after_accepting_on_the_page(team, client_for, pending):
    client = client_for(team.owner)
    assert decide(client, pending, outcome="go").status_code == 422
    accepted = client.post(reverse("accept_accountability", args=[team.pilot.pk]), headers=HTMX)
    assert accepted.status_code == 200
    assert decide(client, pending, outcome="go").status_code == 200
    assert actions(pilot=team.pilot) == ["gate.requested", "pilot.accountability_accepted", "gate.decided.go"]
