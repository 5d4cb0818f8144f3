"""The portfolio's facts in every snapshot, its weekly record and the leaders' digest (issue 9)."""

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from pilots import portfolio, tasks
from pilots.demo import demo_clock
from pilots.models import AuditEvent, PortfolioWeek, ReadinessSnapshot, Stage, Status
from pilots.services import gates as gate_services
from pilots.services import portfolio as portfolio_services
from pilots.services import readiness
from pilots.services.gates import ConditionInput
from tests import factories


def test_snapshot_columns_take_the_first_metric_of_each_kind_and_the_gate_record():
    figures = {
        "pilots": {
            "stage_entered_at": "2026-11-01T09:00:00+00:00",
            "last_gate_decision_at": None,
            "pending_request": {"id": 3, "gate": "production", "since": "2026-11-20T10:00:00+00:00"},
            "overdue_conditions": 2,
            "score_14_days_ago": 61,
            "stage_days": {"proposed": 12, "define_success": 30},
        },
        "metrics": {
            "value": [
                {"kind": "cycle_time", "per_month": 120.0, "target_per_month": 300.0},
                {
                    "kind": "cycle_time",
                    "per_month": 999.0,
                    "target_per_month": 999.0,
                },  # a second: not counted
                {"kind": "external_spend", "per_month": None, "target_per_month": 5000.0},
            ]
        },
        "exceptions": {"overdue_escalations": 4},
    }
    columns = portfolio.snapshot_columns(figures)
    assert (columns["value_hours"], columns["target_hours"]) == (120.0, 300.0)
    assert (columns["value_spend"], columns["target_spend"]) == (None, 5000.0)
    assert columns["value_errors"] is None and columns["target_touchpoints"] is None
    assert columns["days_proposed"] == 12 and columns["days_define_success"] == 30
    assert columns["days_exception_paths"] is None
    assert columns["pending_request_since"].isoformat() == "2026-11-20T10:00:00+00:00"
    assert columns["last_gate_decision_at"] is None
    assert (columns["overdue_conditions"], columns["overdue_escalations"], columns["score_14_days_ago"]) == (
        2,
        4,
        61,
    )
    assert portfolio.snapshot_columns({}) | {"overdue_escalations": 0} == portfolio.snapshot_columns({})


def test_the_recompute_fills_the_columns_from_the_pilots_gate_record(team):
    start = timezone.now() - timedelta(days=60)
    with demo_clock(start):
        pilot = factories.PilotFactory(
            workspace=team.workspace, program_manager=team.pm, workflow_owner=team.owner
        )
    with demo_clock(start + timedelta(days=10)):
        request = gate_services.request_gate_decision(pilot=pilot, actor=team.pm)
        gate_services.decide_gate(
            gate_request=request,
            actor=team.owner,
            outcome="conditional_go",
            comment="Go, once the data agreement is signed.",
            conditions=[
                ConditionInput(
                    text="Sign the data agreement",
                    owner=team.admin,
                    due_on=(start + timedelta(days=12)).date(),
                )
            ],
            conditions_due_on=(start + timedelta(days=20)).date(),
        )
    readiness.recompute(pilot_ids=[pilot.pk])
    snap = ReadinessSnapshot.objects.get(pilot=pilot)
    assert snap.stage == Stage.DEFINE_SUCCESS
    assert snap.days_proposed == 10 and snap.days_define_success == 50
    assert snap.days_standardize_inputs is None
    assert snap.last_gate_decision_at == start + timedelta(days=10)
    assert snap.overdue_conditions == 2  # the data agreement, and the unaccepted accountability
    assert snap.figures["pilots"]["overdue_condition_owner_id"] == team.admin.pk  # the one due first
    assert snap.pending_request_since is None and snap.overdue_escalations == 0


def test_a_stop_ends_the_clock_and_a_recycle_goes_back(team):
    start = timezone.now() - timedelta(days=100)
    pilot = team.pilot
    pilot.created_at = start
    pilot.accountability_accepted_by = team.owner
    pilot.accountability_accepted_at = start
    pilot.save()
    for day, outcome, extra in (
        (10, "go", {}),
        (30, "recycle", {"recycle_to": Stage.PROPOSED, "comment": "Back to the drawing board."}),
        (35, "stop", {"comment": "No business case after all."}),
    ):
        with demo_clock(start + timedelta(days=day)):
            request = gate_services.request_gate_decision(pilot=pilot, actor=team.pm)
            gate_services.decide_gate(gate_request=request, actor=team.owner, outcome=outcome, **extra)
        pilot.refresh_from_db()
    readiness.recompute(pilot_ids=[pilot.pk])
    snap = ReadinessSnapshot.objects.get(pilot=pilot)
    assert snap.status == Status.STOPPED
    assert snap.days_proposed == 15  # 10 days, then 5 more after the recycle, until the stop
    assert snap.days_define_success == 20


