from django.core.management import call_command

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
