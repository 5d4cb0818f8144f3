"""Gate requests and decisions through the services (DESIGN.md "Contracts: Stages, Gates")."""

import threading
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from pilots.models import AuditEvent, GateCondition, GateDecision, GateRequest, Pilot, Stage, Status
from pilots.services import gates as gate_services
from pilots.services import notifications
from pilots.services import pilots as pilot_services


def request(team, note="please decide"):
    return gate_services.request_gate_decision(pilot=team.pilot, actor=team.pm, note=note)


def accepted(team):
    return pilot_services.accept_accountability(pilot=team.pilot, actor=team.owner)


def test_a_request_names_the_next_gate_and_emails_the_owner(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        gate_request = request(team)
    assert (gate_request.from_stage, gate_request.to_stage) == ("proposed", "define_success")
    assert gate_request.state == "pending"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [team.owner.email]
    assert "define success" in mail.outbox[0].subject.lower()
    assert f"/pilots/{team.pilot.pk}/" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="gate.requested", pilot=team.pilot).count() == 1


def test_the_email_is_sent_once_however_often_the_task_runs(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        gate_request = request(team)
    assert notifications.send_gate_request_email(gate_request_id=gate_request.pk) is False
    assert len(mail.outbox) == 1


def test_the_sweep_finds_requests_whose_email_was_lost(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        gate_request = request(team)
    GateRequest.objects.filter(pk=gate_request.pk).update(
        notified_at=None, created_at=timezone.now() - timedelta(minutes=5)
    )
    assert notifications.unsent_gate_requests() == [gate_request.pk]
    from pilots.tasks import send_unsent_gate_request_emails

    assert send_unsent_gate_request_emails.delay().get() == 1
    assert len(mail.outbox) == 2
    assert notifications.unsent_gate_requests() == []


def test_only_one_request_waits_at_a_time(team):
    request(team)
    with pytest.raises(ValidationError, match="already waiting"):
        request(team)
    assert GateRequest.objects.filter(pilot=team.pilot, state="pending").count() == 1


def test_the_owner_does_not_request_their_own_gate(team):
    from tests import factories

    factories.grant(team.owner, team.workspace, "program_manager")
    with pytest.raises(ValidationError, match="You own this workflow"):
        gate_services.request_gate_decision(pilot=team.pilot, actor=team.owner)


def test_go_is_refused_while_a_required_check_is_missing_and_nothing_changes(team):
    gate_request = request(team)
    with pytest.raises(gate_services.GateRefused) as refused:
        gate_services.decide_gate(gate_request=gate_request, actor=team.owner, outcome="go")
    assert [c.id for c, _ in refused.value.missing] == ["ownership.accountability_accepted"]
    assert "Accept accountability" in str(refused.value)
    assert not GateDecision.objects.exists()
    team.pilot.refresh_from_db()
    assert team.pilot.stage == Stage.PROPOSED
    gate_request.refresh_from_db()
    assert gate_request.state == "pending"


def test_a_pilot_starts_on_its_workspace_day_whatever_time_zone_is_active(team):
    """Late in the UTC evening it is already tomorrow in Berlin; a decision outside a request (no
    workspace time zone active) dates the start by the workspace's calendar too."""
    accepted(team)
    gate = request(team)
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 12, 7, 23, 30, tzinfo=UTC)):
        gate_services.decide_gate(gate_request=gate, actor=team.owner, outcome="go", comment="Go")
    team.pilot.refresh_from_db()
    assert team.pilot.started_on == date(2026, 12, 8)


def test_go_moves_the_pilot_and_keeps_the_evidence(team):
    accepted(team)
    decision = gate_services.decide_gate(
        gate_request=request(team), actor=team.owner, outcome="go", comment="Looks good"
    )
    team.pilot.refresh_from_db()
    assert team.pilot.stage == Stage.DEFINE_SUCCESS
    assert team.pilot.started_on == timezone.localdate(timezone=team.workspace.zone)
    assert decision.evidence["gate"] == "define_success"
    assert {c["id"] for c in decision.evidence["checks"]} == {
        "ownership.named",
        "ownership.accountability_accepted",
    }
    assert all(c["status"] == 1.0 for c in decision.evidence["checks"])
    assert GateRequest.objects.get().state == "decided"


def test_conditional_go_turns_each_missing_check_into_a_condition(team):
    due = timezone.localdate() + timedelta(days=14)
    gate_services.decide_gate(
        gate_request=request(team),
        actor=team.owner,
        outcome="conditional_go",
        conditions_due_on=due,
        conditions=[gate_services.ConditionInput(text="Share the runbook", owner=team.reviewer, due_on=due)],
    )
    team.pilot.refresh_from_db()
    assert team.pilot.stage == Stage.DEFINE_SUCCESS
    conditions = {(c.text.split(":")[0], c.owner, c.check_id) for c in GateCondition.objects.all()}
    assert conditions == {
        ("Share the runbook", team.reviewer, ""),
        ("Workflow owner accepted accountability", team.pm, "ownership.accountability_accepted"),
    }


def test_conditional_go_without_any_condition_is_refused(team):
    accepted(team)
    with pytest.raises(ValidationError, match="at least one condition"):
        gate_services.decide_gate(gate_request=request(team), actor=team.owner, outcome="conditional_go")


