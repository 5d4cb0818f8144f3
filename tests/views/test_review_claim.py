"""Claiming a waiting case (two reviewers never hold the same one; a claim lapses) and giving it back."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from exceptions.models import Escalation
from tests import factories
from tests.views.conftest import HTMX, actions
from tests.views.test_review_queue import arrive, ready


def claim_url(escalation) -> str:
    return reverse("review_claim", args=[escalation.pk])


def release_url(escalation) -> str:
    return reverse("review_release", args=[escalation.pk])


def holder(escalation):
    escalation = Escalation.objects.get(pk=escalation.pk)
    return escalation.claimed_by, escalation.claim_expires_at


def test_htmx_claims_the_case_and_refreshes_panel_and_list(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    response = client_for(team.reviewer).post(
        claim_url(escalation), {"queue": "reason=escalated"}, headers=HTMX
    )
    assert response.status_code == 200
    by, until = holder(escalation)
    assert by == team.reviewer and until > timezone.now() + timedelta(minutes=29)
    page = response.content.decode()
    assert "You hold case c1 until" in page
    assert 'id="review-case"' in page and "Extend my claim" in page
    # The list comes along out of band, with the filters it was opened with and the row marked as mine.
    assert 'id="queue-list" class="card queue-list" aria-live="polite" hx-swap-oob="true"' in page
    assert "<strong>you</strong>" in page and "?reason=escalated" in page
    assert actions(pilot=team.pilot).count("case.claimed") == 1


def test_without_htmx_it_claims_and_returns_to_the_case(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    response = client_for(team.owner).post(claim_url(escalation), {"queue": f"pilot={team.pilot.pk}"})
    assert response.status_code == 302
    assert response["Location"] == reverse("review_case", args=[escalation.pk]) + f"?pilot={team.pilot.pk}"
    assert holder(escalation)[0] == team.owner


def test_claiming_again_extends_my_claim(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    client = client_for(team.reviewer)
    client.post(claim_url(escalation), headers=HTMX)
    Escalation.objects.filter(pk=escalation.pk).update(claim_expires_at=timezone.now() + timedelta(minutes=2))
    assert client.post(claim_url(escalation), headers=HTMX).status_code == 200
    by, until = holder(escalation)
    assert by == team.reviewer and until > timezone.now() + timedelta(minutes=29)


def test_a_case_claimed_by_someone_else_is_refused_and_nothing_changes(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    client_for(team.owner).post(claim_url(escalation), headers=HTMX)
    before = holder(escalation)
    response = client_for(team.reviewer).post(claim_url(escalation), headers=HTMX)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Owner is working on this case" in page and "Nothing changed." in page
    assert holder(escalation) == before
    # Without htmx: back to the case with the message.
    response = client_for(team.reviewer).post(claim_url(escalation), follow=True)
    assert response.redirect_chain[-1][0] == reverse("review_case", args=[escalation.pk])
    assert "Owner is working on this case" in response.content.decode()
    assert holder(escalation) == before
    assert actions(pilot=team.pilot).count("case.claimed") == 1


def test_a_lapsed_claim_lets_another_reviewer_claim(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    Escalation.objects.filter(pk=escalation.pk).update(
        claimed_by=team.owner, claim_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert client_for(team.reviewer).post(claim_url(escalation), headers=HTMX).status_code == 200
    assert holder(escalation)[0] == team.reviewer


def test_a_decided_case_cannot_be_claimed(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    Escalation.objects.filter(pk=escalation.pk).update(decided_at=timezone.now())
    response = client_for(team.reviewer).post(claim_url(escalation), headers=HTMX)
    assert response.status_code == 409 and "decided already" in response.content.decode()
    assert holder(escalation)[0] is None


def test_giving_a_case_back(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    client = client_for(team.reviewer)
    client.post(claim_url(escalation), headers=HTMX)
    response = client.post(release_url(escalation), headers=HTMX)
    assert response.status_code == 200
    assert "Case c1 is back in the queue." in response.content.decode()
    assert holder(escalation) == (None, None)
    # Again: nothing to give back, nothing changes.
    response = client.post(release_url(escalation), headers=HTMX)
    assert response.status_code == 200 and "nothing changed" in response.content.decode()
    assert actions(pilot=team.pilot).count("case.released") == 1


def test_only_the_holder_can_give_it_back(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    client_for(team.owner).post(claim_url(escalation), headers=HTMX)
    response = client_for(team.reviewer).post(release_url(escalation))
    assert response.status_code == 302
    assert response["Location"] == reverse("review_queue", args=[team.workspace.slug])
    assert holder(escalation)[0] == team.owner


def test_they_are_a_404_for_an_outsider(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    assert client_for(team.outsider).post(claim_url(escalation)).status_code == 404
    assert client_for(team.outsider).post(release_url(escalation)).status_code == 404
    assert holder(escalation)[0] is None


def test_members_who_may_not_review_it_are_refused(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    for name in ("leader", "pm"):
        assert client_for(team.person(name)).post(claim_url(escalation)).status_code == 403, name
        assert client_for(team.person(name)).post(release_url(escalation)).status_code == 403, name
    team.pilot.reviewers.add(factories.member(team.workspace, "reviewer", username="named"))
    assert client_for(team.reviewer).post(claim_url(escalation)).status_code == 403
    assert holder(escalation)[0] is None


def test_they_allow_only_post(team, client_for):
    ready(team)
    (escalation,) = arrive(team, "c1")
    assert client_for(team.reviewer).get(claim_url(escalation)).status_code == 405
    assert client_for(team.reviewer).get(release_url(escalation)).status_code == 405
    assert holder(escalation)[0] is None
