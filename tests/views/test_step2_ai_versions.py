"""Registering the versions of the pilot's AI."""

from datetime import date

from django.urls import reverse

from pilots.models import AIVersion
from pilots.services import standards as standard_services
from tests.views.conftest import HTMX, actions

DATA = {"identifier": "claims-model-2.3", "released_on": "2026-02-01", "notes": "retrained on Q4"}


def url(pilot) -> str:
    return reverse("ai_versions", args=[pilot.pk])


def test_every_member_sees_the_versions(team, client_for):
    standard_services.register_ai_version(
        pilot=team.pilot, actor=team.pm, identifier="claims-model-1.0", released_on=date(2026, 1, 2)
    )
    for name in ("admin", "pm", "owner", "reviewer", "leader"):
        response = client_for(team.person(name)).get(url(team.pilot))
        assert response.status_code == 200, name
        assert "claims-model-1.0" in response.content.decode(), name


def test_only_program_managers_and_admins_see_the_form(team, client_for):
    assert 'id="ai-version-form"' in client_for(team.pm).get(url(team.pilot)).content.decode()
    assert 'id="ai-version-form"' not in client_for(team.reviewer).get(url(team.pilot)).content.decode()


def test_the_program_manager_registers_a_version(team, client_for):
    response = client_for(team.pm).post(url(team.pilot), DATA)
    assert response.status_code == 302
    assert response.url == url(team.pilot)
    version = AIVersion.objects.get(pilot=team.pilot)
    assert (version.identifier, version.released_on, version.notes) == (
        "claims-model-2.3",
        date(2026, 2, 1),
        "retrained on Q4",
    )
    assert actions(pilot=team.pilot) == ["ai_version.registered"]


def test_an_htmx_registration_returns_the_list_with_the_new_version_and_an_empty_form(team, client_for):
    response = client_for(team.admin).post(url(team.pilot), DATA, headers=HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="ai-versions"' in page and "<html" not in page
    assert "AI version claims-model-2.3 registered." in page
    assert 'name="identifier" value=' not in page


def test_registering_the_same_identifier_twice_is_refused_and_keeps_one(team, client_for):
    client = client_for(team.pm)
    client.post(url(team.pilot), DATA)
    response = client.post(url(team.pilot), DATA, headers=HTMX)
    assert response.status_code == 422
    assert "is registered already" in response.content.decode()
    assert AIVersion.objects.filter(pilot=team.pilot).count() == 1
    assert actions(pilot=team.pilot) == ["ai_version.registered"]


def test_a_missing_date_is_refused_and_the_typed_identifier_kept(team, client_for):
    response = client_for(team.pm).post(url(team.pilot), {"identifier": "v9", "released_on": ""})
    assert response.status_code == 422
    assert 'value="v9"' in response.content.decode()
    assert not AIVersion.objects.exists()


def test_forged_fields_are_ignored(team, client_for):
    client_for(team.pm).post(url(team.pilot), DATA | {"pilot": "999", "created_at": "2000-01-01"})
    assert AIVersion.objects.get().pilot == team.pilot


def test_registering_requires_the_program_manager_or_admin_role(team, client_for):
    for name in ("owner", "reviewer", "leader"):
        assert client_for(team.person(name)).post(url(team.pilot), DATA).status_code == 403, name
    assert not AIVersion.objects.exists()
    assert actions(pilot=team.pilot) == []


def test_it_is_a_404_for_an_outsider(team, client_for):
    client = client_for(team.outsider)
    assert client.get(url(team.pilot)).status_code == 404
    assert client.post(url(team.pilot), DATA).status_code == 404
    assert not AIVersion.objects.exists()


def test_it_allows_only_get_and_post(team, client_for):
    assert client_for(team.pm).put(url(team.pilot)).status_code == 405
    assert not AIVersion.objects.exists()
