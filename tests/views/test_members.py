"""The members page: adding, changing roles, reassigning and removing members."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from pilots.models import Membership, Pilot
from tests import factories
from tests.views.conftest import actions

User = get_user_model()
MEMBERS = reverse("members", args=["acme"])
ADD = reverse("member_add", args=["acme"])


def membership(team, user) -> Membership:
    return Membership.objects.get(workspace=team.workspace, user=user)


def roles_url(m: Membership) -> str:
    return reverse("member_roles", args=[m.workspace.slug, m.pk])


def remove_url(m: Membership) -> str:
    return reverse("member_remove", args=[m.workspace.slug, m.pk])


def reassign_url(m: Membership) -> str:
    return reverse("member_reassign", args=[m.workspace.slug, m.pk])


@pytest.fixture
def add(client_for, django_capture_on_commit_callbacks):
    """Post the add form as `user`, running the welcome email task (Celery is eager) after commit."""

    def post(user, **data):
        with django_capture_on_commit_callbacks(execute=True):
            return client_for(user).post(ADD, data)

    return post


# The members page


def test_the_admin_sees_every_member(team, client_for):
    response = client_for(team.admin).get(MEMBERS)
    assert response.status_code == 200
    assert {m.user.username for m in response.context["members"]} == {
        "admin",
        "pm",
        "owner",
        "reviewer",
        "leader",
    }
    assert "outsider" not in response.content.decode()


def test_the_members_page_requires_the_admin_role(team, client_for):
    for name in ("pm", "owner", "reviewer", "leader"):
        assert client_for(team.person(name)).get(MEMBERS).status_code == 403, name


def test_the_members_page_is_a_404_for_an_outsider(team, client_for):
    assert client_for(team.outsider).get(MEMBERS).status_code == 404


def test_the_members_page_requires_get(team, client_for):
    assert client_for(team.admin).post(MEMBERS).status_code == 405


# Adding


def test_the_admin_adds_an_existing_user_by_email(team, add):
    someone = factories.UserFactory(username="someone", email="Someone@Example.com")
    response = add(team.admin, email="someone@example.com", roles=["reviewer", "leader"])
    assert response.status_code == 302
    assert response.url == MEMBERS
    assert membership(team, someone).roles == {"reviewer", "leader"}
    assert actions(workspace=team.workspace) == ["member.added"]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["Someone@Example.com"]
    assert "Acme" in mail.outbox[0].subject
    assert "/accounts/reset/" not in mail.outbox[0].body
    assert "http://testserver/" in mail.outbox[0].body


def test_adding_a_new_email_creates_an_account_and_sends_a_set_password_link(team, add):
    response = add(team.admin, email="newbie@example.com", roles=["program_manager"])
    assert response.status_code == 302
    newbie = User.objects.get(email="newbie@example.com")
    assert not newbie.has_usable_password()
    assert membership(team, newbie).roles == {"program_manager"}
    [email] = mail.outbox
    assert email.to == ["newbie@example.com"]
    assert "/accounts/reset/" in email.body
    event = team.workspace.audit_events.get(action="member.added")
    assert event.after["new_account"] is True


def test_the_set_password_link_lets_the_new_member_sign_in(team, add):
    add(team.admin, email="newbie@example.com", roles=["reviewer"])
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    browser = Client()
    response = browser.get(link)
    assert response.status_code == 302  # Django swaps the token for a session and redirects
    form_url = response.url
    assert browser.get(form_url).context["validlink"] is True
    response = browser.post(
        form_url, {"new_password1": "a long Secret 4 claims", "new_password2": "a long Secret 4 claims"}
    )
    assert response.status_code == 302
    assert response.url == reverse("password_reset_complete")
    newbie = User.objects.get(email="newbie@example.com")
    assert newbie.check_password("a long Secret 4 claims")
    assert browser.login(username="newbie@example.com", password="a long Secret 4 claims")
    assert browser.get(reverse("workspace_home", args=["acme"])).status_code == 200
    # The link works once.
    assert Client().get(link, follow=True).context["validlink"] is False


def test_adding_someone_already_a_member_is_refused(team, add):
    response = add(team.admin, email=team.reviewer.email, roles=["leader"])
    assert response.status_code == 422
    assert "already a member" in response.content.decode()
    assert membership(team, team.reviewer).roles == {"reviewer"}
    assert actions(workspace=team.workspace) == []
    assert mail.outbox == []


def test_adding_the_same_person_twice_keeps_one_membership(team, add):
    assert add(team.admin, email="newbie@example.com", roles=["leader"]).status_code == 302
    assert add(team.admin, email="newbie@example.com", roles=["leader"]).status_code == 422
    assert Membership.objects.filter(user__email="newbie@example.com").count() == 1
    assert User.objects.filter(email="newbie@example.com").count() == 1
    assert actions(workspace=team.workspace) == ["member.added"]
    assert len(mail.outbox) == 1


def test_adding_needs_a_role_and_an_email(team, add):
    response = add(team.admin, email="newbie@example.com")
    assert response.status_code == 422
    assert "roles" in response.context["add_form"].errors
    response = add(team.admin, email="not-an-email", roles=["leader"])
    assert response.status_code == 422
    assert "email" in response.context["add_form"].errors
    assert not User.objects.filter(email="newbie@example.com").exists()


def test_adding_requires_the_admin_role(team, add):
    for name in ("pm", "owner", "reviewer", "leader"):
        assert add(team.person(name), email="newbie@example.com", roles=["admin"]).status_code == 403
    assert not User.objects.filter(email="newbie@example.com").exists()
    assert mail.outbox == []


def test_adding_is_a_404_for_an_outsider(team, add):
    response = add(team.outsider, email=team.outsider.email, roles=["admin"])
    assert response.status_code == 404
    assert not Membership.objects.filter(workspace=team.workspace, user=team.outsider).exists()
    assert actions(workspace=team.workspace) == []


def test_adding_requires_post(team, client_for):
    assert client_for(team.admin).get(ADD).status_code == 405


# Roles


def test_the_admin_changes_a_members_roles(team, client_for):
    m = membership(team, team.reviewer)
    response = client_for(team.admin).post(roles_url(m), {"roles": ["reviewer", "program_manager"]})
    assert response.status_code == 302
    m.refresh_from_db()
    assert m.roles == {"reviewer", "program_manager"}
    event = team.workspace.audit_events.get()
    assert event.action == "member.roles_changed"
    assert event.before == {"roles": ["reviewer"]}


def test_saving_the_same_roles_twice_writes_one_event(team, client_for):
    m = membership(team, team.reviewer)
    client = client_for(team.admin)
    client.post(roles_url(m), {"roles": ["leader"]})
    client.post(roles_url(m), {"roles": ["leader"]})
    assert actions(workspace=team.workspace) == ["member.roles_changed"]


def test_the_only_admin_cannot_lose_the_admin_role(team, client_for):
    m = membership(team, team.admin)
    response = client_for(team.admin).post(roles_url(m), {"roles": ["leader"]}, follow=True)
    assert "at least one admin" in response.content.decode()
    m.refresh_from_db()
    assert m.roles == {"admin"}
    assert actions(workspace=team.workspace) == []


def test_an_admin_can_step_down_once_someone_else_is_admin(team, client_for):
    factories.grant(team.leader, team.workspace, "admin")
    m = membership(team, team.admin)
    client_for(team.admin).post(roles_url(m), {"roles": ["leader"]})
    m.refresh_from_db()
    assert m.roles == {"leader"}


def test_a_program_manager_of_a_pilot_keeps_the_role_until_reassigned(team, client_for):
    m = membership(team, team.pm)
    response = client_for(team.admin).post(roles_url(m), {"roles": ["leader"]}, follow=True)
    assert "reassign them first" in response.content.decode()
    m.refresh_from_db()
    assert m.roles == {"program_manager"}


def test_a_member_keeps_at_least_one_role(team, client_for):
    m = membership(team, team.reviewer)
    response = client_for(team.admin).post(roles_url(m), {}, follow=True)
    assert "at least one role" in response.content.decode()
    m.refresh_from_db()
    assert m.roles == {"reviewer"}


def test_forged_roles_are_refused(team, client_for):
    m = membership(team, team.reviewer)
    client_for(team.admin).post(roles_url(m), {"roles": ["superuser"]})
    m.refresh_from_db()
    assert m.roles == {"reviewer"}


def test_changing_roles_requires_the_admin_role(team, client_for):
    m = membership(team, team.reviewer)
    for name in ("pm", "owner", "reviewer", "leader"):
        assert client_for(team.person(name)).post(roles_url(m), {"roles": ["admin"]}).status_code == 403
    m.refresh_from_db()
    assert m.roles == {"reviewer"}


def test_changing_roles_is_a_404_for_an_outsider(team, client_for):
    m = membership(team, team.reviewer)
    assert client_for(team.outsider).post(roles_url(m), {"roles": ["admin"]}).status_code == 404
    m.refresh_from_db()
    assert m.roles == {"reviewer"}


def test_a_membership_of_another_workspace_is_a_404(team, client_for):
    theirs = Membership.objects.get(workspace=team.other_workspace, user=team.outsider)
    url = reverse("member_roles", args=["acme", theirs.pk])
    assert client_for(team.admin).post(url, {"roles": ["leader"]}).status_code == 404
    theirs.refresh_from_db()
    assert "admin" in theirs.roles


def test_changing_roles_requires_post(team, client_for):
    assert client_for(team.admin).get(roles_url(membership(team, team.reviewer))).status_code == 405


# Removing and reassigning


def test_the_admin_removes_a_member(team, client_for):
    m = membership(team, team.leader)
    client = client_for(team.admin)
    assert client.get(remove_url(m)).status_code == 200
    response = client.post(remove_url(m))
    assert response.status_code == 302
    assert response.url == MEMBERS
    assert not Membership.objects.filter(pk=m.pk).exists()
    assert actions(workspace=team.workspace) == ["member.removed"]
    assert client.get(reverse("workspace_home", args=["acme"])).status_code == 200


def test_a_removed_member_loses_access(team, client_for):
    client_for(team.admin).post(remove_url(membership(team, team.reviewer)))
    assert client_for(team.reviewer).get(reverse("pilot_detail", args=[team.pilot.pk])).status_code == 404


def test_removing_twice_is_a_404_the_second_time(team, client_for):
    m = membership(team, team.leader)
    client = client_for(team.admin)
    client.post(remove_url(m))
    assert client.post(remove_url(m)).status_code == 404
    assert actions(workspace=team.workspace) == ["member.removed"]


def test_a_named_reviewer_is_taken_off_the_pilots_when_removed(team, client_for):
    team.pilot.reviewers.add(team.reviewer)
    client_for(team.admin).post(remove_url(membership(team, team.reviewer)))
    assert list(team.pilot.reviewers.all()) == []
    assert actions(workspace=team.workspace) == ["pilot.reviewer_removed", "member.removed"]


def test_a_program_manager_of_a_pilot_is_removed_only_after_reassigning(team, client_for):
    successor = factories.member(team.workspace, "program_manager", username="successor")
    m = membership(team, team.pm)
    client = client_for(team.admin)

    page = client.get(remove_url(m))
    assert page.status_code == 200
    assert team.pilot.name in page.content.decode()
    assert reassign_url(m) in page.content.decode()

    response = client.post(remove_url(m))
    assert response.status_code == 422
    assert "reassign them before removing" in response.content.decode()
    assert Membership.objects.filter(pk=m.pk).exists()
    assert actions(workspace=team.workspace) == []

    response = client.post(reassign_url(m), {"program_manager": successor.pk})
    assert response.status_code == 302
    assert response.url == remove_url(m)
    team.pilot.refresh_from_db()
    assert team.pilot.program_manager == successor
    assert actions(workspace=team.workspace) == ["pilot.reassigned"]

    response = client.post(remove_url(m))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=m.pk).exists()
    assert actions(workspace=team.workspace) == ["pilot.reassigned", "member.removed"]


def test_reassigning_the_workflow_owner_resets_accountability(team, client_for, accepted):
    successor = factories.member(team.workspace, "workflow_owner", username="successor")
    m = membership(team, team.owner)
    response = client_for(team.admin).post(reassign_url(m), {"workflow_owner": successor.pk})
    assert response.status_code == 302
    team.pilot.refresh_from_db()
    assert team.pilot.workflow_owner == successor
    assert team.pilot.accountability_accepted_by is None


def test_reassigning_needs_a_successor_with_the_role(team, client_for):
    m = membership(team, team.pm)
    client = client_for(team.admin)
    response = client.post(reassign_url(m), {})
    assert response.status_code == 422
    assert "Choose who takes over" in response.content.decode()
    response = client.post(reassign_url(m), {"program_manager": team.reviewer.pk})
    assert response.status_code == 422
    assert "program_manager" in response.context["form"].errors
    team.pilot.refresh_from_db()
    assert team.pilot.program_manager == team.pm
    assert actions(workspace=team.workspace) == []


def test_reassigning_twice_is_harmless(team, client_for):
    successor = factories.member(team.workspace, "program_manager", username="successor")
    m = membership(team, team.pm)
    client = client_for(team.admin)
    client.post(reassign_url(m), {"program_manager": successor.pk})
    response = client.post(reassign_url(m), {"program_manager": successor.pk})
    assert response.status_code == 302
    assert Pilot.objects.get(pk=team.pilot.pk).program_manager == successor
    assert actions(workspace=team.workspace) == ["pilot.reassigned"]


def test_the_only_admin_cannot_be_removed(team, client_for):
    m = membership(team, team.admin)
    response = client_for(team.admin).post(remove_url(m))
    assert response.status_code == 422
    assert "only admin" in response.content.decode()
    assert Membership.objects.filter(pk=m.pk).exists()
    assert actions(workspace=team.workspace) == []


def test_removing_and_reassigning_require_the_admin_role(team, client_for):
    m = membership(team, team.pm)
    leader = membership(team, team.leader)
    successor = factories.member(team.workspace, "program_manager", username="successor")
    for name in ("pm", "owner", "reviewer", "leader"):
        client = client_for(team.person(name))
        assert client.get(remove_url(leader)).status_code == 403, name
        assert client.post(remove_url(leader)).status_code == 403, name
        assert client.post(reassign_url(m), {"program_manager": successor.pk}).status_code == 403, name
    assert Membership.objects.filter(pk=leader.pk).exists()
    team.pilot.refresh_from_db()
    assert team.pilot.program_manager == team.pm
    assert actions(workspace=team.workspace) == []


def test_removing_and_reassigning_are_a_404_for_an_outsider(team, client_for):
    m = membership(team, team.pm)
    leader = membership(team, team.leader)
    client = client_for(team.outsider)
    assert client.get(remove_url(leader)).status_code == 404
    assert client.post(remove_url(leader)).status_code == 404
    assert client.post(reassign_url(m), {"program_manager": team.outsider.pk}).status_code == 404
    assert Membership.objects.filter(pk=leader.pk).exists()
    team.pilot.refresh_from_db()
    assert team.pilot.program_manager == team.pm


def test_removing_a_membership_of_another_workspace_is_a_404(team, client_for):
    theirs = Membership.objects.get(workspace=team.other_workspace, user=team.outsider)
    url = reverse("member_remove", args=["acme", theirs.pk])
    assert client_for(team.admin).post(url).status_code == 404
    assert Membership.objects.filter(pk=theirs.pk).exists()


def test_removing_requires_get_or_post_and_reassigning_requires_post(team, client_for):
    m = membership(team, team.pm)
    client = client_for(team.admin)
    assert client.put(remove_url(m)).status_code == 405
    assert client.get(reassign_url(m)).status_code == 405


def test_a_refused_role_change_answers_422_with_the_reason(team, client_for):
    # Views answer validation errors with 422 and the page, not a redirect.
    client = client_for(team.admin)
    for m, roles, reason in (
        (membership(team, team.admin), ["leader"], "at least one admin"),
        (membership(team, team.pm), ["leader"], "reassign them first"),
        (membership(team, team.reviewer), [], "at least one role"),
    ):
        response = client.post(roles_url(m), {"roles": roles})
        assert response.status_code == 422, reason
        assert reason in response.content.decode()
    assert actions(workspace=team.workspace) == []
