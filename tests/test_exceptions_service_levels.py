"""Escalations past their service level: the pilot's workflow owner is told once per case
(exceptions.services.service_levels.notify_late_escalations, run by Celery beat)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from exceptions.models import Escalation
from exceptions.services import queue, rules, service_levels
from exceptions.tasks import notify_late_escalations as notify_task
from pilots.services import intake, notifications, standards
from pilots.services.intake import Arrival
from tests import factories

SPEC = {
    "inputs": [{"name": "amount", "type": "number", "required": True}],
    "outputs": [{"name": "category", "type": "enum", "allowed": ["glass", "theft"]}],
}
TABLE = [
    {
        "name": "Large",
        "clauses": [{"field": "inputs.amount", "op": "gt", "value": "10000"}],
        "action": "escalate",
        "service_level_hours": "24",
    },
    {"clauses": [], "action": "automate"},
]
RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DUE = RECEIVED + timedelta(hours=24)
LATE = DUE + timedelta(hours=1)


def with_rules(pilot, actor):
    standards.publish_standard(pilot=pilot, actor=actor, spec=SPEC)
    rules.publish_rules(pilot=pilot, rules=TABLE, actor=actor)


@pytest.fixture
def ready(team):
    with_rules(team.pilot, team.pm)


def escalate(pilot, actor, *external_ids: str, received=RECEIVED) -> list[Escalation]:
    intake.ingest(
        pilot=pilot,
        arrivals=[
            Arrival(
                external_id=x, inputs={"amount": "20000"}, outputs={"category": "glass"}, received_at=received
            )
            for x in external_ids
        ],
        source="upload",
        actor=actor,
    )
    return list(Escalation.objects.filter(pilot=pilot, case__external_id__in=external_ids).order_by("id"))


def test_late_escalations_are_notified_to_the_workflow_owner_once(team, ready):
    escalate(team.pilot, team.pm, "CL-1", "CL-2")
    assert service_levels.notify_late_escalations(now=LATE) == 2
    assert service_levels.notify_late_escalations(now=LATE + timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1  # one email, listing both cases
    email = mail.outbox[0]
    assert email.to == [team.owner.email]
    assert email.subject == f"Escalations past their service level: {team.pilot.name}"
    assert f"2 case(s) of the pilot “{team.pilot.name}” wait past their service level" in email.body
    # Each case, with the rule that escalated it and its due time in the workspace's zone (Berlin).
    assert (
        "- CL-1: escalated by a rule by #1 Large: inputs.amount > 10000, due 2026-03-03 10:00" in email.body
    )
    assert "- CL-2:" in email.body
    assert f"http://testserver/w/acme/review/?pilot={team.pilot.pk}" in email.body
    assert set(Escalation.objects.values_list("late_notified_at", flat=True)) == {LATE}


def test_a_case_that_becomes_late_later_is_notified_in_its_own_run(team, ready):
    escalate(team.pilot, team.pm, "CL-1")
    escalate(team.pilot, team.pm, "CL-2", received=RECEIVED + timedelta(hours=5))
    assert service_levels.notify_late_escalations(now=LATE) == 1
    assert service_levels.notify_late_escalations(now=LATE + timedelta(hours=5)) == 1
    assert service_levels.notify_late_escalations(now=LATE + timedelta(hours=9)) == 0
    assert len(mail.outbox) == 2
    assert "- CL-1:" in mail.outbox[0].body and "CL-2" not in mail.outbox[0].body
    assert "- CL-2:" in mail.outbox[1].body and "CL-1" not in mail.outbox[1].body


def test_decided_and_not_yet_due_escalations_are_not_notified(team, ready):
    decided, _ = escalate(team.pilot, team.pm, "decided", "open")
    queue.decide(
        escalation_id=decided.pk, reviewer=team.reviewer, outcome="approve", rationale="ok", now=LATE
    )
    # Exactly at its due time a case is not late yet.
    assert service_levels.notify_late_escalations(now=DUE) == 0
    assert not mail.outbox
    assert service_levels.notify_late_escalations(now=LATE) == 1
    assert "- open:" in mail.outbox[0].body and "decided" not in mail.outbox[0].body
    assert Escalation.objects.get(case__external_id="decided").late_notified_at is None


def test_a_failing_send_releases_the_claim_so_the_next_run_sends(team, ready, monkeypatch):
    escalate(team.pilot, team.pm, "CL-1")

    def broken(**kwargs):
        raise ConnectionRefusedError("mail server down")

    with monkeypatch.context() as patched:
        patched.setattr(notifications, "notify_people", broken)
        assert service_levels.notify_late_escalations(now=LATE) == 0
    assert Escalation.objects.get().late_notified_at is None
    assert not mail.outbox
    assert service_levels.notify_late_escalations(now=LATE + timedelta(minutes=5)) == 1
    assert len(mail.outbox) == 1


def test_each_pilot_is_told_separately_and_one_failure_does_not_hold_up_the_others(team, ready, monkeypatch):
    other = factories.PilotFactory(workspace=team.workspace, program_manager=team.pm, name="Second pilot")
    with_rules(other, team.pm)
    escalate(team.pilot, team.pm, "first")
    escalate(other, team.pm, "second")
    real = notifications.notify_people

    def fails_for_the_first_pilot(*, users, subject, body):
        if team.pilot.name in subject:
            raise ConnectionRefusedError("mail server down")
        return real(users=users, subject=subject, body=body)

    monkeypatch.setattr(notifications, "notify_people", fails_for_the_first_pilot)
    assert service_levels.notify_late_escalations(now=LATE) == 1
    assert [m.to for m in mail.outbox] == [[other.workflow_owner.email]]
    assert Escalation.objects.get(pilot=team.pilot).late_notified_at is None
    monkeypatch.undo()
    assert service_levels.notify_late_escalations(now=LATE) == 1
    assert [m.to for m in mail.outbox] == [[other.workflow_owner.email], [team.owner.email]]


def test_the_beat_task_runs_the_service(team, ready):
    escalate(team.pilot, team.pm, "CL-1", received=datetime.now(UTC) - timedelta(days=2))
    assert notify_task.delay().get() == 1
    assert notify_task.delay().get() == 0
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("received", "due"),
    [("2026-03-28T10:00:00", "2026-03-29T11:00:00"), ("2026-10-24T10:00:00", "2026-10-25T09:00:00")],
)
def test_a_service_level_is_elapsed_hours_across_a_clock_change(team, ready, received, due):
    """A time without an offset is the workspace's (Berlin): 24 hours after Saturday 10:00 is Sunday 11:00
    when the clocks go forward that night, 09:00 when they go back, not 10:00."""
    assert team.workspace.timezone == "Europe/Berlin"
    (escalation,) = escalate(team.pilot, team.pm, "dst", received=received)
    assert escalation.due_at - escalation.received_at == timedelta(hours=24)
    assert escalation.due_at == datetime.fromisoformat(due).replace(tzinfo=team.workspace.zone)
