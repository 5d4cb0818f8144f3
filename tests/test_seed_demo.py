import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from pilots.demo.cases import _arrival_times, _window_start
from pilots.models import (
    Attestation,
    AuditEvent,
    GateCondition,
    GateDecision,
    GateRequest,
    Pilot,
    Stage,
    Status,
)


def test_seed_demo_covers_every_stage_and_status_and_is_idempotent(db, capsys):
    call_command("seed_demo")
    output = capsys.readouterr().out
    assert "prodready-demo" in output
    pilots = Pilot.objects.all()
    assert 10 <= pilots.count() <= 15
    assert {p.stage for p in pilots} == set(Stage.values)
    assert {p.status for p in pilots} == set(Status.values)
    assert GateRequest.objects.filter(state="pending").exists()
    assert {d.outcome for d in GateDecision.objects.all()} == {
        "go",
        "conditional_go",
        "hold",
        "recycle",
        "stop",
    }
    assert GateCondition.objects.filter(closed_at=None).exists()
    events = AuditEvent.objects.count()
    call_command("seed_demo")
    call_command("seed_demo", if_empty=True)
    assert Pilot.objects.count() == pilots.count()
    assert AuditEvent.objects.count() == events
    # history reads like months of use, not one instant
    first, last = GateDecision.objects.order_by("decided_at").values_list("decided_at", flat=True)[
        :: GateDecision.objects.count() - 1
    ]
    assert (last - first).days > 60
    assert Attestation.objects.filter(check_id="integration.points_declared").exists()


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 12, 7, 23, 30, tzinfo=UTC),  # the workspace's next day; summer time in the window
        datetime(2026, 6, 1, 22, 30, tzinfo=UTC),  # winter time in the window
        datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    ],
)
def test_the_demo_cases_arrive_in_their_window_and_never_after_the_seed(now):
    zone = ZoneInfo("Europe/Berlin")
    first = _window_start(now, zone)
    local = first.astimezone(zone)
    assert (local.weekday(), local.time()) == (0, time(0))
    assert timedelta(weeks=12) <= now - first < timedelta(weeks=13)
    times = _arrival_times(random.Random(7), 20_000, first, now, zone)
    assert first <= times[0] and times[-1] < now
    assert times == sorted(times)
