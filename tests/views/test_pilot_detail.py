"""The pilot page, its stage track and its activity feed."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pilots.models import Pilot
from pilots.services import gates as gate_services
from tests import factories
from tests.views.conftest import HTMX, actions


def detail_url(pilot) -> str:
    return reverse("pilot_detail", args=[pilot.pk])


def activity_url(pilot) -> str:
    return reverse("pilot_activity", args=[pilot.pk])


def test_every_member_sees_the_pilot(team, client_for):
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        response = client_for(team.person(name)).get(detail_url(team.pilot))
        assert response.status_code == 200, name
        body = response.content.decode()
        assert team.pilot.name in body
        assert 'id="stage-track"' in body
        assert "Workflow owner accepted accountability" in body  # the next gate's checks


def test_it_is_a_404_for_an_outsider(team, client_for):
    assert client_for(team.outsider).get(detail_url(team.pilot)).status_code == 404


def test_a_pilot_of_another_workspace_is_a_404_for_a_member_of_this_one(team, client_for):
    theirs = factories.PilotFactory(workspace=team.other_workspace)
    assert client_for(team.admin).get(detail_url(theirs)).status_code == 404


def test_an_unknown_pilot_is_a_404(team, client_for):
    assert client_for(team.pm).get(reverse("pilot_detail", args=[999_999])).status_code == 404


def test_it_requires_get(team, client_for):
    assert client_for(team.pm).post(detail_url(team.pilot)).status_code == 405
    assert Pilot.objects.get(pk=team.pilot.pk).stage == "proposed"


def test_an_htmx_get_still_gets_the_whole_page(team, client_for):
    response = client_for(team.pm).get(detail_url(team.pilot), headers=HTMX)
    assert response.status_code == 200
    assert "<html" in response.content.decode()


def test_the_program_manager_sees_the_request_form_and_the_edit_button(team, client_for):
    body = client_for(team.pm).get(detail_url(team.pilot)).content.decode()
    assert 'id="request-form"' in body
    assert reverse("pilot_edit", args=[team.pilot.pk]) in body
    assert 'id="accept-accountability"' not in body


def test_the_workflow_owner_is_asked_to_accept_accountability(team, client_for):
    body = client_for(team.owner).get(detail_url(team.pilot)).content.decode()
    assert 'id="accept-accountability"' in body
    assert 'id="request-form"' not in body
    assert reverse("pilot_edit", args=[team.pilot.pk]) not in body


def test_a_reviewer_sees_no_action(team, client_for, pending):
    body = client_for(team.reviewer).get(detail_url(team.pilot)).content.decode()
    for marker in ('id="request-form"', 'id="decide-form"', "Withdraw request", 'id="accept-accountability"'):
        assert marker not in body


def test_the_workflow_owner_sees_the_decision_form_of_a_pending_request(team, client_for, pending):
    body = client_for(team.owner).get(detail_url(team.pilot)).content.decode()
    assert 'id="decide-form"' in body
    assert reverse("gate_decide", args=[team.pilot.pk, pending.pk]) in body


def test_the_page_shows_the_gate_history_and_activity(team, client_for, pending):
    response = client_for(team.leader).get(detail_url(team.pilot))
    assert list(response.context["history"]) == [pending]
    assert [e.action for e in response.context["activity"]] == ["gate.requested"]
    assert "gate requested" in response.content.decode()


def test_viewing_writes_nothing(team, client_for):
    client_for(team.pm).get(detail_url(team.pilot))
    assert actions(workspace=team.workspace) == []


def test_the_activity_feed_is_a_fragment(team, client_for, pending):
    response = client_for(team.reviewer).get(activity_url(team.pilot), headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="activity"' in body
    assert "<html" not in body
    assert "gate requested" in body


def test_the_activity_feed_is_a_404_for_an_outsider(team, client_for, pending):
    response = client_for(team.outsider).get(activity_url(team.pilot))
    assert response.status_code == 404


def test_the_activity_feed_requires_get(team, client_for):
    assert client_for(team.pm).post(activity_url(team.pilot)).status_code == 405


def add_history(team, count: int) -> None:
    """`count` withdrawn gate requests and as many audit events on the team's pilot."""
    for _ in range(count):
        request = gate_services.request_gate_decision(pilot=team.pilot, actor=team.pm)
        gate_services.withdraw_gate_request(gate_request=request, actor=team.admin)


def test_the_page_makes_the_same_queries_for_a_short_or_long_history(team, client_for):
    client = client_for(team.pm)
    add_history(team, 1)
    client.get(detail_url(team.pilot))
    with CaptureQueriesContext(connection) as short:
        client.get(detail_url(team.pilot))
    add_history(team, 10)
    with CaptureQueriesContext(connection) as long:
        response = client.get(detail_url(team.pilot))
    assert len(response.context["history"]) == 11
    assert len(long) == len(short)
