from django.urls import reverse

from pilots import checks
from pilots.models import Pilot
from tests import factories
from tests.views.conftest import HTMX, actions, is_partial


def url(pilot) -> str:
    return reverse("accept_accountability", args=[pilot.pk])


def test_the_workflow_owner_accepts_accountability(team, client_for):
    response = client_for(team.owner).post(url(team.pilot))
    assert response.status_code == 302
    assert response.url == reverse("pilot_detail", args=[team.pilot.pk])
    team.pilot.refresh_from_db()
    assert team.pilot.accountability_accepted
    assert team.pilot.accountability_accepted_by == team.owner
    assert team.pilot.accountability_accepted_at is not None
    assert actions(pilot=team.pilot) == ["pilot.accountability_accepted"]
    result = checks.evaluate([team.pilot.pk])[team.pilot.pk]["ownership.accountability_accepted"]
    assert result.status == checks.VERIFIED


def test_an_htmx_accept_gets_the_track_and_a_pilot_changed_event(team, client_for):
    response = client_for(team.owner).post(url(team.pilot), headers=HTMX)
    assert response.status_code == 200
    assert "pilotChanged" in response.headers["HX-Trigger"]
    assert is_partial(response)
    assert 'id="accept-accountability"' not in response.content.decode()


def test_accepting_twice_writes_one_event(team, client_for):
    client = client_for(team.owner)
    first_at = None
    for _ in range(2):
        assert client.post(url(team.pilot), headers=HTMX).status_code == 200
        team.pilot.refresh_from_db()
        first_at = first_at or team.pilot.accountability_accepted_at
    assert team.pilot.accountability_accepted_at == first_at
    assert actions(pilot=team.pilot) == ["pilot.accountability_accepted"]


def test_forged_fields_are_ignored(team, client_for):
    client_for(team.owner).post(
        url(team.pilot), {"accountability_accepted_by": team.pm.pk, "stage": "production"}
    )
    team.pilot.refresh_from_db()
    assert team.pilot.accountability_accepted_by == team.owner
    assert team.pilot.stage == "proposed"


def test_it_requires_the_pilots_workflow_owner(team, client_for):
    another_owner = factories.member(team.workspace, "workflow_owner", username="another_owner")
    for user in (team.admin, team.pm, team.reviewer, team.leader, another_owner):
        assert client_for(user).post(url(team.pilot)).status_code == 403, user
    assert Pilot.objects.get(pk=team.pilot.pk).accountability_accepted_by is None
    assert actions(pilot=team.pilot) == []


def test_it_is_a_404_for_an_outsider(team, client_for):
    assert client_for(team.outsider).post(url(team.pilot)).status_code == 404
    assert Pilot.objects.get(pk=team.pilot.pk).accountability_accepted_by is None
    assert actions(pilot=team.pilot) == []


def test_it_requires_post(team, client_for):
    assert client_for(team.owner).get(url(team.pilot)).status_code == 405
    assert Pilot.objects.get(pk=team.pilot.pk).accountability_accepted_by is None
