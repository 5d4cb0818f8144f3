"""The readiness engine (issue 8): dirty marks in the writer's transaction, recompute after commit,
snapshots and their history, the sweep, and the "readiness changed" event."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pilots import checks
from pilots.models import (
    Case,
    Pilot,
    ReadinessHistory,
    ReadinessMark,
    ReadinessSnapshot,
    Stage,
    WebhookDelivery,
)
from pilots.services import gates as gate_services
from pilots.services import pilots as pilot_services
from pilots.services import readiness, webhooks, workspaces
from tests import factories


def snapshot(pilot) -> ReadinessSnapshot:
    return ReadinessSnapshot.objects.get(pilot=pilot)


def test_a_write_marks_the_pilot_in_its_own_transaction_and_the_recompute_follows_the_commit(
    team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        pilot_services.accept_accountability(pilot=team.pilot, actor=team.owner)
        assert ReadinessMark.objects.filter(pilot=team.pilot).exists()
        assert not ReadinessSnapshot.objects.filter(pilot=team.pilot).exists()
    for callback in callbacks:  # the commit: the debounced task runs (eagerly here)
        callback()
    assert not ReadinessMark.objects.exists()
    assert snapshot(team.pilot).score == 100  # a proposal: both ownership checks hold


def test_a_write_that_rolls_back_leaves_no_mark(team):
    with pytest.raises(RuntimeError), transaction.atomic():
        pilot_services.accept_accountability(pilot=team.pilot, actor=team.owner)
        raise RuntimeError("the request failed after the write")
    assert not ReadinessMark.objects.exists()


def test_a_proposal_is_scored_on_ownership_alone_and_the_rest_is_not_yet_due(team):
    readiness.recompute(pilot_ids=[team.pilot.pk])
    snap = snapshot(team.pilot)
    assert snap.score == 50 and snap.weakest_section == "ownership"  # named, not yet accepted
    assert snap.sections["ownership"] == {"score": 50, "points": 1.0, "due": 2, "checks": 4}
    assert snap.sections["value"]["score"] is None
    not_due = [c["id"] for c in snap.checks if c["status"] == checks.NOT_DUE]
    assert "metrics.business_metric" in not_due and "ownership.reviewers" in not_due
    assert [f["id"] for f in snap.failing] == ["ownership.accountability_accepted"]
    assert snap.failing[0]["next_action"].endswith("clicks “Accept accountability”.")
    assert (snap.stage, snap.status, snap.business_unit) == ("proposed", "active", "Claims")


def test_the_weakest_section_decides_and_an_attestation_raises_a_check_to_half(team):
    pilot_services.accept_accountability(pilot=team.pilot, actor=team.owner)
    Pilot.objects.filter(pk=team.pilot.pk).update(
        stage=Stage.DEFINE_SUCCESS, integration_points=["Guidewire"]
    )
    readiness.recompute(pilot_ids=[team.pilot.pk])
    snap = snapshot(team.pilot)
    # Next gate standardize_inputs: ownership holds (100); value and integration have nothing yet.
    assert snap.sections["ownership"]["score"] == 100
    assert snap.sections["value"]["score"] == 0 and snap.sections["integration"]["score"] == 0
    assert snap.score == 0 and snap.weakest_section == "value"  # a tie goes to the section read first
    gate_services.attest_check(
        pilot=team.pilot, actor=team.pm, check_id="integration.points_declared",
        note="The Guidewire feed is planned for June.", evidence_url="https://wiki.example/feed",
        expires_on=timezone.localdate() + timedelta(days=30),
    )  # fmt: skip
    readiness.recompute(pilot_ids=[team.pilot.pk])
    snap = snapshot(team.pilot)
    assert snap.sections["integration"] == {"score": 50, "points": 0.5, "due": 1, "checks": 3}
    row = next(c for c in snap.checks if c["id"] == "integration.points_declared")
    assert row["status"] == checks.ATTESTED and "Attested by" in row["evidence"]["text"]
    assert snap.weakest_section == "value"


def test_recomputing_twice_gives_the_same_snapshot_and_one_history_row_a_day(team):
    readiness.recompute(pilot_ids=[team.pilot.pk])
    first = snapshot(team.pilot)
    readiness.recompute(pilot_ids=[team.pilot.pk])
    again = snapshot(team.pilot)
    assert (again.score, again.sections, again.failing, again.checks) == (
        first.score,
        first.sections,
        first.failing,
        first.checks,
    )
    assert ReadinessHistory.objects.filter(pilot=team.pilot).count() == 1
    tomorrow = timezone.now() + timedelta(days=1)
    readiness.recompute(pilot_ids=[team.pilot.pk], now=tomorrow)
    assert ReadinessHistory.objects.filter(pilot=team.pilot).count() == 2


def test_an_unchanged_snapshot_only_moves_its_time_and_a_changed_one_is_rewritten(team):
    readiness.recompute(pilot_ids=[team.pilot.pk])
    first = snapshot(team.pilot)
    later = timezone.now() + timedelta(minutes=5)
    with CaptureQueriesContext(connection) as queries:
        readiness.recompute(pilot_ids=[team.pilot.pk], now=later)
    again = snapshot(team.pilot)
    assert again.computed_at == later and again.digest == first.digest
    writes = [q["sql"] for q in queries.captured_queries if 'INTO "pilots_readinesssnapshot"' in q["sql"]]
    assert writes == []  # only computed_at moved
    pilot_services.accept_accountability(pilot=team.pilot, actor=team.owner)
    readiness.recompute(pilot_ids=[team.pilot.pk])
    changed = snapshot(team.pilot)
    assert changed.digest != first.digest and changed.score == 100


def test_every_case_count_is_one_pass_over_the_cases_and_a_name_is_owned_once(team):
    for n in range(3):
        Case.objects.create(
            pilot=team.pilot, external_id=f"C-{n}", source="api", received_at=timezone.now(), digest=f"d{n}"
        )
    with checks.shared_reads(), CaptureQueriesContext(connection) as queries:
        facts = checks.case_facts([team.pilot.pk])
        checks.evaluate([team.pilot.pk])
    assert facts[team.pilot.pk]["cases"] == 3
    assert {"validated_30d", "problems_routed_30d", "api_total", "decided_30d"} <= facts[team.pilot.pk].keys()
    assert len([q for q in queries.captured_queries if 'FROM "pilots_case"' in q["sql"]]) <= 2  # + learning

    with factories.extra_case_counts(cases=None), pytest.raises(ValueError, match="registered twice"):
        checks.case_facts([team.pilot.pk])


def test_a_mark_made_while_the_recompute_ran_survives_and_is_asked_for_again(
    team, django_capture_on_commit_callbacks
):
    readiness.mark_dirty(pilot_ids=[team.pilot.pk])

    @checks.figures("test-concurrent-write")
    def write_meanwhile(pilot_ids):
        # A write that commits while the recompute is reading: it marks the pilot again.
        readiness.mark_dirty(pilot_ids=pilot_ids)
        return {}

    try:
        with django_capture_on_commit_callbacks(execute=False):
            readiness.recompute(pilot_ids=[team.pilot.pk])
    finally:
        checks._figure_sources.pop("test-concurrent-write")
    mark = ReadinessMark.objects.get(pilot=team.pilot)
    assert mark.enqueued_at is None  # free for the next request (or the sweep)


def test_a_recompute_removes_the_mark_it_saw(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        readiness.mark_dirty(pilot_ids=[team.pilot.pk])
    assert ReadinessMark.objects.filter(pilot=team.pilot).exists()
    readiness.recompute(pilot_ids=[team.pilot.pk])
    assert not ReadinessMark.objects.exists()


def test_a_burst_of_marks_is_claimed_once(team, django_capture_on_commit_callbacks, monkeypatch):
    sent = []  # the messages handed to the broker (which is outside the project)
    monkeypatch.setattr(readiness, "publish", lambda task, *args, **options: sent.append((args, options)))
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(5):
            readiness.mark_dirty(pilot_ids=[team.pilot.pk])
    assert ReadinessMark.objects.count() == 1
    now = timezone.now()
    assert readiness.request_recompute([team.pilot.pk], now=now) == [team.pilot.pk]
    # The second, third… writer of the burst finds the mark claimed: no second task.
    assert readiness.request_recompute([team.pilot.pk], now=now) == []
    assert sent == [(([team.pilot.pk],), {"countdown": 0.75})]
    # A claim whose message was lost (a broker that was down) is asked for again after a minute.
    later = now + readiness.REPUBLISH_AFTER + timedelta(seconds=1)
    assert readiness.request_recompute([team.pilot.pk], now=later) == [team.pilot.pk]
    assert len(sent) == 2


def test_the_sweep_recomputes_old_marks_and_leaves_young_ones_to_their_task(team):
    other = factories.PilotFactory(workspace=team.workspace)
    now = timezone.now()
    ReadinessMark.objects.bulk_create(
        [
            ReadinessMark(pilot=team.pilot, generation=1, marked_at=now - timedelta(minutes=5)),
            ReadinessMark(pilot=other, generation=1, marked_at=now),
        ]
    )
    assert readiness.recompute_marked(now=now) == 1
    assert ReadinessSnapshot.objects.filter(pilot=team.pilot).exists()
    assert list(ReadinessMark.objects.values_list("pilot_id", flat=True)) == [other.pk]


def test_a_change_of_roles_marks_every_pilot_of_the_workspace(team, django_capture_on_commit_callbacks):
    second = factories.PilotFactory(workspace=team.workspace)
    outside = factories.PilotFactory(workspace=team.other_workspace)
    membership = team.workspace.memberships.get(user=team.reviewer)
    with django_capture_on_commit_callbacks(execute=False):
        workspaces.set_member_roles(membership=membership, roles={"reviewer", "leader"}, actor=team.admin)
    marked = set(ReadinessMark.objects.values_list("pilot_id", flat=True))
    assert marked == {team.pilot.pk, second.pk}
    assert outside.pk not in marked


def test_the_number_of_queries_does_not_grow_with_the_number_of_pilots(team):
    readiness.recompute(pilot_ids=[team.pilot.pk])  # warm: the first run also creates rows
    with CaptureQueriesContext(connection) as one:
        readiness.recompute(pilot_ids=[team.pilot.pk])
    many = [factories.PilotFactory(workspace=team.workspace).pk for _ in range(15)]
    readiness.recompute(pilot_ids=many)
    with CaptureQueriesContext(connection) as fifteen:
        readiness.recompute(pilot_ids=many)
    assert len(fifteen.captured_queries) == len(one.captured_queries)


def test_shared_reads_run_once_per_batch(team):
    with CaptureQueriesContext(connection) as queries:
        readiness.recompute(pilot_ids=[team.pilot.pk])
    case_counts = [q["sql"] for q in queries.captured_queries if 'AS "received_30d"' in q["sql"]]
    assert len(case_counts) == 1  # the hub's figures and the metrics' value both read it


@pytest.fixture
def listening(team, settings):
    """An endpoint of the workspace that asked for "readiness changed" events."""
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    return webhooks.register_endpoint(
        workspace=team.workspace,
        url="http://127.0.0.1:9/hook",
        events=["readiness.changed"],
        actor=team.admin,
    )


def test_readiness_changed_is_announced_when_the_score_or_weakest_section_moves(
    team, django_capture_on_commit_callbacks, listening
):
    readiness.recompute(pilot_ids=[team.pilot.pk])  # the first snapshot: nothing to compare with
    assert not WebhookDelivery.objects.exists()
    readiness.recompute(pilot_ids=[team.pilot.pk])  # unchanged
    assert not WebhookDelivery.objects.exists()
    with django_capture_on_commit_callbacks(execute=False):
        pilot_services.accept_accountability(pilot=team.pilot, actor=team.owner)
        changed = readiness.recompute(pilot_ids=[team.pilot.pk])
    assert changed == [team.pilot.pk]
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "readiness.changed"
    assert delivery.payload["data"]["score"] == 100
    assert delivery.payload["data"]["previous"] == {"score": 50, "weakest_section": "ownership"}
    assert delivery.payload["data"]["pilot"] == {"id": team.pilot.pk, "name": team.pilot.name}


def test_many_pilots_that_moved_read_the_endpoints_once(team, django_capture_on_commit_callbacks, listening):
    pilots = [team.pilot, *(factories.PilotFactory(workspace=team.workspace) for _ in range(4))]
    readiness.recompute(pilot_ids=[p.pk for p in pilots])
    with django_capture_on_commit_callbacks(execute=False):
        Pilot.objects.filter(pk__in=[p.pk for p in pilots]).update(
            accountability_accepted_by=F("workflow_owner"), accountability_accepted_at=timezone.now()
        )
        with CaptureQueriesContext(connection) as queries:
            changed = readiness.recompute(pilot_ids=[p.pk for p in pilots])
    assert len(changed) == 5 and WebhookDelivery.objects.count() == 5
    endpoint_reads = [q for q in queries.captured_queries if 'FROM "pilots_webhookendpoint"' in q["sql"]]
    assert len(endpoint_reads) == 1


def test_every_app_contributes_its_figures(team):
    readiness.recompute(pilot_ids=[team.pilot.pk])
    figures = snapshot(team.pilot).figures
    assert set(figures) >= {"pilots", "metrics", "exceptions"}
    assert figures["pilots"]["cases"] == 0 and figures["pilots"]["pending_request"] is None
    assert figures["metrics"] == {"headline_id": None, "metrics": [], "value": [], "cases_per_month": 0}
    assert figures["exceptions"]["overdue_escalations"] == 0


def test_the_hub_figures_name_the_request_waiting_on_the_owner(team):
    request = gate_services.request_gate_decision(pilot=team.pilot, actor=team.pm, note="go?")
    readiness.recompute(pilot_ids=[team.pilot.pk])
    waiting = snapshot(team.pilot).figures["pilots"]["pending_request"]
    assert waiting["id"] == request.pk and waiting["gate"] == "define_success"
    assert waiting["requested_by_id"] == team.pm.pk


def test_a_pilot_two_weeks_back_is_remembered_for_the_trend(team):
    past = timezone.now() - timedelta(days=15)
    readiness.recompute(pilot_ids=[team.pilot.pk], now=past)
    readiness.recompute(pilot_ids=[team.pilot.pk])
    assert snapshot(team.pilot).figures["pilots"]["score_14_days_ago"] == 50


def test_recompute_all_covers_every_pilot_in_batches(team, monkeypatch):
    monkeypatch.setattr(readiness, "BATCH", 2)
    for _ in range(4):
        factories.PilotFactory(workspace=team.workspace)
    assert readiness.recompute_all() == Pilot.objects.count() == ReadinessSnapshot.objects.count()


def test_one_pass_over_the_cases_serves_every_batch_it_covers(team, monkeypatch):
    pilots = [team.pilot] + [factories.PilotFactory(workspace=team.workspace) for _ in range(4)]
    for n, pilot in enumerate(pilots):
        for i in range(n):
            Case.objects.create(
                pilot=pilot, external_id=f"C-{i}", source="api", received_at=timezone.now(), digest=f"d{i}"
            )
    readiness.recompute(pilot_ids=[p.pk for p in pilots])  # warm
    one_by_one = {}
    for pilot in pilots:
        readiness.recompute(pilot_ids=[pilot.pk])
        one_by_one[pilot.pk] = snapshot(pilot).digest
    monkeypatch.setattr(readiness, "BATCH", 2)
    monkeypatch.setattr(readiness, "COVER", 4)  # two covers: four pilots in two batches, then one
    with CaptureQueriesContext(connection) as queries:
        readiness.recompute(pilot_ids=[p.pk for p in pilots])
    case_counts = [q["sql"] for q in queries.captured_queries if 'AS "received_30d"' in q["sql"]]
    assert len(case_counts) == 2  # one per cover, not one per batch
    assert {p.pk: snapshot(p).digest for p in pilots} == one_by_one
    assert [snapshot(p).figures["pilots"]["cases"] for p in pilots] == [0, 1, 2, 3, 4]
