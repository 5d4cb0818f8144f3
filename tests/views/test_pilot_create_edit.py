from django.urls import reverse

from pilots.models import Pilot
from tests import factories
from tests.views.conftest import actions

CREATE = reverse("pilot_create", args=["acme"])


def edit_url(pilot) -> str:
    return reverse("pilot_edit", args=[pilot.pk])


def details(team, **changes) -> dict:
    return {
        "name": "Invoice matching",
        "problem": "Invoices wait a week for a match.",
        "workflow": "Accounts payable",
        "business_unit": "Finance",
        "program_manager": team.pm.pk,
        "workflow_owner": team.owner.pk,
        "reviewers": [team.reviewer.pk],
        "integration_points": "SAP\n\n ServiceNow \n",
        "started_on": "2030-01-01",
        "target_date": "2030-06-30",
        **changes,
    }


# Create


def test_the_form_proposes_the_program_manager_themselves(team, client_for):
    response = client_for(team.pm).get(CREATE)
    assert response.status_code == 200
    assert response.context["form"].initial["program_manager"] == team.pm.pk


def test_a_program_manager_registers_a_pilot(team, client_for):
    response = client_for(team.pm).post(CREATE, details(team))
    pilot = Pilot.objects.get(name="Invoice matching")
    assert response.status_code == 302
    assert response.url == reverse("pilot_detail", args=[pilot.pk])
    assert pilot.workspace == team.workspace
    assert (pilot.stage, pilot.status) == ("proposed", "active")
    assert (pilot.program_manager, pilot.workflow_owner) == (team.pm, team.owner)
    assert list(pilot.reviewers.all()) == [team.reviewer]
    assert pilot.integration_points == ["SAP", "ServiceNow"]
    assert actions(pilot=pilot) == ["pilot.created"]
    event = pilot.audit_events.get()
    assert event.actor == team.pm
    assert event.after["stage"] == "proposed"


def test_an_admin_registers_a_pilot(team, client_for):
    assert client_for(team.admin).post(CREATE, details(team)).status_code == 302
    assert Pilot.objects.filter(name="Invoice matching", workspace=team.workspace).exists()


def test_forged_workspace_stage_and_status_are_ignored(team, client_for):
    forged = details(
        team,
        workspace=team.other_workspace.pk,
        stage="production",
        status="stopped",
        accountability_accepted_by=team.owner.pk,
        copied_from=team.pilot.pk,
    )
    assert client_for(team.pm).post(CREATE, forged).status_code == 302
    pilot = Pilot.objects.get(name="Invoice matching")
    assert pilot.workspace == team.workspace
    assert (pilot.stage, pilot.status) == ("proposed", "active")
    assert pilot.accountability_accepted_by is None
    assert pilot.copied_from is None


def test_people_must_hold_their_roles_in_this_workspace(team, client_for):
    client = client_for(team.pm)
    for field, person in (
        ("program_manager", team.reviewer),
        ("workflow_owner", team.pm),
        ("workflow_owner", team.outsider),
        ("reviewers", team.leader),
    ):
        response = client.post(CREATE, details(team, **{field: person.pk}))
        assert response.status_code == 422, field
        assert field in response.context["form"].errors, field
    assert not Pilot.objects.filter(name="Invoice matching").exists()
    assert actions(workspace=team.workspace) == []


def test_it_refuses_a_target_date_before_the_start(team, client_for):
    response = client_for(team.pm).post(CREATE, details(team, target_date="2029-12-31"))
    assert response.status_code == 422
    assert "cannot be before the start date" in response.content.decode()
    assert not Pilot.objects.filter(name="Invoice matching").exists()


def test_it_requires_a_name_problem_and_workflow(team, client_for):
    response = client_for(team.pm).post(CREATE, details(team, name="", problem="", workflow=""))
    assert response.status_code == 422
    assert {"name", "problem", "workflow"} <= set(response.context["form"].errors)


def test_creating_requires_the_program_manager_or_admin_role(team, client_for):
    for name in ("owner", "reviewer", "leader"):
        client = client_for(team.person(name))
        assert client.get(CREATE).status_code == 403, name
        assert client.post(CREATE, details(team)).status_code == 403, name
    assert not Pilot.objects.filter(name="Invoice matching").exists()
    assert actions(workspace=team.workspace) == []


def test_creating_is_a_404_for_an_outsider(team, client_for):
    client = client_for(team.outsider)
    assert client.get(CREATE).status_code == 404
    assert client.post(CREATE, details(team)).status_code == 404
    assert not Pilot.objects.filter(name="Invoice matching").exists()
    assert actions(workspace=team.workspace) == []