def test_hold_then_resume(team):
    gate_request = request(team)
    with pytest.raises(ValidationError, match="needs a reason"):
        gate_services.decide_gate(gate_request=gate_request, actor=team.owner, outcome="hold")
    gate_services.decide_gate(
        gate_request=gate_request, actor=team.owner, outcome="hold", comment="Budget freeze"
    )
    team.pilot.refresh_from_db()
    assert (team.pilot.stage, team.pilot.status) == (Stage.PROPOSED, Status.ON_HOLD)
    with pytest.raises(ValidationError, match="only an active pilot"):
        request(team)
    with pytest.raises(ValidationError, match="workflow owner"):
        pilot_services.resume_pilot(pilot=team.pilot, actor=team.pm)
    pilot_services.resume_pilot(pilot=team.pilot, actor=team.owner)
    team.pilot.refresh_from_db()
    assert team.pilot.status == Status.ACTIVE


def test_recycle_goes_back_to_an_earlier_stage(team):
    Pilot.objects.filter(pk=team.pilot.pk).update(stage=Stage.EXCEPTION_PATHS)
    gate_request = request(team)
    with pytest.raises(ValidationError):
        gate_services.decide_gate(
            gate_request=gate_request,
            actor=team.owner,
            outcome="recycle",
            comment="Redo",
            recycle_to=Stage.FEEDBACK_LOOPS,
        )
    decision = gate_services.decide_gate(
        gate_request=gate_request,
        actor=team.owner,
        outcome="recycle",
        comment="Redo the metrics",
        recycle_to=Stage.DEFINE_SUCCESS,
    )
    team.pilot.refresh_from_db()
    assert team.pilot.stage == Stage.DEFINE_SUCCESS
    assert decision.recycle_to == Stage.DEFINE_SUCCESS


def test_stop_is_final_and_the_pilot_can_be_copied(team):
    gate_services.decide_gate(
        gate_request=request(team), actor=team.owner, outcome="stop", comment="No value"
    )
    team.pilot.refresh_from_db()
    assert team.pilot.status == Status.STOPPED
    with pytest.raises(ValidationError):
        pilot_services.resume_pilot(pilot=team.pilot, actor=team.owner)
    copy = pilot_services.copy_pilot(pilot=team.pilot, actor=team.pm)
    assert (copy.stage, copy.status, copy.copied_from) == (Stage.PROPOSED, Status.ACTIVE, team.pilot)
    assert copy.workflow_owner == team.owner


def test_the_requester_never_decides_their_own_request(team):
    from tests import factories

    factories.grant(team.pm, team.workspace, "workflow_owner")
    gate_request = request(team)
    Pilot.objects.filter(pk=team.pilot.pk).update(workflow_owner=team.pm)
    with pytest.raises(ValidationError, match="someone else must decide"):
        gate_services.decide_gate(gate_request=gate_request, actor=team.pm, outcome="hold", comment="x")


def test_only_the_pilots_owner_decides(team):
    with pytest.raises(ValidationError, match="workflow owner decides"):
        gate_services.decide_gate(gate_request=request(team), actor=team.admin, outcome="hold", comment="x")


def test_a_withdrawn_request_cannot_be_decided_and_withdrawing_twice_is_harmless(team):
    gate_request = request(team)
    gate_services.withdraw_gate_request(gate_request=gate_request, actor=team.pm)
    gate_services.withdraw_gate_request(gate_request=gate_request, actor=team.pm)
    assert AuditEvent.objects.filter(action="gate.withdrawn").count() == 1
    with pytest.raises(ValidationError, match="already withdrawn"):
        gate_services.decide_gate(gate_request=gate_request, actor=team.owner, outcome="hold", comment="x")


def test_a_decision_is_immutable(team):
    decision = gate_services.decide_gate(
        gate_request=request(team), actor=team.owner, outcome="stop", comment="x"
    )
    decision.comment = "rewritten"
    with pytest.raises(ValidationError):
        decision.save()
    with pytest.raises(ValidationError):
        decision.delete()
    with pytest.raises(ValidationError, match="already decided"):
        gate_services.decide_gate(gate_request=decision.request, actor=team.owner, outcome="go")


def test_closing_a_condition_twice_writes_one_event(team):
    due = timezone.localdate() + timedelta(days=3)
    gate_services.decide_gate(
        gate_request=request(team), actor=team.owner, outcome="conditional_go", conditions_due_on=due
    )
    condition = GateCondition.objects.get()
    gate_services.close_condition(condition=condition, actor=team.pm, note="done")
    gate_services.close_condition(condition=condition, actor=team.pm, note="again")
    condition.refresh_from_db()
    assert condition.closing_note == "done"
    assert AuditEvent.objects.filter(action="condition.closed").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_decisions_record_exactly_one(postgres, team):
    """Two owners' browsers post at the same moment: the row lock lets one through, the other is refused."""
    accepted(team)
    gate_request = request(team)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(outcome: str) -> None:
        try:
            barrier.wait()
            gate_services.decide_gate(
                gate_request=gate_request, actor=team.owner, outcome=outcome, comment="race"
            )
            outcomes.append(f"decided {outcome}")
        except ValidationError as error:
            outcomes.append(f"refused: {error.messages[0]}")
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(o,)) for o in ("go", "stop")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert GateDecision.objects.count() == 1
    assert sorted(o.split(":")[0].split(" ")[0] for o in outcomes) == ["decided", "refused"]
    team.pilot.refresh_from_db()
    decision = GateDecision.objects.get()
    expected = (
        (Stage.DEFINE_SUCCESS, Status.ACTIVE)
        if decision.outcome == "go"
        else (Stage.PROPOSED, Status.STOPPED)
    )
    assert (team.pilot.stage, team.pilot.status) == expected
