from django.core import mail
from django.urls import reverse

from pilots.models import GateRequest, Pilot
from tests import factories
from tests.views.conftest import HTMX, actions, is_partial


def url(pilot) -> str:
    return reverse("gate_request", args=[pilot.pk])


def test_the_program_manager_requests_the_next_gate(team, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(team.pm).post(url(team.pilot), {"note": "All set"})
    assert response.status_code == 302
    assert response.url == reverse("pilot_detail", args=[team.pilot.pk])
    request = GateRequest.objects.get(pilot=team.pilot)
    assert (request.from_stage, request.to_stage, request.state) == ("proposed", "define_success", "pending")
    assert (request.requested_by, request.note) == (team.pm, "All set")
    assert actions(pilot=team.pilot) == ["gate.requested"]
    [email] = mail.outbox
    assert email.to == [team.owner.email]
    assert reverse("pilot_detail", args=[team.pilot.pk]) in email.body


def test_an_htmx_request_gets_the_track_and_a_pilot_changed_event(team, client_for):
    response = client_for(team.pm).post(url(team.pilot), {"note": ""}, headers=HTMX)
    assert response.status_code == 200
    assert "pilotChanged" in response.headers["HX-Trigger"]
    assert is_partial(response)
    assert 'id="pending-request"' in response.content.decode()
    assert GateRequest.objects.filter(pilot=team.pilot, state="pending").count() == 1


def test_an_admin_may_request(team, client_for):
    assert client_for(team.admin).post(url(team.pilot)).status_code == 302
    assert GateRequest.objects.get(pilot=team.pilot).requested_by == team.admin


def test_a_forged_requester_or_gate_is_ignored(team, client_for):
    forged = {"requested_by": team.admin.pk, "to_stage": "production", "from_stage": "feedback_loops"}
    client_for(team.pm).post(url(team.pilot), forged)
    request = GateRequest.objects.get(pilot=team.pilot)
    assert (request.requested_by, request.from_stage, request.to_stage) == (
        team.pm,
        "proposed",
        "define_success",
    )


def test_a_second_request_is_refused_and_one_stays_pending(
    team, client_for, django_capture_on_commit_callbacks
):
    client = client_for(team.pm)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(team.pilot), headers=HTMX)
        response = client.post(url(team.pilot), headers=HTMX)
    assert response.status_code == 422
    assert is_partial(response)
    assert "already waiting" in response.content.decode()
    assert "HX-Trigger" not in response.headers
    assert GateRequest.objects.filter(pilot=team.pilot, state="pending").count() == 1
    assert actions(pilot=team.pilot) == ["gate.requested"]
    assert len(mail.outbox) == 1


def test_a_refused_plain_post_shows_the_whole_page_with_the_error(team, client_for, pending):
    response = client_for(team.pm).post(url(team.pilot))
    assert response.status_code == 422
    body = response.content.decode()
    assert "<html" in body
    assert "already waiting" in body


def test_the_pilots_own_workflow_owner_cannot_request(team, client_for):
    factories.grant(team.owner, team.workspace, "program_manager")
    response = client_for(team.owner).post(url(team.pilot), headers=HTMX)
    assert response.status_code == 422
    assert "You own this workflow" in response.content.decode()
    assert not GateRequest.objects.filter(pilot=team.pilot).exists()
    assert actions(pilot=team.pilot) == []


def test_a_pilot_on_hold_cannot_pass_a_gate(team, client_for):
    Pilot.objects.filter(pk=team.pilot.pk).update(status="on_hold")
    response = client_for(team.pm).post(url(team.pilot), headers=HTMX)
    assert response.status_code == 422
    assert "only an active pilot can pass a gate" in response.content.decode()
    assert not GateRequest.objects.exists()


def test_a_pilot_in_production_has_no_further_gate(team, client_for):
    Pilot.objects.filter(pk=team.pilot.pk).update(stage="production")
    response = client_for(team.pm).post(url(team.pilot), headers=HTMX)
    assert response.status_code == 422
    assert "no further gate" in response.content.decode()
    assert not GateRequest.objects.exists()


def test_it_requires_the_program_manager_or_admin_role(team, client_for):
    for name in ("owner", "reviewer", "leader"):
        assert client_for(team.person(name)).post(url(team.pilot)).status_code == 403, name
    assert not GateRequest.objects.exists()
    assert actions(pilot=team.pilot) == []


def test_it_is_a_404_for_an_outsider(team, client_for):
    assert client_for(team.outsider).post(url(team.pilot)).status_code == 404
    assert not GateRequest.objects.exists()
    assert actions(pilot=team.pilot) == []


def test_it_requires_post(team, client_for):
    assert client_for(team.pm).get(url(team.pilot)).status_code == 405
    assert not GateRequest.objects.exists()
