from django.urls import reverse

from pilots.models import GateRequest
from pilots.services import gates as gate_services
from tests import factories
from tests.views.conftest import HTMX, actions, is_partial


def url(request) -> str:
    return reverse("gate_withdraw", args=[request.pilot_id, request.pk])


def test_the_program_manager_withdraws_a_request(team, client_for, pending):
    response = client_for(team.pm).post(url(pending))
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.state == "withdrawn"
    assert pending.withdrawn_by == team.pm
    assert actions(pilot=team.pilot) == ["gate.requested", "gate.withdrawn"]


def test_an_htmx_withdrawal_gets_the_track_and_a_pilot_changed_event(team, client_for, pending):
    response = client_for(team.admin).post(url(pending), headers=HTMX)
    assert response.status_code == 200
    assert "pilotChanged" in response.headers["HX-Trigger"]
    assert is_partial(response)
    assert 'id="request-form"' in response.content.decode()  # a new request may be made


def test_withdrawing_twice_is_harmless(team, client_for, pending):
    client = client_for(team.pm)
    client.post(url(pending), headers=HTMX)
    response = client.post(url(pending), headers=HTMX)
    assert response.status_code == 200
    assert actions(pilot=team.pilot) == ["gate.requested", "gate.withdrawn"]


def test_a_decided_request_cannot_be_withdrawn(team, client_for, pending):
    gate_services.decide_gate(gate_request=pending, actor=team.owner, outcome="hold", comment="wait")
    response = client_for(team.pm).post(url(pending), headers=HTMX)
    assert response.status_code == 422
    assert "can no longer be withdrawn" in response.content.decode()
    pending.refresh_from_db()
    assert pending.state == "decided"


def test_a_request_of_another_pilot_is_a_404(team, client_for, pending):
    other = factories.PilotFactory(workspace=team.workspace, program_manager=team.pm)
    response = client_for(team.pm).post(reverse("gate_withdraw", args=[other.pk, pending.pk]))
    assert response.status_code == 404
    pending.refresh_from_db()
    assert pending.state == "pending"


def test_it_requires_the_program_manager_or_admin_role(team, client_for, pending):
    for name in ("owner", "reviewer", "leader"):
        assert client_for(team.person(name)).post(url(pending)).status_code == 403, name
    pending.refresh_from_db()
    assert pending.state == "pending"
    assert actions(pilot=team.pilot) == ["gate.requested"]


def test_it_is_a_404_for_an_outsider(team, client_for, pending):
    assert client_for(team.outsider).post(url(pending)).status_code == 404
    pending.refresh_from_db()
    assert pending.state == "pending"
    assert actions(pilot=team.pilot) == ["gate.requested"]


def test_it_requires_post(team, client_for, pending):
    assert client_for(team.pm).get(url(pending)).status_code == 405
    assert GateRequest.objects.get(pk=pending.pk).state == "pending"
