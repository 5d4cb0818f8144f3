from django.urls import reverse

from tests.views.conftest import actions

URL = reverse("workspace_edit", args=["acme"])
VALID = {"name": "Acme Europe", "timezone": "Europe/Paris", "currency": "GBP"}


def test_the_admin_sees_the_current_settings(team, client_for):
    response = client_for(team.admin).get(URL)
    assert response.status_code == 200
    assert response.context["form"].initial["timezone"] == "Europe/Berlin"


def test_the_admin_saves_the_settings(team, client_for):
    response = client_for(team.admin).post(URL, VALID)
    assert response.status_code == 302
    team.workspace.refresh_from_db()
    assert (team.workspace.name, team.workspace.timezone, team.workspace.currency) == (
        "Acme Europe",
        "Europe/Paris",
        "GBP",
    )
    assert actions(workspace=team.workspace) == ["workspace.updated"]


def test_a_forged_slug_is_ignored(team, client_for):
    client_for(team.admin).post(URL, {**VALID, "slug": "other"})
    team.workspace.refresh_from_db()
    assert team.workspace.slug == "acme"


def test_saving_the_same_settings_twice_writes_one_event(team, client_for):
    client = client_for(team.admin)
    client.post(URL, VALID)
    client.post(URL, VALID)
    assert actions(workspace=team.workspace) == ["workspace.updated"]


def test_it_refuses_an_unknown_timezone(team, client_for):
    response = client_for(team.admin).post(URL, {**VALID, "timezone": "Nowhere/Land"})
    assert response.status_code == 422
    assert "timezone" in response.context["form"].errors
    team.workspace.refresh_from_db()
    assert team.workspace.name == "Acme"
    assert actions(workspace=team.workspace) == []


def test_it_requires_the_admin_role(team, client_for):
    for name in ("pm", "owner", "reviewer", "leader"):
        client = client_for(team.person(name))
        assert client.get(URL).status_code == 403, name
        assert client.post(URL, VALID).status_code == 403, name
    team.workspace.refresh_from_db()
    assert team.workspace.name == "Acme"
    assert actions(workspace=team.workspace) == []


def test_it_is_a_404_for_an_outsider(team, client_for):
    response = client_for(team.outsider).post(URL, VALID)
    assert response.status_code == 404
    team.workspace.refresh_from_db()
    assert team.workspace.name == "Acme"
    assert actions(workspace=team.workspace) == []


def test_it_requires_get_or_post(team, client_for):
    assert client_for(team.admin).put(URL).status_code == 405