def test_creating_requires_get_or_post(team, client_for):
    assert client_for(team.pm).put(CREATE).status_code == 405


def test_a_refused_post_repeated_still_creates_nothing(team, client_for):
    client = client_for(team.pm)
    for _ in range(2):
        assert client.post(CREATE, details(team, workflow_owner=team.pm.pk)).status_code == 422
    assert Pilot.objects.filter(workspace=team.workspace).count() == 1


# Edit


def test_the_form_shows_the_pilots_details(team, client_for):
    response = client_for(team.pm).get(edit_url(team.pilot))
    assert response.status_code == 200
    assert response.context["form"].initial["name"] == team.pilot.name
    assert team.pilot.name in response.content.decode()


def test_a_program_manager_edits_a_pilot(team, client_for):
    response = client_for(team.pm).post(edit_url(team.pilot), details(team))
    assert response.status_code == 302
    assert response.url == reverse("pilot_detail", args=[team.pilot.pk])
    team.pilot.refresh_from_db()
    assert team.pilot.name == "Invoice matching"
    assert team.pilot.business_unit == "Finance"
    assert actions(pilot=team.pilot) == ["pilot.updated"]
    event = team.pilot.audit_events.get()
    assert event.before["name"] != event.after["name"] == "Invoice matching"


def test_saving_the_same_details_twice_writes_one_event(team, client_for):
    client = client_for(team.pm)
    client.post(edit_url(team.pilot), details(team))
    assert client.post(edit_url(team.pilot), details(team)).status_code == 302
    assert actions(pilot=team.pilot) == ["pilot.updated"]


def test_editing_ignores_forged_stage_status_and_workspace(team, client_for):
    forged = details(team, workspace=team.other_workspace.pk, stage="production", status="stopped")
    client_for(team.pm).post(edit_url(team.pilot), forged)
    team.pilot.refresh_from_db()
    assert team.pilot.workspace == team.workspace
    assert (team.pilot.stage, team.pilot.status) == ("proposed", "active")


def test_a_new_workflow_owner_accepts_accountability_anew(team, client_for, accepted):
    successor = factories.member(team.workspace, "workflow_owner", username="successor")
    client_for(team.pm).post(edit_url(team.pilot), details(team, workflow_owner=successor.pk))
    team.pilot.refresh_from_db()
    assert team.pilot.workflow_owner == successor
    assert not team.pilot.accountability_accepted
    assert team.pilot.accountability_accepted_by is None


def test_editing_refuses_bad_input_and_keeps_the_pilot(team, client_for):
    before = team.pilot.name
    response = client_for(team.pm).post(edit_url(team.pilot), details(team, target_date="2029-01-01"))
    assert response.status_code == 422
    assert "target_date" in response.context["form"].errors
    team.pilot.refresh_from_db()
    assert team.pilot.name == before
    assert actions(pilot=team.pilot) == []


def test_editing_requires_the_program_manager_or_admin_role(team, client_for):
    for name in ("owner", "reviewer", "leader"):
        client = client_for(team.person(name))
        assert client.get(edit_url(team.pilot)).status_code == 403, name
        assert client.post(edit_url(team.pilot), details(team)).status_code == 403, name
    team.pilot.refresh_from_db()
    assert team.pilot.name != "Invoice matching"
    assert actions(pilot=team.pilot) == []


def test_an_admin_may_edit(team, client_for):
    assert client_for(team.admin).post(edit_url(team.pilot), details(team)).status_code == 302


def test_editing_is_a_404_for_an_outsider(team, client_for):
    client = client_for(team.outsider)
    assert client.get(edit_url(team.pilot)).status_code == 404
    assert client.post(edit_url(team.pilot), details(team)).status_code == 404
    team.pilot.refresh_from_db()
    assert team.pilot.name != "Invoice matching"
    assert actions(pilot=team.pilot) == []


def test_editing_requires_get_or_post(team, client_for):
    assert client_for(team.pm).put(edit_url(team.pilot)).status_code == 405


def test_an_empty_post_answers_422_with_the_missing_fields(team, client_for):
    client = client_for(team.pm)
    for url in (CREATE, edit_url(team.pilot)):
        response = client.post(url, {})
        assert response.status_code == 422, url
        assert "name" in response.context["form"].errors, url
    assert Pilot.objects.count() == 1