# --- the weekly record -----------------------------------------------------------------------------------


def test_the_week_is_recorded_once_and_brought_up_to_date_within_the_week(team):
    monday = timezone.now().replace(year=2026, month=11, day=30, hour=9)  # a Monday
    readiness.recompute(pilot_ids=[team.pilot.pk])
    first = portfolio_services.record_week(workspace=team.workspace, now=monday)
    factories.PilotFactory(workspace=team.workspace, program_manager=team.pm, workflow_owner=team.owner)
    readiness.recompute_all()
    again = portfolio_services.record_week(workspace=team.workspace, now=monday + timedelta(days=3))
    assert again.pk == first.pk and again.week.isoformat() == "2026-11-30"
    assert again.pilots == 2 and again.stages["proposed"] == 2
    assert again.median_score == 50
    assert set(again.value) == {"hours", "errors", "touchpoints", "spend"}
    assert AuditEvent.objects.filter(action="portfolio.week_recorded").count() == 1
    portfolio_services.record_week(workspace=team.workspace, now=monday + timedelta(days=7))
    assert PortfolioWeek.objects.filter(workspace=team.workspace).count() == 2


def test_the_week_is_the_workspaces_own(team):
    # Sunday 23:30 in UTC is already Monday in Tokyo.
    team.workspace.timezone = "Asia/Tokyo"
    team.workspace.save()
    sunday_night = timezone.now().replace(year=2026, month=11, day=29, hour=23, minute=30)
    assert portfolio_services.week_of(team.workspace, sunday_night).isoformat() == "2026-11-30"


def test_the_beat_schedule_records_the_week_before_it_sends_the_digest():
    schedule = settings.CELERY_BEAT_SCHEDULE
    record = schedule["record-portfolio-weeks"]
    digest = schedule["send-portfolio-digests"]
    assert record["task"] == "pilots.tasks.record_portfolio_weeks"
    assert digest["task"] == "pilots.tasks.send_portfolio_digests"
    assert record["schedule"].day_of_week == digest["schedule"].day_of_week == {1}
    assert min(record["schedule"].hour) < min(digest["schedule"].hour)


# --- the digest ------------------------------------------------------------------------------------------


@pytest.fixture
def stuck_portfolio(team):
    team.leader.email = "leader@example.com"
    team.leader.save()
    with demo_clock(timezone.now() - timedelta(days=45)):
        stuck = factories.PilotFactory(
            workspace=team.workspace,
            name="Quiet claims bot",
            program_manager=team.pm,
            workflow_owner=team.owner,
        )
    readiness.recompute_all()
    return stuck


def test_the_digest_goes_to_the_leaders_once_a_week_with_the_figures_and_links(team, stuck_portfolio):
    assert tasks.send_portfolio_digests.delay().get() == 2  # Acme's leader, and the other workspace's
    (message,) = [m for m in mail.outbox if m.to == ["leader@example.com"]]
    assert message.subject == "ProdReady weekly portfolio: Acme"
    assert "2 pilots" in message.body and "Median readiness: 50" in message.body
    assert "Stuck: 1 pilots." in message.body
    assert (
        f"Quiet claims bot: No gate decision in 30 days; {team.pm.first_name} can request the next gate."
        in (message.body)
    )
    assert f"/pilots/{stuck_portfolio.pk}/" in message.body and "/w/acme/portfolio/" in message.body
    assert tasks.send_portfolio_digests.delay().get() == 0  # delivered twice: one email each
    assert len(mail.outbox) == 2


def test_a_mail_server_that_fails_gives_the_claim_back_for_the_retry(team, stuck_portfolio):
    down = mock.patch("pilots.services.notifications.send_mail", side_effect=OSError("mail server down"))
    with down, pytest.raises(OSError):
        portfolio_services.send_digest(workspace_id=team.workspace.pk)
    assert PortfolioWeek.objects.get(workspace=team.workspace).digest_sent_at is None
    assert portfolio_services.send_digest(workspace_id=team.workspace.pk) == 1


def test_the_weekly_task_records_every_workspace(team):
    assert tasks.record_portfolio_weeks.delay().get() == 2  # Acme and Other
    assert PortfolioWeek.objects.count() == 2
