"""The root redirect and the login requirement."""

from django.test import Client
from django.urls import reverse

from tests import factories


def test_it_sends_a_user_without_workspace_to_creating_one(db, client_for):
    lonely = factories.UserFactory(username="lonely")
    response = client_for(lonely).get("/")
    assert response.status_code == 302
    assert response.url == reverse("workspace_create")


def test_it_sends_a_member_to_their_workspace(team, client_for):
    response = client_for(team.pm).get("/")
    assert response.status_code == 302
    assert response.url == reverse("workspace_home", args=["acme"])


def test_it_remembers_the_last_workspace_used(team, client_for):
    second = factories.WorkspaceFactory(name="Zeta", slug="zeta")
    factories.member(second, "leader", user=team.pm)
    client = client_for(team.pm)
    assert client.get(reverse("workspace_home", args=["zeta"])).status_code == 200
    response = client.get("/")
    assert response.url == reverse("workspace_home", args=["zeta"])


def test_root_requires_get(team, client_for):
    assert client_for(team.pm).post("/").status_code == 405


def test_anonymous_users_are_sent_to_the_login_page(team):
    client = Client()
    for url in (
        "/",
        reverse("workspace_home", args=["acme"]),
        reverse("pilot_list", args=["acme"]),
        reverse("pilot_detail", args=[team.pilot.pk]),
        reverse("workspace_create"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/accounts/login/"), url
        assert f"next={url}" in response.url.replace("%2F", "/"), url


def test_the_login_page_needs_no_login(db):
    assert Client().get(reverse("login")).status_code == 200


def test_a_member_who_only_reviews_lands_on_the_review_queue(team, client_for):
    response = client_for(team.reviewer).get("/")
    assert response.status_code == 302
    assert response.url == reverse("review_queue", args=["acme"])


def test_a_reviewer_with_other_roles_lands_on_the_workspace_home(team, client_for):
    factories.grant(team.reviewer, team.workspace, "leader")
    response = client_for(team.reviewer).get("/")
    assert response.url == reverse("workspace_home", args=["acme"])
