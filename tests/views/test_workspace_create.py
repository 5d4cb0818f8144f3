from django.urls import reverse

from pilots.models import Membership, Workspace
from tests import factories
from tests.views.conftest import actions

URL = reverse("workspace_create")
VALID = {"name": "Globex Claims", "timezone": "Europe/Paris", "currency": "USD"}


def test_any_signed_in_user_sees_the_form(db, client_for):
    lonely = factories.UserFactory(username="lonely")
    response = client_for(lonely).get(URL)
    assert response.status_code == 200
    assert 'name="timezone"' in response.content.decode()


def test_it_creates_a_workspace_whose_creator_is_admin(db, client_for):
    lonely = factories.UserFactory(username="lonely")
    response = client_for(lonely).post(URL, VALID)
    workspace = Workspace.objects.get(name="Globex Claims")
    assert response.status_code == 302
    assert response.url == reverse("workspace_home", args=[workspace.slug])
    assert (workspace.slug, workspace.timezone, workspace.currency) == (
        "globex-claims",
        "Europe/Paris",
        "USD",
    )
    membership = Membership.objects.get(workspace=workspace)
    assert membership.user == lonely
    assert membership.roles == {"admin"}
    assert actions(workspace=workspace) == ["workspace.created", "member.added"]


def test_a_member_of_another_workspace_may_create_one_too(team, client_for):
    response = client_for(team.reviewer).post(URL, VALID)
    assert response.status_code == 302
    assert Membership.objects.get(workspace__name="Globex Claims").user == team.reviewer


def test_it_refuses_an_unknown_timezone(db, client_for):
    lonely = factories.UserFactory(username="lonely")
    response = client_for(lonely).post(URL, {**VALID, "timezone": "Mars/Olympus_Mons"})
    assert response.status_code == 422
    assert "timezone" in response.context["form"].errors
    assert "Mars/Olympus_Mons" in response.content.decode()
    assert not Workspace.objects.filter(name="Globex Claims").exists()


def test_it_refuses_a_currency_that_is_not_iso_4217(db, client_for):
    lonely = factories.UserFactory(username="lonely")
    response = client_for(lonely).post(URL, {**VALID, "currency": "XYZ"})
    assert response.status_code == 422
    assert "currency" in response.context["form"].errors
    assert not Workspace.objects.filter(name="Globex Claims").exists()


def test_it_refuses_an_empty_name(db, client_for):
    lonely = factories.UserFactory(username="lonely")
    response = client_for(lonely).post(URL, {**VALID, "name": "   "})
    assert response.status_code == 422
    assert "name" in response.context["form"].errors
    assert Workspace.objects.count() == 0


def test_a_forged_slug_is_ignored(team, client_for):
    response = client_for(team.outsider).post(URL, {**VALID, "name": "Acme", "slug": "acme"})
    assert response.status_code == 302
    created = Workspace.objects.exclude(pk=team.workspace.pk).get(name="Acme")
    assert created.slug != "acme"
    assert not Membership.objects.filter(workspace=team.workspace, user=team.outsider).exists()


def test_creating_the_same_name_twice_gives_two_workspaces_with_distinct_slugs(db, client_for):
    client = client_for(factories.UserFactory(username="lonely"))
    client.post(URL, VALID)
    client.post(URL, VALID)
    assert sorted(Workspace.objects.values_list("slug", flat=True)) == ["globex-claims", "globex-claims-2"]


def test_it_requires_get_or_post(db, client_for):
    client = client_for(factories.UserFactory(username="lonely"))
    assert client.put(URL).status_code == 405
    assert client.delete(URL).status_code == 405


def test_the_switcher_lists_the_users_workspaces_and_no_others(team, client_for):
    second = factories.WorkspaceFactory(name="Zeta Insurance", slug="zeta")
    factories.member(second, "leader", user=team.pm)
    factories.WorkspaceFactory(name="Hidden Corp", slug="hidden")
    response = client_for(team.pm).get(reverse("workspace_home", args=["acme"]))
    body = response.content.decode()
    switcher = body[body.index('class="switcher"') : body.index("</details>")]
    assert 'href="/w/acme/"' in switcher
    assert 'href="/w/zeta/"' in switcher
    assert "Zeta Insurance" in switcher
    assert "Hidden Corp" not in body
    assert 'href="/w/other/"' not in switcher


def test_an_empty_post_answers_422_with_the_missing_fields(db, client_for):
    response = client_for(factories.UserFactory(username="lonely")).post(URL, {})
    assert response.status_code == 422
    assert "name" in response.context["form"].errors
    assert Workspace.objects.count() == 0
