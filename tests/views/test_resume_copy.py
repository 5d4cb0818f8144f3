"""Resuming a pilot on hold, and copying a stopped pilot into a new proposal."""

from django.urls import reverse

from pilots.models import Pilot
from tests import factories
from tests.views.conftest import HTMX, actions, is_partial


def resume_url(pilot) -> str:
    return reverse("pilot_resume", args=[pilot.pk])


def copy_url(pilot) -> str:
    return reverse("pilot_copy", args=[pilot.pk])


def set_status(pilot, status: str) -> None:
    Pilot.objects.filter(pk=pilot.pk).update(status=status)


# Resume


def test_the_workflow_owner_resumes_a_pilot_on_hold(team, client_for):
    set_status(team.pilot, "on_hold")
    response = client_for(team.owner).post(resume_url(team.pilot))
    assert response.status_code == 302
    team.pilot.refresh_from_db()
    assert team.pilot.status == "active"
    assert actions(pilot=team.pilot) == ["pilot.resumed"]


def test_an_htmx_resume_gets_the_track_and_a_pilot_changed_event(team, client_for):
    set_status(team.pilot, "on_hold")
    response = client_for(team.owner).post(resume_url(team.pilot), headers=HTMX)
    assert response.status_code == 200
    assert "pilotChanged" in response.headers["HX-Trigger"]
    assert is_partial(response)
    assert 'data-status="active"' in response.content.decode()


def test_resuming_twice_writes_one_event(team, client_for):
    set_status(team.pilot, "on_hold")
    client = client_for(team.owner)
    client.post(resume_url(team.pilot), headers=HTMX)
    assert client.post(resume_url(team.pilot), headers=HTMX).status_code == 200
    assert actions(pilot=team.pilot) == ["pilot.resumed"]


def test_a_stopped_pilot_cannot_be_resumed(team, client_for):
    set_status(team.pilot, "stopped")
    response = client_for(team.owner).post(resume_url(team.pilot), headers=HTMX)
    assert response.status_code == 422
    assert "cannot be resumed" in response.content.decode()
    assert Pilot.objects.get(pk=team.pilot.pk).status == "stopped"
    assert actions(pilot=team.pilot) == []


def test_resuming_requires_the_pilots_workflow_owner(team, client_for):
    set_status(team.pilot, "on_hold")
    another_owner = factories.member(team.workspace, "workflow_owner", username="another_owner")
    for user in (team.admin, team.pm, team.reviewer, team.leader, another_owner):
        assert client_for(user).post(resume_url(team.pilot)).status_code == 403, user
    assert Pilot.objects.get(pk=team.pilot.pk).status == "on_hold"
    assert actions(pilot=team.pilot) == []


def test_resuming_is_a_404_for_an_outsider(team, client_for):
    set_status(team.pilot, "on_hold")
    assert client_for(team.outsider).post(resume_url(team.pilot)).status_code == 404
    assert Pilot.objects.get(pk=team.pilot.pk).status == "on_hold"


def test_resuming_requires_post(team, client_for):
    set_status(team.pilot, "on_hold")
    assert client_for(team.owner).get(resume_url(team.pilot)).status_code == 405
    assert Pilot.objects.get(pk=team.pilot.pk).status == "on_hold"


# Copy


def test_a_stopped_pilot_is_copied_into_a_new_proposal(team, client_for):
    team.pilot.reviewers.add(team.reviewer)
    Pilot.objects.filter(pk=team.pilot.pk).update(status="stopped", stage="exception_paths")
    response = client_for(team.pm).post(copy_url(team.pilot))
    copy = Pilot.objects.get(copied_from=team.pilot)
    assert response.status_code == 302
    assert response.url == reverse("pilot_edit", args=[copy.pk])
    assert copy.name == f"{team.pilot.name} (copy)"
    assert copy.workspace == team.workspace
    assert (copy.stage, copy.status) == ("proposed", "active")
    assert (copy.program_manager, copy.workflow_owner) == (team.pm, team.owner)
    assert list(copy.reviewers.all()) == [team.reviewer]
    assert copy.accountability_accepted_by is None
    assert actions(pilot=copy) == ["pilot.copied"]
    assert Pilot.objects.get(pk=team.pilot.pk).status == "stopped"


def test_an_active_pilot_cannot_be_copied(team, client_for):
    response = client_for(team.pm).post(copy_url(team.pilot), follow=True)
    assert "Only a stopped pilot can be copied" in response.content.decode()
    assert not Pilot.objects.filter(copied_from=team.pilot).exists()
    assert actions(workspace=team.workspace) == []


def test_copying_requires_the_program_manager_or_admin_role(team, client_for):
    set_status(team.pilot, "stopped")
    for name in ("owner", "reviewer", "leader"):
        assert client_for(team.person(name)).post(copy_url(team.pilot)).status_code == 403, name
    assert not Pilot.objects.filter(copied_from=team.pilot).exists()
    assert client_for(team.admin).post(copy_url(team.pilot)).status_code == 302


def test_copying_is_a_404_for_an_outsider(team, client_for):
    set_status(team.pilot, "stopped")
    assert client_for(team.outsider).post(copy_url(team.pilot)).status_code == 404
    assert not Pilot.objects.filter(copied_from=team.pilot).exists()
    assert actions(workspace=team.workspace) == []


def test_copying_requires_post(team, client_for):
    set_status(team.pilot, "stopped")
    assert client_for(team.pm).get(copy_url(team.pilot)).status_code == 405
    assert not Pilot.objects.filter(copied_from=team.pilot).exists()


def test_copying_twice_makes_one_copy(team, client_for):
    # A double-submitted "Copy" button must not register two identical proposals.
    set_status(team.pilot, "stopped")
    client = client_for(team.pm)
    first = client.post(copy_url(team.pilot))
    second = client.post(copy_url(team.pilot))
    assert first.status_code == second.status_code == 302
    assert Pilot.objects.filter(copied_from=team.pilot).count() == 1
    assert actions(workspace=team.workspace).count("pilot.copied") == 1


def test_a_refused_copy_answers_422_with_the_reason(team, client_for):
    # Views answer validation errors with 422 and the page, not a redirect.
    response = client_for(team.pm).post(copy_url(team.pilot))
    assert response.status_code == 422
    assert "Only a stopped pilot can be copied" in response.content.decode()
    assert not Pilot.objects.filter(copied_from=team.pilot).exists()
