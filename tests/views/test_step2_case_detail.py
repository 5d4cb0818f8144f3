"""A case's page: inputs and outputs, problems, outcome, history."""

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from pilots.models import AuditEvent, Case
from pilots.services import intake
from pilots.services import uploads as upload_services
from tests import factories
from tests.views.test_step2_helpers import publish


def url(case) -> str:
    return reverse("case_detail", args=[case.pilot_id, case.pk])


def a_case(team, external_id: str = "case-1", **inputs) -> Case:
    intake.ingest(
        pilot=team.pilot,
        arrivals=[
            intake.Arrival(
                external_id=external_id,
                inputs={"claim_id": "C-1", "amount": "-5", "channel": "phone", "extra": "x", **inputs},
                outputs={"category": "glass", "confidence": "0.9"},
            )
        ],
        source="form",
        actor=team.pm,
    )
    return Case.objects.get(pilot=team.pilot, external_id=external_id)


def test_every_member_reads_a_case(team, client_for):
    publish(team)
    case = a_case(team)
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        response = client_for(team.person(name)).get(url(case))
        assert response.status_code == 200, name
    page = response.content.decode()
    assert "Case case-1" in page
    assert "Amount must be at least 0, got -5." in page
    assert "Phone number is required when Channel is phone." in page
    assert "not in the standard" in page  # the extra field, kept and flagged
    assert "glass" in page and "0.9" in page
    assert "arrived by form" in page
    assert reverse("standard_version", args=[team.pilot.pk, 1]) in page


def test_it_shows_the_outcome_columns(team, client_for):
    case = a_case(team)
    Case.objects.filter(pk=case.pk).update(
        decided_at=timezone.now(), corrected=True, touchpoints=3, cost=Decimal("12.50"), route="escalated"
    )
    page = client_for(team.pm).get(url(case)).content.decode()
    assert "Escalated" in page
    assert "12.50 EUR" in page
    assert "<dd>3</dd>" in page


def test_it_shows_the_cases_own_audit_events(team, client_for):
    case = a_case(team)
    AuditEvent.objects.create(
        workspace=team.workspace,
        pilot=team.pilot,
        actor=team.reviewer,
        actor_label="Reviewer",
        action="case.decided",
        object_type="pilots.case",
        object_id=str(case.pk),
        object_repr=str(case),
    )
    assert "case decided" in client_for(team.pm).get(url(case)).content.decode()


def test_it_names_the_upload_that_brought_the_case(
    team, client_for, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.UPLOAD_DIR = tmp_path
    publish(team)
    file = SimpleUploadedFile("claims.csv", b"external_id,claim_id,amount,channel\nu-1,C-1,10,web\n")
    with django_capture_on_commit_callbacks(execute=True):
        upload = upload_services.start_upload(pilot=team.pilot, actor=team.pm, uploaded=file)
    case = Case.objects.get(pilot=team.pilot, external_id="u-1")
    page = client_for(team.leader).get(url(case)).content.decode()
    assert "arrived by upload" in page
    assert reverse("upload_detail", args=[team.pilot.pk, upload.pk]) in page


def test_a_case_without_a_standard_shows_its_values(team, client_for):
    case = a_case(team)
    page = client_for(team.pm).get(url(case)).content.decode()
    assert "no standard" in page
    assert "C-1" in page


def test_a_case_of_another_pilot_is_a_404_under_this_one(team, client_for):
    other = factories.PilotFactory(workspace=team.workspace)
    theirs = Case.objects.create(
        pilot=other, external_id="t", source="api", received_at=timezone.now(), digest="x"
    )
    response = client_for(team.pm).get(reverse("case_detail", args=[team.pilot.pk, theirs.pk]))
    assert response.status_code == 404


def test_it_is_a_404_for_an_outsider(team, client_for):
    case = a_case(team)
    assert client_for(team.outsider).get(url(case)).status_code == 404


def test_it_requires_get(team, client_for):
    case = a_case(team)
    assert client_for(team.pm).post(url(case)).status_code == 405
